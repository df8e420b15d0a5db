// The list endpoint writes its JSON by hand (src/server/json.ts): its body must be the very text
// JSON.stringify makes of the tracker's page, and that page the connections a plain filter over the
// table gives. Checked over HTTP, on public traces (IPv4 and IPv6) with some connections flagged as
// spanning a capture hole and some carrying what is known of them beyond the packets (processes
// whose command lines need escaping, the kernel's view, an owner's absence).
import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readCaptureFile } from '../../src/capture/file';
import { EventBus } from '../../src/events/bus';
import { Engine } from '../../src/ingest/engine';
import { createApp } from '../../src/server/app';
import { connectionJson } from '../../src/server/json';
import { listen, type RunningServer } from '../../src/server/listen';
import { encodeCursor } from '../../src/server/query';
import type { IdleTimeouts } from '../../src/track/api';
import type { ConnectionView, EndpointNotes } from '../../src/track/connection';
import { FIXTURES, manifest } from '../support/fixtures.mjs';
import { matches, rng, type Query } from '../track/helpers';

const HAVE_TRACES = existsSync(path.join(FIXTURES, 'manifest.tsv'));

/** Every trace with TCP in it. */
function tcpTraces(): string[] {
  return HAVE_TRACES ? manifest().filter((r) => r.tcpStreams > 0).map((r) => r.file) : [];
}

/** A note as the socket watch gives a listener's owner: one object for all its connections. */
const LISTENER_NOTE: EndpointNotes = { process: { pid: 7, command: 'srv', cmdline: 'srv --port "8080"', user: 'www', netns: null, fd: 5, via: 'listener' } };

/** An engine holding the traces, with notes on some endpoints and a capture hole over the first half. */
async function loaded(files: string[]): Promise<Engine> {
  // traces years apart: closed connections stay (as in a replay with a long retention)
  const engine = new Engine({ maxConnections: 1_000_000, timeouts: { closedRetention: 1e15 } as IdleTimeouts });
  for (const [i, file] of files.entries()) {
    await readCaptureFile(path.join(FIXTURES, file), (f) => engine.onFrame(f));
    if (i === files.length >> 1) engine.tracker.markCaptureGap();
  }
  const list = engine.tracker.list();
  for (let i = 0; i < list.length; i += 7) {
    const id = list[i].id;
    engine.tracker.annotate(id, 'client', {
      process: { pid: 100 + i, command: 'cürl', cmdline: `curl -H "X: \\ ${i}" \u2028 http://x/`, user: i % 2 ? 'root' : null, netns: null, fd: 3, via: 'socket' },
    });
    // a listener's owner: one note object shared by connections (then some with a kernel reading merged over it)
    engine.tracker.annotate(id, 'server', i % 2 === 0 ? LISTENER_NOTE : { processReason: 'not-local' });
    if (i % 3 === 0) {
      engine.tracker.annotate(id, 'server', {
        kernel: { state: 'ESTABLISHED', agrees: false, at: 1.7e12 + 0.5, rxQueue: 0, txQueue: 12, srttMs: 0.125, retransTotal: null, cwnd: 10 },
      });
    }
  }
  return engine;
}

/** Queries drawn from what the table holds, singly and combined, as the API takes them. */
function queriesFor(list: ConnectionView[]): Query[] {
  const none: Query = { status: 'all', state: null, port: null, host: null };
  const out: Query[] = [none, { ...none, status: 'open' }, { ...none, status: 'closed' }, { ...none, port: 1 }];
  const c = list[list.length >> 1];
  const v6 = list.find((x) => x.family === 6);
  for (const x of [c, v6, list[0]]) {
    if (!x) continue;
    out.push({ ...none, state: x.server.state }, { ...none, port: x.server.port }, { ...none, host: x.client.ip });
    out.push({ status: x.status, state: x.client.state, port: x.server.port, host: x.server.ip });
  }
  return out;
}

function url(base: string, q: Query, limit: number, after: number): string {
  const p = new URLSearchParams({ status: q.status, limit: String(limit) });
  if (q.state !== null) p.set('state', q.state);
  if (q.port !== null) p.set('port', String(q.port));
  if (q.host !== null) p.set('host', q.host);
  if (after > 0) p.set('cursor', encodeCursor(after));
  return `${base}api/connections?${p}`;
}

