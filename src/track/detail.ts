import type { ConnectionView, LadderSegment } from './connection';
import type { TcpEvent } from './events';

/**
 * One connection with its events and ladder, as `detail()` gives it. Kept apart from connection.ts
 * because an event names its connection (ConnectionView) while this names its events: each of the
 * two files then imports only the other way round.
 */
export interface ConnectionDetailView extends ConnectionView {
  events: TcpEvent[];
  segments: LadderSegment[];
  /** Segments not kept in `segments` (between the first and the last ones kept). */
  segmentsOmitted: number;
  eventsOmitted: number;
}
