import type { Segment } from '../decode/segment';
import type { EventSink } from '../events/types';
import type { ConnectionDetailView, ConnectionView, EndpointNotes } from './connection';
import type { ConnState, Side, TcpState } from './states';

/** Idle timeouts in milliseconds by the state the connection is in (Linux conntrack-like defaults). */
export interface IdleTimeouts {
  synSent: number; // SYN seen, no SYN+ACK
  synReceived: number; // SYN+ACK seen, no final ACK
  established: number;
  finWait: number; // FIN_WAIT_1/2, CLOSING
  closeWait: number;
  lastAck: number;
  /** How long a closed connection stays in the table (queryable) before it is dropped. */
  closedRetention: number;
}

export interface TrackerOptions {
  /** Maximum segment lifetime; TIME_WAIT lasts 2×MSL. */
  mslMs: number;
  /** Hard cap on tracked connections (open and closed still retained). */
  maxConnections: number;
  timeouts: IdleTimeouts;
  /** Ladder segments kept per connection: the first `ladderHead` and the last `ladderTail`. */
  ladderHead: number;
  ladderTail: number;
  /** Non-state events kept per connection (state events are always kept). */
  maxEventsPerConn: number;
}

export interface TrackerStats {
  packets: number;
  bytes: number;
  open: number;
  closed: number;
  tracked: number;
  connectionsTotal: number;
  handshakesCompleted: number;
  resets: number;
  refused: number;
  evictions: number;
  halfOpen: number;
  byClientState: Record<TcpState, number>;
  byServerState: Record<TcpState, number>;
  byConnState: Record<ConnState, number>;
  anomalies: Record<string, number>;
}

export interface TrackerApi {
  /** Feed one decoded segment seen at `tsMs` (epoch ms). Emits events synchronously. */
  process(seg: Segment, tsMs: number): void;
  /** Advance timers (TIME_WAIT expiry, idle timeouts, retention) to `nowMs`. */
  expire(nowMs: number): void;
  get(id: string): ConnectionView | undefined;
  detail(id: string): ConnectionDetailView | undefined;
  /** All tracked connections, oldest first. */
  list(): ConnectionView[];
  stats(): TrackerStats;
  onEvent(sink: EventSink): void;
  /** Adds what is known of an endpoint from outside the packets; false if id is not tracked. */
  annotate(id: string, side: Side, fields: EndpointNotes): boolean;
}
