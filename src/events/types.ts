import type { EventType } from '../track/events';

// The event union is the tracker's output (src/track/events.ts); the stages after it take it from
// here, with the version of its meaning that clients are told.
export type {
  AnomalyEvent,
  AnomalyKind,
  ConnectionEvent,
  EventRecord,
  EventRecordSink,
  EventSink,
  EventType,
  HandshakeEvent,
  RefusedEvent,
  ResetEvent,
  SegmentCause,
  StateEvent,
  TcpEvent,
  TeardownEvent,
} from '../track/events';

/** Bumped when an event's meaning changes; new fields alone do not bump it. */
export const EVENT_SCHEMA_VERSION = 1;

/** Every event type, checked against the union both ways: a type added to it must be named here. */
const ALL_TYPES = {
  state: true,
  handshake: true,
  teardown: true,
  reset: true,
  refused: true,
  anomaly: true,
  connection: true,
} as const satisfies Record<EventType, true>;
export const EVENT_TYPES = Object.keys(ALL_TYPES) as [EventType, ...EventType[]];