describe('the list endpoint’s JSON', { skip: !HAVE_TRACES }, () => {
  let engine: Engine;
  let server: RunningServer;

  beforeAll(async () => {
    engine = await loaded(tcpTraces());
    const app = createApp({
      engine,
      bus: new EventBus(),
      version: 'test',
      source: () => ({ kind: 'file', path: 'traces', format: 'pcap', gzip: false, speed: 'max', bytesRead: 0, totalBytes: 0, frames: engine.frames, done: true, error: null }),
    });
    const r = await listen(app, '127.0.0.1', 0);
    if (!r.ok) throw new Error(r.message);
    server = r.running;
  });
  afterAll(async () => {
    await server?.close();
  });

  it('writes each connection as JSON.stringify does, notes, holes and IPv6 included', () => {
    const list = engine.tracker.list();
    expect(list.length).toBeGreaterThan(150);
    expect(list.some((c) => c.family === 6)).toBe(true);
    expect(list.some((c) => c.captureGap)).toBe(true);
    expect(list.some((c) => c.client.process && c.server.kernel)).toBe(true);
    for (const c of list) expect(connectionJson(c)).toBe(JSON.stringify(c));
    const odd: ConnectionView = { ...list[0], startedAt: 1.5e12 + 0.1, endedAt: null, lastSeenAt: -0, closedBy: 'both', closeKind: 'refused' };
    odd.handshake = { synAt: 1.5e12 + 0.1, synAckAt: null, ackAt: Number.NaN, rttMs: 1e-7, synToSynAckMs: 2e21, synAckToAckMs: 2e21 };
    expect(connectionJson(odd)).toBe(JSON.stringify(odd));
  });

  it('prints numbers as JSON.stringify does: times in ms with µs or ns fractions, integers, odd values', () => {
    const v = engine.tracker.list()[0];
    const r = rng(7);
    const values = [0, -0, 1, -1, 0.001, 0.0015, 0.5, 1e-7, 99.999, 2 ** 43 - 0.001, 2 ** 43 + 0.5, 2 ** 53, 2 ** 53 + 2, 1e21, 1.5e300, -3.25];
    for (let i = 0; i < 5000; i++) {
      const us = Math.floor(r() * 2e15);
      values.push(us / 1000, Math.floor(r() * 1e9) / 1000, (us + r()) / 1000, us / 1e6, us, Math.floor(r() * 2 ** 32), r() * 10);
      // differences of capture times (multiples of their ulp), and other short binary fractions
      const t = us / 1000;
      values.push(t + Math.floor(r() * 1e6) / 1000 - t, Math.floor(r() * 2 ** 30) / 2 ** Math.floor(r() * 26), r() * 1e-5);
    }
    values.push(2 ** -20, 2 ** -19, 2 ** -22, 2 ** -23, 1e-6, 2 ** 43 - 2 ** -9, 0.095947265625, 1e-7);
    for (const x of values) {
      const w: ConnectionView = { ...v, startedAt: x, counts: { client: { packets: x, bytes: 0 }, server: v.counts.server } };
      expect(connectionJson(w), String(x)).toBe(JSON.stringify(w));
    }
  });

  it('answers every page of every query with the text JSON.stringify makes of the plain filter’s page', async () => {
    const t = engine.tracker;
    const all = t.list();
    let pages = 0;
    for (const q of queriesFor(all)) {
      const expected = all.filter((c) => matches(c, q));
      for (const limit of [1, 7, 1000]) {
        let after = 0;
        // the first 20 pages of each: a cursor page of every kind, not every one of a 1-connection paging
        for (let seen = 0, n = 0; n < 20; n++) {
          const res = await fetch(url(server.url, q, limit, after));
          expect(res.status).toBe(200);
          expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
          const text = await res.text();
          const page = expected.slice(seen, seen + limit);
          seen += page.length;
          const last = page[page.length - 1];
          const nextCursor = seen < expected.length && last ? encodeCursor(Number(last.id)) : null;
          const label = `${JSON.stringify(q)} limit ${limit} after ${after}`;
          expect(text, label).toBe(JSON.stringify({ connections: page, nextCursor, total: expected.length }));
          pages++;
          if (nextCursor === null) break;
          after = Number(last.id);
        }
      }
    }
    expect(pages).toBeGreaterThan(50);
  });

  it('writes an endpoint’s notes as they are now, after they change, though their text is kept', async () => {
    const t = engine.tracker;
    const q: Query = { status: 'all', state: null, port: null, host: null };
    const page = async () => (await fetch(url(server.url, q, 1000, 0))).text();
    const expected = () => {
      const all = t.list();
      return JSON.stringify({ connections: all.slice(0, 1000), nextCursor: all.length > 1000 ? encodeCursor(Number(all[999].id)) : null, total: all.length });
    };
    expect(await page()).toBe(expected());
    const id = t.list()[7].id;
    for (const srttMs of [1.5, 2.25]) {
      t.annotate(id, 'server', { kernel: { state: 'TIME_WAIT', agrees: true, at: 1.7e12, rxQueue: 0, txQueue: 0, srttMs, retransTotal: 1, cwnd: 4 } });
      t.annotate(id, 'client', { processReason: 'not-local' });
      const text = await page();
      expect(text).toContain(`"srttMs":${srttMs}`);
      expect(text).toBe(expected());
    }
  });

  it('keeps a stored note frozen: the object given itself when the side had none, else the merged one', () => {
    const t = engine.tracker;
    const id = t.list()[3].id;
    const given: EndpointNotes = { processReason: 'not-local' };
    expect(t.annotate(id, 'client', given)).toBe(true);
    expect(Object.isFrozen(given)).toBe(true);
    expect(Object.isFrozen(LISTENER_NOTE)).toBe(true);
    t.annotate(id, 'client', { kernel: { state: 'CLOSE_WAIT', agrees: true, at: 1.7e12, rxQueue: 0, txQueue: 0, srttMs: 3, retransTotal: 0, cwnd: 10 } });
    expect(t.get(id)!.client).toMatchObject({ processReason: 'not-local', kernel: { srttMs: 3 } });
  });

  it('writes a view’s notes as the view holds them now: a view’s endpoints are its caller’s to change', () => {
    const v = engine.tracker.list().find((c) => c.client.process !== undefined && c.server.process !== undefined)!;
    expect(connectionJson(v)).toBe(JSON.stringify(v));
    v.client.processReason = 'not-local';
    v.server.process = null;
    delete v.server.kernel;
    expect(connectionJson(v)).toContain('"processReason":"not-local"');
    expect(connectionJson(v)).toBe(JSON.stringify(v));
  });
});
