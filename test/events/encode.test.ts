// The stream's hand-written event writer against JSON.stringify, on every event the tracker makes
// from the public traces and from fuzzed segments: the same text for every type but `connection`,
// whose connection is the summary (the Connection's fields, fewer of them). The tracker hands the
// stream its events as records (read in place, no object): what the writer makes of the record is
// checked against the object built for the same event at the same moment.
import fc from 'fast-check';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { frameTimeMs } from '../../src/capture/frame';
import { readCaptureFile } from '../../src/capture/file';
import { decodeFrame } from '../../src/decode/decode';
import { Segment } from '../../src/decode/segment';
import { connectionSummary, eventJson, maxEventBytes, maxRecordBytes, writeEvent, writeRecord } from '../../src/events/encode';
import { LIT_PAD } from '../../src/events/json-bytes';
import type { ConnectionEvent, EventRecord, TcpEvent } from '../../src/events/types';
import type { TrackerOptions } from '../../src/track/api';
import type { ConnectionView } from '../../src/track/connection';
import { Tracker } from '../../src/track/tracker';
import { FIXTURES } from '../support/fixtures.mjs';
import { makeSegment } from '../support/segments';
import { conv, handshake, run } from '../track/helpers';

const TRACES = path.join(FIXTURES, 'traces');

/**
 * A tracker whose events are taken both ways: as objects (`events`) and as the stream writes them
 * from its records (`texts`, the same events in the same order, written at the moment each was handed out).
 */
function observed(opts: Partial<TrackerOptions> = {}): { tracker: Tracker; events: TcpEvent[]; texts: string[] } {
  const events: TcpEvent[] = [];
  const texts: string[] = [];
  const tracker = new Tracker({ maxConnections: 1_000_000, ...opts });
  tracker.onEvent((e) => events.push(e));
  tracker.onEventRecord((r) => texts.push(recordWritten(r)));
  return { tracker, events, texts };
}

async function eventsOf(file: string): Promise<TcpEvent[]> {
  return (await observedFile(file)).events;
}

async function observedFile(file: string): Promise<{ events: TcpEvent[]; texts: string[] }> {
  const { tracker, events, texts } = observed();
  const seg = new Segment();
  await readCaptureFile(file, (f) => {
    if (decodeFrame(f.linkType, f.data, f.origLen, seg) === 'ok') tracker.process(seg, frameTimeMs(f));
  });
  tracker.expire(Number.MAX_SAFE_INTEGER / 2);
  tracker.removeAll();
  return { events, texts };
}

/** What writeRecord puts in a buffer, checked against its bound as written() is. */
function recordWritten(r: EventRecord): string {
  const max = maxRecordBytes(r);
  const buf = Buffer.alloc(max + 20, 0xff);
  const end = writeRecord(r, buf, 7);
  expect(end - 7 + LIT_PAD).toBeLessThanOrEqual(max);
  expect(buf[6]).toBe(0xff);
  expect(buf.subarray(end + LIT_PAD).every((b) => b === 0xff)).toBe(true);
  return buf.subarray(7, end).toString('utf8');
}

/** Each record's text is the text of the object built for the same event. */
function checkRecords(events: TcpEvent[], texts: string[]): void {
  expect(texts).toHaveLength(events.length);
  for (let i = 0; i < events.length; i++) expect(texts[i]).toBe(eventJson(events[i]));
}

/** What writeEvent puts in a buffer, checked against its bound (keys go in whole words: LIT_PAD bytes beyond). */
function written(e: TcpEvent): string {
  const buf = Buffer.alloc(maxEventBytes(e) + 20, 0xff);
  const end = writeEvent(e, buf, 7);
  expect(end - 7 + LIT_PAD).toBeLessThanOrEqual(maxEventBytes(e));
  expect(buf[6]).toBe(0xff);
  expect(buf.subarray(end + LIT_PAD).every((b) => b === 0xff)).toBe(true);
  return buf.subarray(7, end).toString('utf8');
}

function check(events: TcpEvent[]): void {
  for (const e of events) {
    const text = eventJson(e);
    expect(written(e)).toBe(text);
    if (e.type !== 'connection' || e.connection === undefined) {
      expect(text).toBe(JSON.stringify(e));
      continue;
    }
    const { connection, ...rest } = e;
    const parsed = JSON.parse(text);
    expect(parsed).toEqual({ ...rest, connection: connectionSummary(e.phase, connection) });
  }
}

