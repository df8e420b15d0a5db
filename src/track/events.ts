import type { ConnectionView } from './connection';
import type { Side, TcpState } from './states';

// What the tracker emits, one union with one `type` field. It is the tracker's vocabulary, so the
// stages after it (events, server, sockets) take it from here; src/events/types.ts adds the schema
// version the wire carries.

/** The phases and kinds events carry, each list the one declaration of its names. */
export const HS_PHASES = ['syn', 'syn-ack', 'established'] as const;
export const TD_PHASES = ['fin', 'closed'] as const;
export const TD_KINDS = ['fin', 'rst', 'timeout'] as const;
export const CONN_PHASES = ['opened', 'closed', 'evicted'] as const;

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
  phase: (typeof HS_PHASES)[number];
  rttMs?: number;
  synToSynAckMs?: number;
  synAckToAckMs?: number;
}

export interface TeardownEvent extends Base {
  type: 'teardown';
  phase: (typeof TD_PHASES)[number];
  side?: Side;
  kind: (typeof TD_KINDS)[number];
}

export interface ResetEvent extends Base {
  type: 'reset';
  side: Side;
}

export interface RefusedEvent extends Base {
  type: 'refused';
}

/** The anomalies the tracker names, in the order their numbers are packed into event words. */
export const ANOMALY_KINDS = [
  'retransmission',
  'syn-retransmission',
  'out-of-order',
  'gap',
  'dup-ack',
  'zero-window',
  'keep-alive',
  'bad-ack',
  'bad-handshake-ack',
  'syn-fin',
  'syn-rst',
  'invalid-flags',
  'rst-out-of-window',
] as const;
export type AnomalyKind = (typeof ANOMALY_KINDS)[number];

export interface AnomalyEvent extends Base {
  type: 'anomaly';
  kind: AnomalyKind;
  side: Side;
  detail?: string;
}

export interface ConnectionEvent extends Base {
  type: 'connection';
  phase: (typeof CONN_PHASES)[number];
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
