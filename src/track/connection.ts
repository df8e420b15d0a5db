import type { ConnState, Side, TcpState } from './states';

/** Options a side announced (in its SYN or SYN+ACK). null where not announced. */
export interface SideOptions {
  mss: number | null;
  wscale: number | null;
  sackPermitted: boolean;
  timestamps: boolean;
}

/** Why an endpoint has no owner. */
export const OWNER_REASONS = ['not-local', 'no-permission', 'gone', 'not-listening'] as const;
export type OwnerReason = (typeof OWNER_REASONS)[number];

/** The process that holds an endpoint's socket (live: the kernel's tables; replay: pcapng comments). */
export interface EndpointProcess {
  pid: number;
  command: string;
  cmdline: string;
  user: string | null;
  netns: number | null;
  /** The fd that holds the socket in that process; null when known only through its listener or a capture comment. */
  fd: number | null;
  /** How it was learned: the endpoint's own socket, the listening socket of its port, or a pcapng comment. */
  via: 'socket' | 'listener' | 'comment';
  /** The socket has no owner any more (TIME_WAIT, or closed): this was its last one. */
  lastOwner?: true;
  /** Other processes holding the same socket (a prefork server's listener). */
  alsoHeldBy?: number[];
}

/** The kernel's own view of a local endpoint, compared with the state inferred from packets. */
export interface KernelEndpoint {
  /** The kernel's state; 'GONE' when it no longer has the socket. */
  state: TcpState | 'GONE';
  /** Whether it matches the inferred state (settled endpoints only). */
  agrees: boolean;
  /** Wall clock (epoch ms) of the kernel reading. */
  at: number;
  rxQueue: number;
  txQueue: number;
  /** tcp_info: the kernel's smoothed RTT (ms), retransmits, congestion window. */
  srttMs: number | null;
  retransTotal: number | null;
  cwnd: number | null;
}

/** What is known of an endpoint from outside the packets. Absent fields were never looked up. */
export interface EndpointNotes {
  process?: EndpointProcess | null;
  processReason?: OwnerReason;
  kernel?: KernelEndpoint;
}

export interface EndpointView extends EndpointNotes {
  ip: string;
  port: number;
  state: TcpState;
}

/** The Connection object of the REST API and WebSocket stream (shared/design/interface.md). */
export interface ConnectionView {
  id: string;
  family: 4 | 6;
  client: EndpointView;
  server: EndpointView;
  status: 'open' | 'closed';
  connState: ConnState;
  history: string;
  partial: boolean;
  /** Open while live capture had a hole (a capture fault): some of its packets may be missing. */
  captureGap: boolean;
  /** True when roles were guessed (no SYN seen), not learned from the handshake. */
  rolesGuessed: boolean;
  startedAt: number;
  endedAt: number | null;
  lastSeenAt: number;
  handshake: {
    synAt: number | null;
    synAckAt: number | null;
    ackAt: number | null;
    /** SYN → final ACK, as seen by the observer. */
    rttMs: number | null;
    /** SYN → SYN+ACK (the server's part). */
    synToSynAckMs: number | null;
    /** SYN+ACK → ACK (the client's part). */
    synAckToAckMs: number | null;
  };
  closedBy: Side | 'both' | null;
  closeKind: 'fin' | 'rst' | 'timeout' | 'refused' | null;
  counts: {
    client: { packets: number; bytes: number };
    server: { packets: number; bytes: number };
  };
  options: { client: SideOptions; server: SideOptions };
  synRetransmits: number;
  anomalies: number;
  /** Bytes the capture missed (sequence gaps), as Zeek's missed_bytes. */
  missedBytes: number;
}

/** One packet of the ladder diagram. Headers only, never payload. */
export interface LadderSegment {
  ts: number;
  from: Side;
  /** 'S', 'SA', 'A', 'PA', 'FA', 'R', 'RA', … */
  flags: string;
  seq: number;
  ack: number;
  relSeq: number;
  relAck: number;
  len: number;
  win: number;
}