describe('the stream event writers', () => {
  const files = readdirSync(TRACES).filter((f) => /\.pcap(ng)?$/.test(f));

  it.each(files)('writes %s’s events as JSON.stringify does, connections as their summary, from the objects and from the records', async (f) => {
    const { events, texts } = await observedFile(path.join(TRACES, f));
    check(events);
    checkRecords(events, texts);
  });

  it('writes from a record what it writes from the object, on fuzzed traffic (IPv6, evictions, timers, causes no longer held)', () => {
    const ENDPOINTS = ['10.0.0.1:40000', '10.0.0.2:80', '192.168.200.255:65535', '[2001:db8::1]:5000', '[2001:db8::2]:443', '[::ffff:a01:203]:1'];
    const FLAGS = ['S', 'SA', 'A', 'PA', 'FA', 'R', 'RA', 'F', 'SF', 'SR', 'FRA', 'SEW', 'PAU', ''];
    const arb = fc.record({
      pair: fc.constantFrom([0, 1], [1, 0], [2, 1], [1, 2], [3, 4], [4, 3], [5, 4], [4, 5]),
      flags: fc.constantFrom(...FLAGS),
      seq: fc.constantFrom(1000, 5000, 0xfffffff0, 0).chain((b) => fc.integer({ min: 0, max: 3000 }).map((o) => (b + o) >>> 0)),
      ack: fc.constantFrom(1000, 5000, 0xfffffff0, 0).chain((b) => fc.integer({ min: 0, max: 3000 }).map((o) => (b + o) >>> 0)),
      len: fc.constantFrom(0, 0, 1, 10, 1460),
      dt: fc.double({ min: 0, max: 200_000, noNaN: true }),
    });
    fc.assert(
      fc.property(fc.array(arb, { maxLength: 80 }), fc.boolean(), fc.boolean(), (list, small, expire) => {
        const { tracker, events, texts } = observed(small ? { maxConnections: 2, ladderHead: 4, ladderTail: 4, maxEventsPerConn: 3 } : {});
        const seg = new Segment();
        let ts = 1_796_617_304_968.787;
        for (const x of list) {
          ts += x.dt;
          makeSegment({ src: ENDPOINTS[x.pair[0]], dst: ENDPOINTS[x.pair[1]], flags: x.flags, seq: x.seq, ack: x.ack, len: x.len }, seg);
          tracker.process(seg, ts);
          if (expire) tracker.expire(ts);
        }
        tracker.expire(ts + 1e9);
        tracker.removeAll();
        check(events);
        checkRecords(events, texts);
      }),
      { numRuns: 300 },
    );
  });

  it('covers every event type on the traces and the synthetic cases', async () => {
    const all: TcpEvent[] = [];
    for (const f of files) all.push(...(await eventsOf(path.join(TRACES, f))));
    // a refused connection and a reset, which the traces may lack
    const c = conv();
    const refused = run([c.c('S'), c.s('RA')]);
    const d = conv(7000, 9000, '10.0.0.1:40001');
    const reset = run([...handshake(d), d.c('R')]);
    // the same from the records
    for (const specs of [[c.c('S'), c.s('RA')], [...handshake(d), d.c('R')]]) {
      const o = observed();
      const seg = new Segment();
      let t = 1_000_000;
      for (const spec of specs) o.tracker.process(makeSegment(spec, seg), (t += 1.5));
      checkRecords(o.events, o.texts);
    }
    all.push(...refused.events, ...reset.events);
    check(refused.events);
    check(reset.events);
    expect(new Set(all.map((e) => e.type))).toEqual(new Set(['state', 'handshake', 'teardown', 'reset', 'refused', 'anomaly', 'connection']));
    const phases = new Set(all.filter((e) => e.type === 'connection').map((e) => (e as { phase: string }).phase));
    expect(phases).toEqual(new Set(['opened', 'closed']));
  });

  it('escapes what JSON must escape and writes non-finite numbers as null', () => {
    const odd: TcpEvent[] = [
      { type: 'anomaly', connectionId: 'a"b\\c', ts: 1.5, kind: 'gap', side: 'client', detail: 'line\nnext é \u2028 \ud800' },
      { type: 'refused', connectionId: 'x', ts: NaN },
      { type: 'handshake', connectionId: '7', ts: -0, phase: 'established', rttMs: Infinity, synToSynAckMs: 0.25, synAckToAckMs: 1e-7 },
      { type: 'teardown', connectionId: '7', ts: 1e21, phase: 'closed', kind: 'timeout' },
      { type: 'connection', connectionId: '7', ts: 2, phase: 'evicted' },
      { type: 'state', connectionId: '123456789012', ts: 1796617304968.787, side: 'server', from: 'LISTEN', to: 'SYN_RECEIVED', cause: { flags: 'SA', seq: 4294967295, ack: 0, len: 65535 } },
      { type: 'teardown', connectionId: '7', ts: 3, phase: 'fin', kind: 'fin', side: 'server' },
      { type: 'reset', connectionId: '7', ts: 9007199254740993, side: 'client' },
    ];
    for (const e of odd) {
      expect(eventJson(e)).toBe(JSON.stringify(e));
      expect(written(e)).toBe(JSON.stringify(e));
    }
  });

  it('keeps a closed connection event within its bound with every number at its longest', async () => {
    const events = await eventsOf(path.join(TRACES, files[0]));
    const closed = events.find((e) => e.type === 'connection' && e.phase === 'closed' && e.connection !== undefined);
    expect(closed).toBeDefined();
    const e = structuredClone(closed) as ConnectionEvent & { connection: ConnectionView };
    // ten numbers a connection event writes, each as long as a double's text gets (25 bytes)
    const long = -1.2345678901234567e-300;
    const c = e.connection;
    e.ts = long;
    c.client.port = long;
    c.server.port = long;
    c.startedAt = long;
    c.endedAt = long;
    c.handshake.rttMs = long;
    c.counts.client.packets = long;
    c.counts.client.bytes = long;
    c.counts.server.packets = long;
    c.counts.server.bytes = long;
    expect(JSON.parse(written(e))).toEqual(JSON.parse(eventJson(e)));
  });

  it('writes whole numbers on each side of every digit count and of 2^32 as JSON does', () => {
    const edges = [0, 1, 9, 10, 99, 100, 999, 1000, 9999, 1e4, 99999, 1e5, 999999, 1e6, 9999999, 1e7, 99999999, 1e8, 999999999, 1e9];
    const values = [...edges, 4294967294, 4294967295, 4294967296, 9999999999, 1e10, 2 ** 53 - 1, 2 ** 53, 1.5, -1, -0];
    for (const n of values) {
      const e: TcpEvent = { type: 'state', connectionId: '1', ts: 2, side: 'client', from: 'SYN_SENT', to: 'ESTABLISHED', cause: { flags: 'A', seq: n, ack: n, len: n } };
      expect(written(e)).toBe(JSON.stringify(e));
    }
  });

  it('writes live capture times (microseconds in the fraction) and their differences as JSON does', () => {
    // stamps as live capture makes them (whole seconds, nanoseconds truncated to the microsecond)
    let x = 0x9e3779b9;
    const rand = () => ((x = (Math.imul(x, 1664525) + 1013904223) >>> 0) / 2 ** 32);
    let prev = 1796617304968.787;
    for (let i = 0; i < 20_000; i++) {
      const f = { tsSec: 1_700_000_000 + Math.floor(rand() * 1e8), tsNsec: Math.floor(rand() * 1e6) * 1000 };
      const ts = frameTimeMs(f as Parameters<typeof frameTimeMs>[0]);
      const e: TcpEvent = { type: 'handshake', connectionId: '1', ts, phase: 'established', rttMs: Math.abs(ts - prev) % 1000, synToSynAckMs: ts - Math.floor(ts), synAckToAckMs: (ts - prev) / 3 };
      expect(written(e)).toBe(JSON.stringify(e));
      prev = ts;
    }
  });

  it('gives the summary of an opened connection without how it ended, of a closed one with it', () => {
    const c = conv();
    const { events } = run([...handshake(c), c.c('FA'), c.s('FA'), c.c('A')]);
    const conns = events.filter((e) => e.type === 'connection').map((e) => JSON.parse(eventJson(e)));
    expect(conns.map((e) => e.phase)).toEqual(['opened', 'closed']);
    expect(conns[0].connection).toEqual({
      client: { ip: '10.0.0.1', port: 40000, state: 'CLOSED' },
      server: { ip: '10.0.0.2', port: 8080, state: 'LISTEN' },
      status: 'open', connState: expect.any(String), history: expect.any(String),
      partial: false, rolesGuessed: false, captureGap: false, startedAt: 1_000_000,
    });
    expect(conns[1].connection).toMatchObject({
      status: 'closed', connState: 'SF', closeKind: 'fin', closedBy: 'client',
      client: { state: 'TIME_WAIT' }, server: { state: 'CLOSED' },
      counts: { client: { packets: 4, bytes: 0 }, server: { packets: 2, bytes: 0 } },
    });
    expect(typeof conns[1].connection.rttMs).toBe('number');
    expect(typeof conns[1].connection.endedAt).toBe('number');
  });
});
