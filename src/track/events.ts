import type { ConnectionView } from './connection';
import type { ConnFields } from './record';
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

/**
 * One event read where the tracker keeps it (record.ts EventCursor): the values of the TcpEvent it
 * stands for, field by field, with no object built. A field the event's type does not have is
 * undefined. Valid only during the call that hands it over: a consumer that keeps the event (or
 * wants the object) asks for it with event().
 */
export interface EventRecord {
  readonly type: EventType;
  /** The id's text, made when asked. */
  readonly connectionId: string;
  /** The id as a whole number when connectionId is its decimal text (the tracker's ids), else -1. */
  readonly idNumber: number;
  readonly ts: number;
  /** A state, reset or anomaly event's side, and a teardown's when it has one. */
  readonly side: Side | undefined;
  /** A state event's states. */
  readonly from: TcpState | undefined;
  readonly to: TcpState | undefined;
  /** A handshake's, a teardown's or a connection event's phase. */
  readonly phase: HandshakeEvent['phase'] | TeardownEvent['phase'] | ConnectionEvent['phase'] | undefined;
  /** A teardown's or an anomaly's kind. */
  readonly kind: TeardownEvent['kind'] | AnomalyKind | undefined;
  /** A state event's cause (the segment): whether it has one, then its flag letters and numbers. */
  readonly hasCause: boolean;
  readonly causeFlags: string;
  readonly causeSeq: number;
  readonly causeAck: number;
  readonly causeLen: number;
  /** A handshake event's times, where its object has them. */
  readonly rttMs: number | undefined;
  readonly synToSynAckMs: number | undefined;
  readonly synAckToAckMs: number | undefined;
  /** An anomaly's detail, where it has one. */
  readonly detail: string | undefined;
  /** A connection event's connection as it stands after the event, as its fields; null for the others. */
  connection(): ConnFields | null;
  /** The event as an object (the same one for every call while the record stands on it). */
  event(): TcpEvent;
}

/** What a sink of records is handed: the event in place, as a record (valid during the call). */
export type EventRecordSink = (e: EventRecord) => void;

/** How the tracker hands an event to its sinks: the connection's slot, the event's word and its cause. */
export type WordSink = (s: number, word: number, ref: number) => void;
