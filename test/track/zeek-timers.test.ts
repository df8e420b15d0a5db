import { describe, expect, it } from 'vitest';
import { ZeekTimerQueue } from '../../src/track/zeek/timers';
import { rng } from './helpers';

describe("the queue of Zeek's timers", () => {
  it('gives entries back by time, ties in the order they were set, however they were set', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const r = rng(seed);
      const q = new ZeekTimerQueue();
      const want: Array<[number, number]> = [];
      let now = 0;
      let slot = 0;
      for (let step = 0; step < 5000; step++) {
        now += Math.floor(r() * 3);
        if (r() < 0.6) {
          // mostly now + a constant, as Zeek's timers are; sometimes anything
          const time = r() < 0.8 ? now + [5_000, 6_000, 300_000][Math.floor(r() * 3)] : Math.floor(r() * 400_000);
          q.push(time, slot, 0);
          want.push([time, slot++]);
        } else if (q.size > 0) {
          q.pop();
          want.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
          const [time, s] = want.shift()!;
          expect([q.topTime, q.topSlot]).toEqual([time, s]);
        }
        expect(q.size).toBe(want.length);
        expect(q.next).toBe(want.length === 0 ? Infinity : Math.min(...want.map((w) => w[0])));
      }
    }
  });
});
