// The list query answered from the store's columns (select.ts) against a plain filter over every
// connection's view, on public traces and on a capture of real loopback traffic made here, checked
// at several points of each replay (so connections have changed state and closed between two
// checks), after the timers have dropped them, and with a table so small that most are evicted.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readCaptureFile } from '../../src/capture/file';
import { frameTimeMs } from '../../src/capture/frame';
import { decodeFrame } from '../../src/decode/decode';
import { Segment } from '../../src/decode/segment';
import type { ConnectionView } from '../../src/track/connection';
import { ConnFields, ipText } from '../../src/track/record';
import { ViewSource } from '../../src/track/view-source';
import { addressWords } from '../../src/track/select';
import { TCP_STATES } from '../../src/track/states';
import { Tracker } from '../../src/track/tracker';
import { matches, type Query } from './helpers';
import { captureTogether, exchange, tcpdumpSpec, typicalTraffic } from '../support/captures';
import { FIXTURES, manifest } from '../support/fixtures.mjs';
import { needs, root, tool } from '../support/skip';
import { removeTempDirs, tempDir } from '../support/temp';

afterAll(removeTempDirs);


/** What a reader of fields sees of a connection, the same whether it came from a view or the store. */
function seen(f: ConnFields) {
  return { id: f.idText ?? String(f.id), ip: [ipText(f, 0), ipText(f, 1)], state: [...f.state], notes: f.notes.map((n) => n && { process: n.process, processReason: n.processReason, kernel: n.kernel }), num: [...f.num], flags: f.flags, connState: f.connState, closedBy: f.closedBy, closeKind: f.closeKind };
}

/** Every connection read from the store (eachRecord, and fields() by its number) as its view reads. */
function expectRecordsAsViews(t: Tracker, what: string): void {
  const f = new ConnFields();
  const views = t.list().map((c) => seen((new ViewSource().of(c).fill(f), f)));
  const records: ReturnType<typeof seen>[] = [];
  t.eachRecord((r) => records.push(seen((r.fill(f), f))));
  expect(records, `${what}: eachRecord`).toEqual(views);
  const byNumber = views.map((v) => (expect(t.fields(Number(v.id), f), `${what}: fields ${v.id}`).toBe(true), seen(f)));
  expect(byNumber, `${what}: fields`).toEqual(views);
  expect(t.fields(0, f) || t.fields(1e15, f), `${what}: fields of no connection`).toBe(false);
}

/** Every page of `q`, followed by its cursor to the end, against the plain filter. */
function expectSameAsFilter(t: Tracker, q: Query, limit: number, what: string): void {
  if (q.status === 'all' && q.state === null && q.port === null && q.host === null) expectRecordsAsViews(t, what);
  const expected = t.list().filter((c) => matches(c, q));
  const seen: ConnectionView[] = [];
  let after = 0;
  for (let page = 0; ; page++) {
    const r = t.select({ ...q, afterId: after, limit });
    const label = `${what} ${JSON.stringify(q)} limit ${limit} page ${page}`;
    expect(r.total, `${label}: total`).toBe(expected.length);
    const want = expected.slice(seen.length, seen.length + limit);
    expect(r.connections, label).toEqual(want);
    expect(r.more, `${label}: more`).toBe(seen.length + want.length < expected.length);
    // the same page read through the store's cursor (the list endpoint's), no view built
    const rr = t.selectRecords({ ...q, afterId: after, limit });
    const last = r.connections[r.connections.length - 1];
    expect([rr.total, rr.more, rr.lastId], `${label}: records`).toEqual([r.total, r.more, last ? Number(last.id) : -1]);
    const f = new ConnFields();
    const ids = Array.from({ length: rr.length }, (_, i) => (rr.at(i).fill(f), f.id));
    expect(ids, `${label}: records`).toEqual(r.connections.map((c) => Number(c.id)));
    seen.push(...r.connections);
    if (!r.more) break;
    after = Number(r.connections[r.connections.length - 1].id);
  }
  expect(seen.length).toBe(expected.length);
}

