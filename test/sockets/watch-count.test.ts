// How the cross-check counts endpoints it cannot compare once the queue of TIME_WAIT readings is
// full: the quick path for closed connections (no view built) counts what compare alone counts,
// and a side counted unchecked while its peer's socket is still live is not counted again. A unit
// test of the counting: the readings are made up here (the live cross-check is
// test/sockets/crosscheck.test.ts); the tracker is the real one, fed synthetic segments. And with
// closed connections alone watched: their pairs queued by a steady reading that does not walk, read
// by the next one, and dropped (counted) once queued too long.
import { describe, expect, it } from 'vitest';
import { EventBus } from '../../src/events/bus';
import { portPair, SocketIndex } from '../../src/sockets/attribute';
import type { ScanAsk, ScannedSocket } from '../../src/sockets/scan';
import { scanResult } from './scan-result';
import type { Scanner } from '../../src/sockets/scan-thread';
import { SocketWatch } from '../../src/sockets/watch';
import type { TcpState } from '../../src/track/states';
import { Tracker } from '../../src/track/tracker';
import { Conversation, feed } from '../support/segments';

const SERVER_PORT = 8080;
/** Connections closed with their sockets gone: 512 fill the queue (two local sides each), the rest find it full. */
const CLOSED = 600;

// readings are made by hand: one a watch asked for by itself would never come
const idle: Scanner = { mode: 'inline', scan: () => new Promise(() => undefined), close: async () => undefined };

function socket(localPort: number, remotePort: number, state: TcpState, inode: number): ScannedSocket {
  const remote = state === 'LISTEN' ? '0.0.0.0' : '127.0.0.1';
  return { family: 4, localIp: '127.0.0.1', localPort, remoteIp: remote, remotePort, state, txQueue: 0, rxQueue: 0, uid: 0, inode, netns: 1, owners: [{ pid: 1, fd: 3 }], backlog: state === 'LISTEN' ? 128 : null, info: null };
}

function reading(sockets: ScannedSocket[], timeWaitAsked: number[] = []): SocketIndex {
  return new SocketIndex(scanResult([socket(SERVER_PORT, 0, 'LISTEN', 1), ...sockets], timeWaitAsked), ['127.0.0.1']);
}

interface Internals {
  join(ix: SocketIndex, startedAt: number, full: boolean, connected: boolean, crossCheck: boolean): void;
  leftUnchecked(...a: unknown[]): boolean;
  run(forceFull: boolean): Promise<void>;
  takePairs(now: number): unknown[];
}

function setup(quick: boolean) {
  const tracker = new Tracker();
  const bus = new EventBus();
  tracker.onEventRecord(bus.publishRecord);
  // no reading is asked for while the test runs: the first would wait a long while
  const watch = new SocketWatch(idle, tracker, { batchMs: 1e9 });
  bus.subscribe((_seq, e) => watch.onEvent(e));
  const w = watch as unknown as Internals;
  if (!quick) w.leftUnchecked = () => false;
  // the packets a minute old: settled long before any reading
  let t = Date.now() - 60_000;
  const open = (port: number) => {
    const c = new Conversation(`127.0.0.1:${port}`, `127.0.0.1:${SERVER_PORT}`);
    t = feed(tracker, [c.c('S'), c.s('SA'), c.c('A')], t + 1);
    return c;
  };
  const reset = (c: Conversation) => {
    t = feed(tracker, [c.c('R')], t + 1);
  };
  const join = (ix: SocketIndex) => w.join(ix, performance.now(), true, true, true);
  return { watch, open, reset, join };
}

/** The counts of a run with the quick path and of one with compare alone. */
function both<T>(run: (s: ReturnType<typeof setup>) => T): [T, T] {
  return [run(setup(true)), run(setup(false))];
}

describe('cross-check counting with the TIME_WAIT queue full', () => {
  it('counts what compare alone counts', () => {
    const [quick, slow] = both(({ watch, open, reset, join }) => {
      for (let i = 0; i < CLOSED; i++) reset(open(20_000 + i));
      join(reading([]));
      const first = { ...watch.stats().crossCheck, recent: [] };
      // a later reading brings the first 32 pairs (gone: they agree with the inferred CLOSED)
      const asked: number[] = [];
      for (let i = 0; i < 16; i++) asked.push(portPair(20_000 + i, SERVER_PORT), portPair(SERVER_PORT, 20_000 + i));
      join(reading([], asked));
      return [first, { ...watch.stats().crossCheck, recent: [] }];
    });
    expect(quick).toEqual(slow);
    const [first, second] = quick;
    // the first 512 connections' sides wait in the queue, the rest go unchecked
    expect(first).toMatchObject({ compared: 0, agreed: 0, notCompared: 2 * (CLOSED - 512) });
    expect(second).toMatchObject({ compared: 32, agreed: 32, disagreements: 0, notCompared: 2 * (CLOSED - 512) });
  });

  it('counts a side left unchecked once while its peer is still live, and its peer once it closes', () => {
    const [quick, slow] = both(({ watch, open, reset, join }) => {
      for (let i = 0; i < 512; i++) reset(open(20_000 + i));
      join(reading([]));
      const full = watch.stats().crossCheck.notCompared;
      // the client's socket is not in the readings, the server's is, and agrees
      const c = open(30_000);
      const server = socket(SERVER_PORT, 30_000, 'ESTABLISHED', 2);
      join(reading([server]));
      join(reading([server]));
      const whileOpen = watch.stats().crossCheck;
      // it ends, and the server's socket goes: counted unchecked too, the client not again
      reset(c);
      join(reading([]));
      join(reading([]));
      return { full, whileOpen: whileOpen.notCompared - full, compared: whileOpen.compared, after: watch.stats().crossCheck.notCompared - full };
    });
    expect(quick).toEqual(slow);
    expect(quick.full).toBe(0);
    expect(quick.whileOpen).toBe(1);
    expect(quick.compared).toBe(2);
    expect(quick.after).toBe(2);
  });
});

