import type { Segment } from '../decode/segment';

/**
 * What the tracker asks of the Zeek mirror (zeek.ts): each segment once, with its time, the
 * conn_state verdict, and the end of a slot; true from packet() means the verdict may have changed.
 */
export interface Mirror {
  packet(s: number, d: number, seg: Segment, tsMs: number): boolean;
  connState(s: number): number;
  /** Slot s leaves the table: the mirror forgets it (and, keeping Zeek's lifetime, ends its record). */
  release(s: number): void;
  /**
   * Slot s gave its 4-tuple to a new connection, whose first segment comes next (keeping Zeek's
   * lifetime, that segment may end s's record: Zeek's IsReuse).
   */
  superseded(s: number): void;
}
