import { describe, expect, it } from 'vitest';
import { PAUSE_MAX_MS, PAUSE_MIN_MS, pauseMs, ringPackets } from '../../src/capture/live-pause';
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

  it('shortens the pause as the traffic would fill a small ring, never below the least pause', () => {
    const quiet = pauseMs(whole, 0, 20);
    const busy = pauseMs(whole, 200, 20); // 10 000 packets a second
    expect(quiet).toBeLessThanOrEqual(PAUSE_MAX_MS);
    expect(busy).toBeLessThan(quiet);
    expect(pauseMs(whole, 1000, 20)).toBe(PAUSE_MIN_MS);
    // a quarter of the ring at four times the rate seen, or at the floor rate from quiet
    expect(quiet * 20_000 / 1000).toBeLessThanOrEqual(whole / 4 + 1);
  });
});
