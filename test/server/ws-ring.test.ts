// The event ring's byte store: texts across chunk boundaries, chunks taken back when the ring holds
// more text than it may, and runs copied out as the batch they make.
import { describe, expect, it } from 'vitest';
import { eventJson } from '../../src/events/encode';
import { ObjectRecord } from '../../src/events/object-record';
import type { TcpEvent } from '../../src/events/types';
import { EventRing } from '../../src/server/ws-ring';

const anomaly = (i: number, pad: number): TcpEvent => ({
  type: 'anomaly', connectionId: `c${i}`, ts: i + 0.5, kind: 'gap', side: i % 2 ? 'client' : 'server', detail: 'é'.repeat(pad),
});

function batch(ring: EventRing, seqs: number[]): string {
  const size = seqs.reduce((n, s) => n + ring.size(s) + 1, 0);
  const out = Buffer.alloc(size + 1);
  out[0] = 0x5b;
  let off = 1;
  // consecutive numbers as runs, the others one by one
  let k = 0;
  while (k < seqs.length) {
    let j = k;
    while (j + 1 < seqs.length && seqs[j + 1] === seqs[j] + 1) j++;
    off = ring.copyRun(seqs[k], seqs[j], out, off, k > 0);
    k = j + 1;
  }
  out[off++] = 0x5d;
  return out.subarray(0, off).toString('utf8');
}

/** An event object as the ring is handed events: a record of it. */
const rec = (e: TcpEvent) => new ObjectRecord().of(e);

describe('EventRing', () => {
  it('gives back every held event’s text, in runs and one by one, across chunks', () => {
    const ring = new EventRing(10_000, 8 << 20);
    const events: TcpEvent[] = [];
    // ~3.3 MiB of text: several 1 MiB chunks, texts of many sizes, non-ASCII (two bytes a character)
    for (let i = 1; i <= 1500; i++) {
      const e = anomaly(i, (i * 37) % 2000);
      events.push(e);
      ring.push(i, rec(e));
    }
    expect(ring.oldest).toBe(1);
    const all = Array.from({ length: 1500 }, (_, i) => i + 1);
    expect(JSON.parse(batch(ring, all))).toEqual(events);
    expect(batch(ring, all)).toBe(`[${events.map(eventJson).join(',')}]`);
    const some = all.filter((s) => s % 3 !== 0);
    expect(JSON.parse(batch(ring, some))).toEqual(some.map((s) => events[s - 1]));
    expect(ring.type(7)).toBe('anomaly');
  });

  it('takes the oldest chunk back when it holds more text than allowed: those events are no longer held', () => {
    const ring = new EventRing(100_000, 2 << 20);
    let seq = 0;
    // 10 KB events: ~100 a chunk; 400 of them need 4 chunks, the ring keeps 2
    while (seq < 400) ring.push(++seq, rec(anomaly(seq, 5000)));
    expect(ring.has(1)).toBe(false);
    expect(ring.has(400)).toBe(true);
    const oldest = ring.oldest;
    expect(oldest).toBeGreaterThan(150);
    expect(oldest).toBeLessThan(300);
    const held = Array.from({ length: 400 - oldest + 1 }, (_, i) => oldest + i);
    expect(JSON.parse(batch(ring, held)).map((e: TcpEvent) => e.connectionId)).toEqual(held.map((s) => `c${s}`));
  });

  it('reuses released chunks without disturbing what is still held, and keeps ids only when asked', () => {
    const ring = new EventRing(1_000, 64 << 20);
    let seq = 0;
    for (let round = 0; round < 6; round++) {
      ring.keepIds = round % 2 === 1;
      const first = seq + 1;
      while (seq < first + 299) ring.push(++seq, rec(anomaly(seq, 5000)));
      const held = Array.from({ length: 300 }, (_, i) => first + i);
      expect(JSON.parse(batch(ring, held)).map((e: TcpEvent) => e.connectionId)).toEqual(held.map((s) => `c${s}`));
      expect(ring.connectionId(seq)).toBe(ring.keepIds ? `c${seq}` : undefined);
      ring.releaseBefore(seq + 1);
      expect(ring.has(seq)).toBe(false);
    }
    // what a ring of 1 000 events keeps: the last 1 000
    while (seq < 5000) ring.push(++seq, rec(anomaly(seq, 10)));
    expect(ring.oldest).toBe(4001);
  });
});
