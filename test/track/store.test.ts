// The connection store hands out slots that never held a connection without clearing them (the
// values were filled in when the store grew); a reused slot is cleared field by field. Both must
// read the same, for every field.
import { describe, expect, it } from 'vitest';
import { ConnStore, FIELDS } from '../../src/track/store';

type Arrays = Record<string, Float64Array | Int32Array | Uint32Array | Uint16Array | Uint8Array | Int8Array>;

/** Every per-slot array of the store, with its elements per slot. */
function fields(st: ConnStore): [string, number][] {
  const out: [string, number][] = [];
  for (const [name, v] of Object.entries(st)) {
    if (!ArrayBuffer.isView(v) || name === 'addrW') continue;
    out.push([name, (v as Uint8Array).length / st.cap]);
  }
  return out;
}

function slotValues(st: ConnStore, s: number): Record<string, number[]> {
  const arrays = st as unknown as Arrays;
  const out: Record<string, number[]> = {};
  for (const [name, per] of fields(st)) out[name] = Array.from(arrays[name].subarray(s * per, (s + 1) * per));
  return out;
}

describe('ConnStore', () => {
  it('a reused slot reads exactly like one never used, across growth', () => {
    const st = new ConnStore(4, 1000);
    const arrays = st as unknown as Arrays;
    const slots: number[] = [];
    for (let i = 0; i < 50; i++) slots.push(st.alloc());
    expect(st.cap).toBeGreaterThanOrEqual(50);
    const fresh = slotValues(st, slots[49]);
    expect(fields(st).length).toBeGreaterThan(60);
    // scribble over some slots, as connections do, and give them back
    for (const s of slots.slice(0, 20)) {
      for (const [name, per] of fields(st)) {
        for (let k = 0; k < per; k++) arrays[name][s * per + k] = (s * 7 + k + 3) % 100;
      }
      st.free(s);
    }
    for (let i = 0; i < 20; i++) {
      const s = st.alloc();
      expect(slots.slice(0, 20)).toContain(s);
      const got = slotValues(st, s);
      // history letters past histLen are never read, so clearing leaves them
      for (const name of Object.keys(fresh)) {
        if (name === 'hist') continue;
        expect([name, got[name]]).toEqual([name, fresh[name]]);
      }
    }
    // and slots handed out after further growth read the same too
    const later: number[] = [];
    for (let i = 0; i < 100; i++) later.push(st.alloc());
    const last = slotValues(st, later[later.length - 1]);
    for (const name of Object.keys(fresh)) expect([name, last[name]]).toEqual([name, fresh[name]]);
  });

  it('a slot handed out holds the cleared values the field list declares', () => {
    const st = new ConnStore(4, 1000);
    const slots: number[] = [];
    for (let i = 0; i < 50; i++) slots.push(st.alloc()); // across growth
    for (const s of [slots[0], slots[3], slots[4], slots[49]]) {
      const got = slotValues(st, s);
      expect(Object.keys(got).sort()).toEqual(FIELDS.map(([name]) => name).sort());
      for (const [name, , per, cleared] of FIELDS) expect([name, got[name]]).toEqual([name, Array(per).fill(cleared)]);
    }
  });
});
