import type { Segment } from '../decode/segment';
import type { EventRecordSink, EventSink } from './events';
import type { ConnectionView, EndpointNotes } from './connection';
import type { ConnectionDetailView } from './detail';
import type { ConnectionSource, ConnFields } from './record';
import type { RecordPage, Selection } from './select';
import type { ConnState, Side, TcpState } from './states';
import type { ZeekRecord } from './zeek/lifetime';

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
  /**
   * Keep each connection's events for detail() (default). Off when only the connections
   * themselves are read (analyze): events then go to the sinks only, and none is stored.
   */
  eventLog: boolean;
  /**
   * When set, the Zeek mirror follows Zeek's connection lifetime and hands each conn.log record
   * here as Zeek would remove it; connState and history then describe the current Zeek record.
   */
  zeekRecords?: (r: ZeekRecord) => void;
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

/**
 * Which connections a walk of the table visits: those with the client or the server in one of
 * the states whose bits (1 << index in TCP_STATES) are set, refused ones, or with SYN retransmits.
 */
export interface RecordFilter {
  clientStates: number;
  serverStates: number;
  refused: boolean;
  synRetransmits: boolean;
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
  /**
   * Fills `into` with connection number `id`'s fields read from the table, no view built (for
   * readers of a few fields, off the packet path); false, `into` untouched, if it is not tracked.
   */
  fields(id: number, into: ConnFields): boolean;
  /**
   * Every tracked connection, oldest first, read from the table through one cursor (valid only
   * during the call; the table must not change meanwhile): list() without a view of each.
   */
  eachRecord(visit: (c: ConnectionSource) => void): void;
  /** eachRecord for the connections `only` lets through, the others told apart by a few numbers of the table, not read. */
  eachRecordOf(only: RecordFilter, visit: (c: ConnectionSource) => void): void;
  /** One page of a list query, in creation order, with how many connections match in all. */
  select(q: Selection): { connections: ConnectionView[]; total: number; more: boolean };
  /** The same page, read from the table through a cursor rather than as views (for writers of fields). */
  selectRecords(q: Selection): RecordPage;
  /**
   * Keeps indexes for list queries from now on (a server calls it; costs every new connection and
   * state change a little); a query is walked from its shortest list when that holds at most
   * `walkUpTo` of the table (default 0.5), scanned otherwise.
   */
  enableQueryIndex?(walkUpTo?: number): void;
  /** At most `limit` connections matching `keep`, open ones first, then the newest; in creation order. */
  snapshot(limit: number, keep?: ((c: ConnectionView) => boolean) | null): { connections: ConnectionView[]; total: number };
  stats(): TrackerStats;
  /** Each event as an object, for a consumer that keeps it. */
  onEvent(sink: EventSink): void;
  /** Each event read in place, valid only during the call (no object built unless asked for). */
  onEventRecord(sink: EventRecordSink): void;
  /** Each connection as it leaves the table (retention over, evicted, removeAll). */
  onRemove(sink: (c: ConnectionView) => void): void;
  /** Removes every connection (at most `max`), oldest first, through the remove sinks. */
  removeAll(max?: number): number;
  /** Flags every open connection as spanning a hole in the capture; returns how many. */
  markCaptureGap(): number;
  /**
   * Adds what is known of an endpoint from outside the packets; false if id is not tracked. The
   * note stored is frozen (`fields` itself when the side had no note yet), and so are the objects
   * in it (an owner, a kernel reading), in place: they are handed over, and a changed note is given
   * as a new object. Writers keep a note's text by object (server/json.ts) on that rule.
   */
  annotate(id: string, side: Side, fields: Readonly<EndpointNotes>): boolean;
}
