// The event union is the tracker's output (src/track/events.ts); the stages after it take it from
// here, with the version of its meaning that clients are told.
export type {
  AnomalyEvent,
  AnomalyKind,
  ConnectionEvent,
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
