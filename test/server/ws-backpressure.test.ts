// The WebSocket fan-out under load: a client that stops reading must cost only its own queue. The
// server runs in this process (createApp + listen) with small queue limits so overflow happens
// quickly; events go through the real event bus.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../../src/ingest/engine';
import { EventBus } from '../../src/events/bus';
import type { TcpEvent } from '../../src/events/types';
import { createApp } from '../../src/server/app';
import { listen, type RunningServer } from '../../src/server/listen';
import { waitFor } from '../support/wait';
import { openStream, upgradeStatus, wsUrl } from './stream';

const N = 20_000;
const PAD = 'x'.repeat(1000);

describe('WebSocket backpressure', () => {
  let engine: Engine;
  let bus: EventBus;
  let server: RunningServer;
  let clientCount = () => 0;
  let hubStats = (): any => null;

  beforeAll(async () => {
    engine = new Engine();
    bus = new EventBus();
    engine.tracker.onEventRecord(bus.publishRecord);
    const app = createApp({
      engine,
      bus,
      version: 'test',
      source: () => ({ kind: 'live', iface: 'lo', filter: 'tcp', linkType: 1, frames: 0, bytes: 0, dropped: null }),
      ws: { maxQueue: 2000, highWaterBytes: 16 * 1024, maxClients: 4 },
    });
    const r = await listen(app, '127.0.0.1', 0);
    if (!r.ok) throw new Error(r.message);
    server = r.running;
    clientCount = () => app.locals.services.ws.clientCount;
    hubStats = () => app.locals.services.ws.stats();
  });

  afterAll(async () => {
    await server?.close();
  });

  /**
   * Publishes N events in bursts of 500, yielding between bursts as a capture loop does. The pause
   * stands for packets arriving over time: the hub writes to clients in slices of a few
   * milliseconds between bursts, never in one long stall, so a publisher that never pauses would
   * outrun any client (these ~1 KiB events cost 20-60 µs each to write on a busy 2-core machine).
   */
  async function publishBurst(): Promise<number> {
    let busyMs = 0;
    for (let i = 0; i < N; i += 500) {
      const t = performance.now();
      for (let j = i; j < i + 500; j++) {
        // ~1 KiB each, so the slow client's kernel buffers fill and its own queue overflows
        const e: TcpEvent = { type: 'anomaly', kind: 'dup-ack', side: 'client', connectionId: `x${j % 7}`, ts: j, detail: PAD };
        bus.publish(e);
      }
      busyMs += performance.now() - t;
      await new Promise((r) => setTimeout(r, 50));
    }
    return busyMs;
  }

  it('a client that never reads is dropped behind, the others get everything in order', async () => {
    const slow = await openStream(wsUrl(server.url));
    const fast = await openStream(wsUrl(server.url));
    await slow.next((m) => m.type === 'snapshot', 'slow snapshot');
    await fast.next((m) => m.type === 'snapshot', 'fast snapshot');
    (slow.ws as any)._socket.pause();
    const first = bus.lastSeq + 1;

    const busyMs = await publishBurst();
    // Publishing is synchronous work only: serialise once, append to queues.
    expect(busyMs / N).toBeLessThan(0.05);

    const last = await fast.next((m) => m.type === 'event' && m.seq === first + N - 1, 'the last event', 20_000);
    expect(last.event.ts).toBe(N - 1);
    const seqs = fast.events().map((m) => m.seq);
    expect(seqs).toEqual(Array.from({ length: N }, (_, i) => first + i));
    // In batches: each message holds the events numbered from its `seq` on, all of them, the next
    // batch starting right after; bursts of 500 arrive in a few messages, not 500.
    const batches = fast.frames.filter((m) => m.type === 'events');
    expect(fast.frames[0]).toMatchObject({ type: 'hello', protocol: 3 });
    for (const [k, b] of batches.entries()) {
      expect(b.seqs).toBeUndefined();
      if (k > 0) expect(b.seq).toBe(batches[k - 1].seq + batches[k - 1].events.length);
    }
    expect(batches.length).toBeLessThan(N / 20);

    // The slow client resumes: it is told how much it lost, then resynchronised.
    (slow.ws as any)._socket.resume();
    const lagged = await slow.next((m) => m.type === 'lagged', 'lagged', 20_000);
    expect(lagged.dropped).toBeGreaterThan(0);
    // the server counts the resynchronisation
    expect(hubStats()).toMatchObject({ lagged: 1, heldUnconfirmed: expect.any(Number), behind: expect.any(Number) });
    const i = slow.messages.indexOf(lagged);
    expect(slow.messages[i + 1].type).toBe('snapshot');
    expect(slow.messages[i + 1].seq).toBeGreaterThanOrEqual(first);
    const received = slow.events().length;
    expect(received + lagged.dropped).toBeLessThanOrEqual(N);
    // What it did get arrived in order.
    const ss = slow.events().map((m) => m.seq);
    expect(ss.every((s, k) => k === 0 || s > ss[k - 1])).toBe(true);

    // And it is live again.
    bus.publish({ type: 'refused', connectionId: 'after', ts: 1 });
    await slow.next((m) => m.type === 'event' && m.event.connectionId === 'after', 'a new event after resync');
    slow.close();
    fast.close();
  }, 60_000);

  it('caps the number of clients and the size of client messages', async () => {
    const s = await openStream(wsUrl(server.url));
    const closed = new Promise<number>((r) => s.ws.on('close', (code) => r(code)));
    s.ws.send('x'.repeat(64 * 1024));
    expect(await closed).toBe(1009);
    // the server is fine afterwards; earlier clients' closes may still be on their way
    await waitFor('earlier clients to be gone', () => clientCount() === 0);
    const open = [];
    for (let i = 0; i < 4; i++) {
      const c = await openStream(wsUrl(server.url));
      await c.next((m) => m.type === 'snapshot', 'snapshot');
      open.push(c);
    }
    expect(await upgradeStatus(wsUrl(server.url))).toBe(503);
    for (const c of open) c.close();
  });

  it('sends a filtered client its events in batches with their numbers, the same batch to the same filter', async () => {
    await waitFor('earlier clients to leave', () => clientCount() === 0);
    const subscribe = async () => {
      const s = await openStream(wsUrl(server.url));
      s.ws.send(JSON.stringify({ type: 'subscribe', filter: { types: ['refused'] } }));
      await s.next((m) => m.type === 'snapshot' && s.messages.indexOf(m) > 1, 'filtered snapshot');
      return s;
    };
    const a = await subscribe();
    const b = await subscribe();
    const first = bus.lastSeq + 1;
    for (let j = 0; j < 300; j++) {
      bus.publish(j % 3 === 0 ? { type: 'refused', connectionId: `f${j}`, ts: j } : { type: 'reset', side: 'client', connectionId: `f${j}`, ts: j });
    }
    const last = first + 299 - (299 % 3);
    for (const s of [a, b]) {
      await s.next((m) => m.type === 'event' && m.seq === last, 'the last refused event');
      // (a snapshot shared from before may be followed by earlier events: only these are counted)
      const mine = s.events().filter((m) => m.seq >= first);
      expect(mine.map((m) => m.seq)).toEqual(Array.from({ length: 100 }, (_, i) => first + 3 * i));
      expect(mine.every((m) => m.event.type === 'refused' && m.event.connectionId === `f${m.seq - first}`)).toBe(true);
    }
    const batchesOf = (s: typeof a) => s.frames.filter((m) => m.type === 'events' && m.seq >= first);
    expect(batchesOf(a)).toEqual(batchesOf(b));
    for (const x of batchesOf(a)) {
      expect(x.seqs.length).toBe(x.events.length);
      expect(x.seqs[0]).toBe(x.seq);
    }
    a.close();
    b.close();
    await waitFor('clients to leave', () => clientCount() === 0);
  });

  it('drops a client that stops answering pings', async () => {
    const app = createApp({
      engine,
      bus,
      version: 'test',
      source: () => ({ kind: 'live', iface: 'lo', filter: 'tcp', linkType: 1, frames: 0, bytes: 0, dropped: null }),
      ws: { heartbeatMs: 100 },
    });
    const r = await listen(app, '127.0.0.1', 0);
    if (!r.ok) throw new Error(r.message);
    try {
      const hub = app.locals.services.ws;
      const live = await openStream(wsUrl(r.running.url));
      const dead = await openStream(wsUrl(r.running.url));
      await dead.next((m) => m.type === 'snapshot', 'snapshot');
      expect(hub.clientCount).toBe(2);
      (dead.ws as any)._socket.pause(); // its pongs never come back
      await new Promise((res) => setTimeout(res, 600));
      expect(hub.clientCount).toBe(1);
      expect(live.ws.readyState).toBe(live.ws.OPEN);
      live.close();
    } finally {
      await r.running.close();
    }
  });
});
