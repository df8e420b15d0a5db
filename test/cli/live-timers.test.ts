import { describe, expect, it } from 'vitest';
import type { Frame } from '../../src/capture/frame';
import { captureClockMs } from '../../src/capture/live-clock';
import { LiveTimers } from '../../src/cli/live';
import { LinkType } from '../../src/decode/linktype';
import type { StateEvent, TcpEvent } from '../../src/events/types';
import { Engine } from '../../src/ingest/engine';
import { rawTcp } from '../support/captures';

const SYN = 0x02;
const FIN = 0x01;
const ACK = 0x10;

function frame(ms: number, data: Buffer): Frame {
  return { tsSec: Math.floor(ms / 1000), tsNsec: (ms % 1000) * 1e6, linkType: LinkType.RAW, data, capLen: data.length, origLen: data.length };
}

/** A whole connection from client port `port`, the client closing first, from `t` on (1 ms a segment). */
function closedConnection(t: number, port: number): Frame[] {
  const c = '10.0.0.1';
  const s = '10.0.0.2';
  return [
    rawTcp(c, port, s, 80, SYN, 100, 0),
    rawTcp(s, 80, c, port, SYN | ACK, 500, 101),
    rawTcp(c, port, s, 80, ACK, 101, 501),
    rawTcp(c, port, s, 80, FIN | ACK, 101, 501),
    rawTcp(s, 80, c, port, FIN | ACK, 501, 102),
    rawTcp(c, port, s, 80, ACK, 102, 502),
  ].map((d, i) => frame(t + i, d));
}

describe('live timers on packet time', () => {
  it('ends a TIME_WAIT once packets LAG_MS past its end have been tracked, stamped when it ended', () => {
    const engine = new Engine({ mslMs: 1000 });
    const events: TcpEvent[] = [];
    engine.tracker.onEvent((e) => events.push(e));
    const timers = new LiveTimers(engine);
    const onFrame = timers.wrap(engine.onFrame);
    const t0 = 1_700_000_000_000;
    for (const f of closedConnection(t0, 40000)) onFrame(f);
    const timeWaitAt = t0 + 5; // the client's last ACK
    const ends = timeWaitAt + 2000; // 2 × MSL
    const timerEvents = () => events.filter((e): e is StateEvent => e.type === 'state' && e.cause === null);

    // other traffic goes on; a frame just short of the end plus the lag changes nothing
    let port = 41000;
    for (let t = t0 + 100; t < ends + LiveTimers.LAG_MS; t += 100) for (const f of closedConnection(t, port++)) onFrame(f);
    for (const f of closedConnection(ends + LiveTimers.LAG_MS - 10, port++)) onFrame(f);
    expect(timerEvents().filter((e) => e.connectionId === '1')).toEqual([]);

    // a frame past it (and a tick's worth of packet time since the timers last ran) ends it
    for (const f of closedConnection(ends + LiveTimers.LAG_MS + LiveTimers.EVERY_MS, port++)) onFrame(f);
    const ended = timerEvents().filter((e) => e.connectionId === '1');
    expect(ended).toHaveLength(1);
    expect(ended[0]).toMatchObject({ side: 'client', from: 'TIME_WAIT', to: 'CLOSED', ts: ends });
    expect(engine.tracker.get('1')?.client.state).toBe('CLOSED');
  });
});

describe('live timers once frames stop', () => {
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  it('sets no tick while no timer runs, and one for the next due timer once all is quiet', async () => {
    const engine = new Engine({ mslMs: 100 });
    const events: TcpEvent[] = [];
    engine.tracker.onEvent((e) => events.push(e));
    const timers = new LiveTimers(engine);
    const onFrame = timers.wrap(engine.onFrame);
    timers.start();
    try {
      expect(engine.tracker.nextDue()).toBe(Infinity);
      // nothing captured: after the first quiet tick, nothing is left to wake for
      await sleep(4 * LiveTimers.EVERY_MS);
      expect(timers.armedMs).toBeNull();

      // a connection closed on the capture clock now: its TIME_WAIT ends 2 × MSL after the last ACK
      const t0 = captureClockMs();
      for (const f of closedConnection(t0, 40000)) onFrame(f);
      const ends = t0 + 5 + 200;
      expect(engine.tracker.nextDue()).toBe(ends);
      expect(timers.armedMs).toBe(LiveTimers.EVERY_MS);
      // quiet for the lag: the tick waits for the TIME_WAIT's end rather than every EVERY_MS
      await sleep(LiveTimers.LAG_MS + 3 * LiveTimers.EVERY_MS);
      expect(timers.armedMs).toBeGreaterThan(LiveTimers.EVERY_MS);
      await sleep(ends + LiveTimers.LAG_MS + 2 * LiveTimers.EVERY_MS - captureClockMs());
      const ended = events.filter((e): e is StateEvent => e.type === 'state' && e.cause === null && e.from === 'TIME_WAIT');
      expect(ended).toHaveLength(1);
      expect(ended[0].ts).toBe(ends);
      // then the closed connection's retention (minutes) is all that is left to run
      expect(engine.tracker.nextDue()).toBeGreaterThan(ends + 60_000);
      expect(timers.armedMs).toBeGreaterThan(60_000);

      // frames again: ticks every EVERY_MS while they may come
      for (const f of closedConnection(captureClockMs(), 40001)) onFrame(f);
      expect(timers.armedMs).toBe(LiveTimers.EVERY_MS);
    } finally {
      timers.stop();
    }
    expect(timers.armedMs).toBeNull();
  });
});