/**
 * A cursor whose connection has left the table (or never was one of the matches) goes on from the
 * next id above it, and the status-only queries take the scan rather than the walk then.
 */
function expectSameFromCursor(t: Tracker, q: Query, after: number, what: string): void {
  const expected = t.list().filter((c) => matches(c, q));
  const r = t.select({ ...q, afterId: after, limit: 5 });
  const label = `${what} ${JSON.stringify(q)} after ${after}`;
  expect(r.total, `${label}: total`).toBe(expected.length);
  const rest = expected.filter((c) => Number(c.id) > after);
  expect(r.connections, label).toEqual(rest.slice(0, 5));
  expect(r.more, `${label}: more`).toBe(rest.length > 5);
}

/** Queries drawn from what the table holds (and some that match nothing), singly and combined. */
function queriesFor(list: ConnectionView[]): Query[] {
  const none: Query = { status: 'all', state: null, port: null, host: null };
  const out: Query[] = [none, { ...none, status: 'open' }, { ...none, status: 'closed' }];
  const states = new Set<(typeof TCP_STATES)[number]>(['CLOSE_WAIT']);
  const ports = new Set<number>([1]);
  const hosts = new Set<string>(['192.0.2.99', '2001:db8::99']);
  for (const c of list) {
    states.add(c.client.state);
    states.add(c.server.state);
    if (ports.size < 6) ports.add(c.server.port).add(c.client.port);
    if (hosts.size < 8) hosts.add(c.client.ip).add(c.server.ip);
  }
  for (const state of states) out.push({ ...none, state }, { ...none, status: 'open', state });
  for (const port of ports) out.push({ ...none, port }, { ...none, status: 'closed', port });
  for (const host of hosts) out.push({ ...none, host }, { ...none, host, status: 'open' });
  const c = list[list.length >> 1];
  if (c) {
    out.push({ status: 'all', state: c.server.state, port: c.server.port, host: c.client.ip });
    out.push({ status: c.status, state: c.client.state, port: c.client.port, host: c.server.ip });
  }
  return out;
}

function checkAll(t: Tracker, what: string): number {
  const list = t.list();
  const qs = queriesFor(list);
  const ids = new Set(list.map((c) => Number(c.id)));
  const newest = list.length ? Number(list[list.length - 1].id) : 0;
  const gone = [...Array(newest).keys()].map((i) => i + 1).filter((id) => !ids.has(id));
  const cursors = [gone[0], gone[gone.length >> 1], gone[gone.length - 1], newest + 5].filter((x) => x !== undefined);
  for (const q of qs) {
    for (const limit of [1, 3, 1000]) expectSameAsFilter(t, q, limit, what);
    for (const after of cursors) expectSameFromCursor(t, q, after, what);
  }
  return qs.length;
}

/**
 * How the tracker answers: from its columns alone, or from the query index (queryindex.ts) kept
 * from the first packet, or built from the table half-way through the replay; the index is made
 * to walk its lists whatever their length, so every query goes through it.
 */
type Indexing = 'none' | 'from the start' | 'from half-way';

