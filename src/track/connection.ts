import type { ConnState, Side, TcpState } from './states';

/** Options a side announced (in its SYN or SYN+ACK). null where not announced. */
export interface SideOptions {
  mss: number | null;
  wscale: number | null;
  sackPermitted: boolean;
  timestamps: boolean;
}

export interface EndpointView {
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

export interface ConnectionDetailView extends ConnectionView {
  events: import('../events/types').TcpEvent[];
  segments: LadderSegment[];
  /** Segments not kept in `segments` (between the first and the last ones kept). */
  segmentsOmitted: number;
  eventsOmitted: number;
}