describe('closed connections alone', () => {
  /** A watch of a few closed connections whose readings answer at once: no socket but the listener, every pair asked for gone. */
  function closedOnly(n: number) {
    const tracker = new Tracker();
    const bus = new EventBus();
    tracker.onEventRecord(bus.publishRecord);
    const asks: ScanAsk[] = [];
    const scanner: Scanner = {
      mode: 'inline',
      scan: async (ask) => {
        asks.push(ask);
        return reading([], (ask.timeWait ?? []).map((p) => portPair(p.local, p.remote))).scan;
      },
      close: async () => undefined,
    };
    // readings only as the test makes them (batchMs), each a steady one (intervalMs)
    const watch = new SocketWatch(scanner, tracker, { batchMs: 1e9, intervalMs: 10 });
    bus.subscribe((_seq, e) => watch.onEvent(e));
    let t = Date.now() - 60_000;
    for (let i = 0; i < n; i++) {
      const c = new Conversation(`127.0.0.1:${20_000 + i}`, `127.0.0.1:${SERVER_PORT}`);
      t = feed(tracker, [c.c('S'), c.s('SA'), c.c('A'), c.c('R')], t + 1);
    }
    return { watch, w: watch as unknown as Internals, asks };
  }
  const steady = () => new Promise((r) => setTimeout(r, 20));

  it('queues their pairs on a steady reading without a walk, and compares them on the next, which reads the pairs alone', async () => {
    const { watch, w, asks } = closedOnly(4);
    try {
      await w.run(false);
      // no open connection: the connected sockets are not read, and no pair was queued before
      expect(asks[0]).toMatchObject({ connected: false, timeWait: [] });
      expect(watch.stats().crossCheck).toMatchObject({ compared: 0, notCompared: 0 });
      await steady();
      await w.run(false);
      expect(asks[1].connected).toBe(false);
      expect(asks[1].timeWait).toHaveLength(8);
      // both sides of each gone, as the tracker has them (CLOSED)
      expect(watch.stats().crossCheck).toMatchObject({ compared: 8, agreed: 8, disagreements: 0, notCompared: 0 });
    } finally {
      await watch.close();
    }
  });

  it('drops pairs queued longer than the cross-check waits, counting their sides once', async () => {
    const { watch, w, asks } = closedOnly(4);
    try {
      await w.run(false);
      expect(w.takePairs(performance.now() + 11_000)).toEqual([]);
      expect(watch.stats().crossCheck).toMatchObject({ compared: 0, notCompared: 8 });
      // the next reading has no pair left to read, and counts none of them again
      await steady();
      await w.run(false);
      expect(asks.at(-1)?.timeWait ?? []).toEqual([]);
      expect(watch.stats().crossCheck).toMatchObject({ compared: 0, notCompared: 8 });
    } finally {
      await watch.close();
    }
  });
});

describe('a connection the tracker evicts', () => {
  it('counts its sides not compared yet, once', () => {
    const tracker = new Tracker({ maxConnections: 1 });
    const bus = new EventBus();
    tracker.onEventRecord(bus.publishRecord);
    const watch = new SocketWatch(idle, tracker, { batchMs: 1e9 });
    bus.subscribe((_seq, e) => watch.onEvent(e));
    let t = Date.now() - 60_000;
    const open = (port: number) => {
      const c = new Conversation(`127.0.0.1:${port}`, `127.0.0.1:${SERVER_PORT}`);
      t = feed(tracker, [c.c('S'), c.s('SA'), c.c('A')], t + 1);
    };
    open(20_000);
    expect(watch.stats().crossCheck.notCompared).toBe(0);
    // the table holds one: the first makes room for the second, before any reading
    open(20_001);
    expect(tracker.stats().evictions).toBe(1);
    expect(watch.stats().crossCheck).toMatchObject({ compared: 0, notCompared: 2 });
  });
});