/** Replays a file into a tracker, checking every query at `checks` points on the way and at the end. */
async function replayChecking(
  file: string,
  maxConnections: number,
  checks = 4,
  indexing: Indexing = 'none',
): Promise<{ frames: number; queries: number; peak: number }> {
  const t = new Tracker({ maxConnections });
  if (indexing === 'from the start') t.enableQueryIndex(1);
  const seg = new Segment();
  const frames: { ts: number; data: Buffer; linkType: number; origLen: number }[] = [];
  await readCaptureFile(file, (f) => {
    frames.push({ ts: frameTimeMs(f), data: Buffer.from(f.data), linkType: f.linkType, origLen: f.origLen });
  });
  const every = Math.max(1, Math.ceil(frames.length / checks));
  let queries = 0;
  let peak = 0;
  for (let i = 0; i < frames.length; i++) {
    const f = frames[i];
    if (decodeFrame(f.linkType, f.data, f.origLen, seg) === 'ok') t.process(seg, f.ts);
    if (indexing === 'from half-way' && i === frames.length >> 1) t.enableQueryIndex(1);
    if ((i + 1) % every === 0) queries += checkAll(t, `${path.basename(file)} (index: ${indexing}) after ${i + 1} frames`);
    peak = Math.max(peak, t.stats().tracked);
  }
  const last = frames.length ? frames[frames.length - 1].ts : 0;
  t.expire(last + 60_000); // idle timeouts and TIME_WAIT run out: states change, some are dropped
  queries += checkAll(t, `${path.basename(file)} a minute after the end`);
  t.expire(last + 3_600_000); // retention runs out: the table empties
  queries += checkAll(t, `${path.basename(file)} an hour after the end`);
  return { frames: frames.length, queries, peak };
}

describe('addressWords', () => {
  it('reads addresses as the store holds them, IPv4-in-IPv6 tails included', () => {
    const w = (s: string) => [...new Uint8Array(addressWords(s)!.words.buffer)];
    expect(w('10.1.2.3').slice(0, 4)).toEqual([10, 1, 2, 3]);
    expect(w('::1')).toEqual([...new Array(15).fill(0), 1]);
    expect(w('2001:db8::1:2')).toEqual([0x20, 1, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 2]);
    expect(w('::ffff:1.2.3.4')).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 1, 2, 3, 4]);
    expect(w('::ffff:102:304')).toEqual(w('::ffff:1.2.3.4'));
    expect(addressWords('1::2::3')).toBeNull();
    expect(addressWords('1.2.3')).toBeNull();
  });
});

const HAVE_TRACES = existsSync(path.join(FIXTURES, 'manifest.tsv'));

describe('list queries on public traces equal a plain filter', () => {
  // the traces with the most TCP connections, and every one over IPv6
  const rows: { file: string; tcpStreams: number }[] = HAVE_TRACES ? manifest() : [];
  const chosen = new Set([
    ...[...rows].sort((a, b) => b.tcpStreams - a.tcpStreams).slice(0, 6).map((r) => r.file),
    ...rows.filter((r) => /ipv6|ip6/i.test(r.file) && r.tcpStreams > 0).slice(0, 3).map((r) => r.file),
  ]);
  for (const file of chosen) {
    it(file, async () => {
      for (const indexing of ['none', 'from the start', 'from half-way'] as const) {
        const full = await replayChecking(path.join(FIXTURES, file), 1_000_000, 4, indexing);
        expect(full.queries).toBeGreaterThan(0);
        // a table of 3: nearly every connection is evicted by a newer one at some point
        const small = await replayChecking(path.join(FIXTURES, file), 3, 4, indexing);
        expect(small.peak).toBeLessThanOrEqual(3);
      }
    });
  }
});

describe('list queries on a live loopback capture equal a plain filter', needs(root(), tool('tcpdump')), () => {
  it('holds at every point of the replay, after the timers, and with evictions', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'lo.pcap');
    await captureTogether('127.0.0.1', [tcpdumpSpec('tcpdump', file)], async (port) => {
      await typicalTraffic('127.0.0.1', port);
      // some still mid-exchange and some done at each check point
      for (let i = 0; i < 6; i++) await Promise.all(Array.from({ length: 8 }, (_, j) => exchange('127.0.0.1', port, [10 + i, 100 * j + 1])));
    });
    for (const indexing of ['none', 'from the start', 'from half-way'] as const) {
      const full = await replayChecking(file, 100_000, 6, indexing);
      expect(full.peak).toBeGreaterThanOrEqual(50);
      const small = await replayChecking(file, 10, 6, indexing);
      expect(small.peak).toBe(10);
    }
  }, 120_000);
});
