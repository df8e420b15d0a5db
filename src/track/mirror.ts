import type { Segment } from '../decode/segment';

/**
 * What the tracker asks of the Zeek mirror (zeek.ts): each segment once, with its time, and the
 * conn_state verdict; true from packet() means the verdict may have changed.
 */
export interface Mirror {
  packet(s: number, d: number, seg: Segment, tsMs: number): boolean;
  connState(s: number): number;
}
