import { SKIP_CODES, type DecodeStatus } from './segment';
import { DECODE_STATUSES, STATUS_INDEX } from './status';

const SKIP_SLOT: readonly boolean[] = DECODE_STATUSES.map((s) => SKIP_CODES.has(s));

/** Frames counted by decode outcome: one array slot per code, the object only built on request. */
export class DecodeCounters {
  private readonly slots = new Float64Array(DECODE_STATUSES.length);
  frames = 0;
  ok = 0;
  /** Frames that were fine but not trackable TCP (SKIP_CODES). */
  skipped = 0;
  /** Damaged frames (every other non-ok code). */
  errors = 0;

  count(s: DecodeStatus): void {
    this.frames++;
    // Nearly every frame is 'ok': settle it with one comparison of interned strings.
    if (s === 'ok') {
      this.ok++;
      this.slots[0]++;
      return;
    }
    const i = STATUS_INDEX[s];
    this.slots[i]++;
    if (SKIP_SLOT[i]) this.skipped++;
    else this.errors++;
  }

  /** Every code, 'ok' included, with its count (zeros too, so the set of keys never changes). */
  byCode(): Record<string, number> {
    const out: Record<string, number> = {};
    for (let i = 0; i < DECODE_STATUSES.length; i++) out[DECODE_STATUSES[i]] = this.slots[i];
    return out;
  }

  reset(): void {
    this.slots.fill(0);
    this.frames = this.ok = this.skipped = this.errors = 0;
  }
}
