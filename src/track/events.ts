import type { ConnectionView } from './connection';
import type { Side, TcpState } from './states';

// What the tracker emits, one union with one `type` field. It is the tracker's vocabulary, so the
// stages after it (events, server, sockets) take it from here; src/events/types.ts adds the schema
// version the wire carries.

interface Base {
  connectionId: string;
  /** Epoch milliseconds (fractional), the packet's timestamp. */
  ts: number;
}

export interface SegmentCause {
  flags: string;
  seq: number;
  ack: number;
  len: number;
}

export interface StateEvent extends Base {
  type: 'state';
  side: Side;
  from: TcpState;
  to: TcpState;
  /** The segment that caused it; null for timer-driven changes (TIME_WAIT expiry, idle timeout). */
  cause: SegmentCause | null;
}

export interface HandshakeEvent extends Base {
  type: 'handshake';
  phase: 'syn' | 'syn-ack' | 'established';
  rttMs?: number;
  synToSynAckMs?: number;
  synAckToAckMs?: number;
}

export interface TeardownEvent extends Base {
  type: 'teardown';
  phase: 'fin' | 'closed';
  side?: Side;
  kind: 'fin' | 'rst' | 'timeout';
}

export interface ResetEvent extends Base {
  type: 'reset';
  side: Side;
}

export interface RefusedEvent extends Base {
  type: 'refused';
}

export type AnomalyKind =
  | 'retransmission'
  | 'syn-retransmission'
  | 'out-of-order'
  | 'gap'
  | 'dup-ack'
  | 'zero-window'
  | 'keep-alive'
  | 'bad-ack'
  | 'bad-handshake-ack'
  | 'syn-fin'
  | 'syn-rst'
  | 'invalid-flags'
  | 'rst-out-of-window';

export interface AnomalyEvent extends Base {
  type: 'anomaly';
  kind: AnomalyKind;
  side: Side;
  detail?: string;
}

export interface ConnectionEvent extends Base {
  type: 'connection';
  phase: 'opened' | 'closed' | 'evicted';
  /** The connection as it stands after this event. */
  connection?: ConnectionView;
}

export type TcpEvent =
  | StateEvent
  | HandshakeEvent
  | TeardownEvent
  | ResetEvent
  | RefusedEvent
  | AnomalyEvent
  | ConnectionEvent;

export type EventType = TcpEvent['type'];
export type EventSink = (e: TcpEvent) => void;
