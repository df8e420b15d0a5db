import type { EventBus } from '../events/bus';

/**
 * The handshake RTTs of the most recent handshakes, for percentiles in /api/stats. A fixed ring, so
 * memory does not grow with traffic; percentiles describe recent behaviour, as a dashboard wants.
 */
export class RttWindow {
  private readonly ring: Float64Array;
  private n = 0;
  private head = 0;
  total = 0;

  constructor(readonly capacity = 10_000, bus?: EventBus) {
    this.ring = new Float64Array(capacity);
    bus?.subscribe((_s, e) => {
      if (e.type === 'handshake' && e.phase === 'established' && typeof e.rttMs === 'number') this.add(e.rttMs);
    });
  }

  add(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) return;
    this.ring[this.head] = ms;
    this.head = (this.head + 1) % this.capacity;
    if (this.n < this.capacity) this.n++;
    this.total++;
  }

  /** Nearest-rank percentiles (ms); null when no handshake was seen. */
  percentiles(ps: readonly number[]): (number | null)[] {
    if (this.n === 0) return ps.map(() => null);
    const sorted = this.ring.slice(0, this.n).sort();
    return ps.map((p) => sorted[Math.min(this.n - 1, Math.max(0, Math.ceil((p / 100) * this.n) - 1))]);
  }

  get samples(): number {
    return this.n;
  }
}
