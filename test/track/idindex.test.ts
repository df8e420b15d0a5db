// The id index answers like a Map from id to slot, for ids added one after another, dropped in any
// order, some living on long after many newer ones (from the ring into the hash table and out).
import { describe, expect, it } from 'vitest';
import { IdIndex } from '../../src/track/idindex';
import { rng } from './helpers';

describe('IdIndex', () => {
  it('agrees with a Map through adds, drops and lookups over many ring turns', () => {
    const r = rng(42);
    const ix = new IdIndex();
    const ref = new Map<number, number>();
    const live: number[] = [];
    let slot = 0;
    for (let id = 1; id <= 450_000; id++) {
      ix.add(id, slot);
      ref.set(id, slot);
      live.push(id);
      slot = (slot + 7) % 1_000_003;
      // most connections go soon, in any order; some stay for a long time
      if (live.length > 2000 || r() < 0.3) {
        const k = Math.floor(r() * live.length);
        const gone = live[k];
        if (r() < 0.999 || gone % 1000 !== 0) {
          live[k] = live[live.length - 1];
          live.pop();
          ix.delete(gone);
          ref.delete(gone);
        }
      }
      if (id % 997 === 0) {
        for (let j = 0; j < 20; j++) {
          const q = 1 + Math.floor(r() * id);
          expect([q, ix.get(q)]).toEqual([q, ref.get(q) ?? -1]);
        }
      }
    }
    for (const [id, s] of ref) expect([id, ix.get(id)]).toEqual([id, s]);
    expect(ix.get(0)).toBe(-1);
    expect(ix.get(-1)).toBe(-1);
    expect(ix.get(450_001)).toBe(-1);
  });

  it('keeps ids that outlive the ring, however many of them', () => {
    const ix = new IdIndex();
    for (let id = 1; id <= 600_000; id++) ix.add(id, id * 3);
    for (let id = 1; id <= 600_000; id += 1013) expect(ix.get(id)).toBe(id * 3);
    for (let id = 1; id <= 600_000; id += 2) ix.delete(id);
    for (let id = 1; id <= 600_000; id += 1013) expect(ix.get(id)).toBe(id % 2 === 1 ? -1 : id * 3);
  });
});
