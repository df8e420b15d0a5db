import { describe, expect, it } from 'vitest';
import type { Frame } from '../../src/capture/frame';
import { frameTimeMs } from '../../src/capture/frame';
import { captureClockMs, stampNow } from '../../src/capture/live-clock';

const blank = (): Frame => ({ tsSec: 0, tsNsec: 0, linkType: 1, data: Buffer.alloc(0), capLen: 0, origLen: 0 });

describe('live frame clock', () => {
  it('is epoch time: agrees with Date.now() to a few ms', () => {
    const f = blank();
    const before = Date.now();
    stampNow(f);
    const after = Date.now();
    expect(frameTimeMs(f)).toBeGreaterThan(before - 3);
    expect(frameTimeMs(f)).toBeLessThan(after + 3);
  });

  it('never goes backwards, in whole microseconds, nanoseconds always within the second', () => {
    const f = blank();
    let prevSec = 0;
    let prevNsec = 0;
    let distinct = 0;
    for (let i = 0; i < 200_000; i++) {
      stampNow(f);
      expect(f.tsNsec >= 0 && f.tsNsec < 1e9 && f.tsNsec % 1000 === 0 && Number.isInteger(f.tsSec)).toBe(true);
      const forward = f.tsSec > prevSec || (f.tsSec === prevSec && f.tsNsec >= prevNsec);
      if (!forward) expect({ sec: f.tsSec, nsec: f.tsNsec }).toEqual({ sec: prevSec, nsec: prevNsec });
      if (f.tsSec !== prevSec || f.tsNsec !== prevNsec) distinct++;
      prevSec = f.tsSec;
      prevNsec = f.tsNsec;
    }
    // Microsecond resolution: a tight loop sees many different stamps, not a few per millisecond.
    expect(distinct).toBeGreaterThan(1000);
  });

  it('captureClockMs runs on the same clock as the stamps', () => {
    const f = blank();
    const a = captureClockMs();
    stampNow(f);
    const b = captureClockMs();
    expect(frameTimeMs(f)).toBeGreaterThanOrEqual(a - 0.001);
    expect(frameTimeMs(f)).toBeLessThanOrEqual(b + 0.001);
  });
});
