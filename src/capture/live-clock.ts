import { performance } from 'node:perf_hooks';
import type { Frame } from './frame';

// `cap` hands packets over without libpcap's timestamp, so live frames are stamped on arrival, on
// the monotonic clock anchored once to the epoch.
//
// The per-packet read is process.hrtime(), not performance.now(): in Node 20 performance.now() is
// a native call whose double result is boxed on every call (one heap number per packet), while
// hrtime() reads a shared typed array and, once optimized, its two-element result array is removed
// by escape analysis, so stamping allocates nothing. Both read the same clock (uv_hrtime), so the
// anchor below ties one to the other exactly.

/** Epoch time minus hrtime, as whole seconds and nanoseconds (0 <= OFFSET_NS < 1e9). */
const { OFFSET_SEC, OFFSET_NS } = anchor();

function anchor(): { OFFSET_SEC: number; OFFSET_NS: number } {
  // performance.timeOrigin is epoch time (to the microsecond) when hrtime's clock read
  // "timeOrigin"; now() is the distance from there. Keeping the millisecond remainder apart from
  // whole seconds keeps the sums small and exact to well under a microsecond.
  const originMs = performance.timeOrigin;
  const originSec = Math.floor(originMs / 1000);
  const before = process.hrtime();
  const remMs = originMs - originSec * 1000 + performance.now();
  const after = process.hrtime();
  const wholeSec = Math.floor(remMs / 1000);
  const epochSec = originSec + wholeSec;
  const epochNs = Math.round((remMs - wholeSec * 1000) * 1e6);
  // hrtime at the moment of the now() call: midway between the two reads around it.
  const spanNs = (after[0] - before[0]) * 1e9 + (after[1] - before[1]);
  let hrSec = before[0];
  let hrNs = before[1] + Math.round(spanNs / 2);
  if (hrNs >= 1e9) {
    hrSec++;
    hrNs -= 1e9;
  }
  let sec = epochSec - hrSec;
  let ns = epochNs - hrNs;
  while (ns < 0) {
    sec--;
    ns += 1e9;
  }
  while (ns >= 1e9) {
    sec++;
    ns -= 1e9;
  }
  return { OFFSET_SEC: sec, OFFSET_NS: ns };
}

/**
 * Writes the epoch time of the hrtime reading (`hrSec`, `hrNs`) into `f.tsSec`/`f.tsNsec`, at
 * microsecond resolution; allocates nothing. Hot paths read process.hrtime() themselves, first
 * thing, and pass its two numbers here (see openLive for why).
 */
export function stampFrom(f: Frame, hrSec: number, hrNs: number): void {
  let sec = hrSec + OFFSET_SEC;
  let ns = hrNs + OFFSET_NS;
  if (ns >= 1e9) {
    sec++;
    ns -= 1e9;
  }
  f.tsSec = sec;
  // Truncated to the microsecond, like a classic pcap stamp: finer digits would be noise, as the
  // anchor is only that exact.
  f.tsNsec = ((ns / 1000) | 0) * 1000;
}

/** Stamps `f` with the current time. */
export function stampNow(f: Frame): void {
  const t = process.hrtime();
  stampFrom(f, t[0], t[1]);
}

/**
 * Epoch milliseconds on the same clock as live frame stamps. The live loop should pass this (not
 * Date.now) to the tracker's expire(), so timers and packet times never disagree when the wall
 * clock is stepped or slewed while the capture runs.
 */
export function captureClockMs(): number {
  const t = process.hrtime();
  return (t[0] + OFFSET_SEC) * 1000 + (t[1] + OFFSET_NS) / 1e6;
}
