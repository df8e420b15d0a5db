import { describe, expect, it } from 'vitest';
import { PAUSE_MAX_MS, PAUSE_MIN_MS, nearlyFull, pauseMs, ringPackets } from '../../src/capture/live-pause';
import { DEFAULT_BUFFER_SIZE, SNAPLEN, WATCH_SNAPLEN } from '../../src/capture/live';

describe('the capture process pause between drains', () => {
  const headers = ringPackets(DEFAULT_BUFFER_SIZE, WATCH_SNAPLEN);
  const whole = ringPackets(DEFAULT_BUFFER_SIZE, SNAPLEN);

  it('sizes the ring by the slot a packet takes', () => {
    expect(headers).toBeGreaterThan(100_000);
    expect(whole).toBeGreaterThan(900);
    expect(whole).toBeLessThan(1100);
  });

  it('sleeps the longest while the ring holds far more than a pause brings', () => {
    expect(pauseMs(headers, 0, 20)).toBe(PAUSE_MAX_MS);
    expect(pauseMs(headers, 4000, 20)).toBe(PAUSE_MAX_MS); // 200 000 packets a second
  });

  it('keeps a small ring at the least pause, and shortens a large one only at rates far beyond a loopback', () => {
    expect(pauseMs(whole, 0, 20)).toBe(PAUSE_MIN_MS);
    expect(pauseMs(whole, 4000, 20)).toBe(PAUSE_MIN_MS);
    const small = ringPackets(4 * 1024 * 1024, WATCH_SNAPLEN); // --buffer 4
    expect(pauseMs(small, 0, 20)).toBeLessThan(PAUSE_MAX_MS);
    expect(pauseMs(small, 0, 20)).toBeGreaterThan(PAUSE_MIN_MS);
    expect(pauseMs(headers, 40_000, 20)).toBeLessThan(PAUSE_MAX_MS); // 2 million packets a second
  });

  it('looks at the kernel drop count at once after a drain that found the ring nearly full', () => {
    expect(nearlyFull(whole, whole)).toBe(true);
    expect(nearlyFull(whole, Math.ceil(whole * 0.75))).toBe(true);
    expect(nearlyFull(whole, Math.floor(whole / 2))).toBe(false);
    expect(nearlyFull(headers, 4000)).toBe(false);
  });
});
