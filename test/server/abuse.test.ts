// The HTTP API and the WebSocket stream fed garbage: malformed, huge, binary and unknown messages,
// floods of subscribes, odd and deep query strings, path traversal on the dashboard's files, raw
// malformed HTTP. Each gets a clear error, and the server stays up and keeps serving the whole
// time. Runs `tcpscope replay` of a public capture (no root needed).
import net from 'node:net';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../../src/ingest/engine';
import { EventBus } from '../../src/events/bus';
import { createApp, type TcpscopeApp } from '../../src/server/app';
import { WS_ERROR_CODES } from '../../src/server/errors';
import { listen, type RunningServer } from '../../src/server/listen';
import { trace } from '../support/fixtures.mjs';
import { buildOnce, getJson, startCli, type RunningCli } from '../cli/support';
import { waitFor } from '../support/wait';
import { openStream, upgradeStatus, wsUrl, type Stream } from './stream';

const TRACE = trace('http-vlan-0.pcap');

let cli: RunningCli;
let base = '';

beforeAll(async () => {
  await buildOnce();
  cli = await startCli(['replay', TRACE, '--speed', 'max', '--listen', '127.0.0.1:0'], { env: { TCPSCOPE_TOKEN: '' } });
  base = cli.url;
});
afterAll(async () => {
  await cli?.stop();
});

/** The server answers a plain request normally: checked after every kind of abuse. */
async function stillServing(): Promise<void> {
  const h = await getJson(`${base}api/health`);
  expect(h.status).toBe(200);
  expect(h.body.status).toBe('ok');
}

/** Sends raw bytes on a fresh TCP connection and returns everything the server says back. */
function raw(bytes: string | Buffer, waitMs = 2000): Promise<string> {
  const { port } = new URL(base);
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port: Number(port) });
    let got = '';
    s.on('data', (d) => (got += d.toString('latin1')));
    s.on('error', () => undefined);
    s.on('close', () => resolve(got));
    s.on('connect', () => s.write(bytes));
    setTimeout(() => s.destroy(), waitMs);
  });
}

function closed(s: Stream): Promise<{ code: number; reason: string }> {
  return new Promise((r) => s.ws.on('close', (code, reason) => r({ code, reason: reason.toString() })));
}

describe('WebSocket messages that are not what the protocol says', () => {
  it('answers malformed, binary, unknown and ill-formed messages with an error and stays open', async () => {
    const s = await openStream(wsUrl(base));
    await s.next((m) => m.type === 'snapshot', 'snapshot');
    const bad: (string | Buffer)[] = [
      '{not json',
      '',
      'null',
      '42',
      '"subscribe"',
      '[]',
      '{}',
      '{"type":"unsubscribe"}',
      '{"type":"subscribe"}',
      '{"type":"subscribe","filter":{"ports":[70000]}}',
      '{"type":"subscribe","filter":{"ports":"80"}}',
      `{"type":"subscribe","filter":{"ports":[${Array.from({ length: 65 }, (_, i) => i).join(',')}]}}`,
      '{"type":"subscribe","filter":{"hosts":["not-an-address"]}}',
      '{"type":"subscribe","filter":{"types":["state","bogus"]}}',
      '{"type":"subscribe","filter":{},"extra":1}',
      '{"type":"subscribe","filter":{"__proto__":{"x":1}}}',
      `{"type":"subscribe","filter":{"ports":${'['.repeat(5000)}${']'.repeat(5000)}}}`,
      '\u0000\u0001\u0002',
      Buffer.from([0x00, 0xff, 0x10]),
    ];
    for (const m of bad) s.ws.send(m, { binary: Buffer.isBuffer(m) });
    const errors = await s.next(() => s.messages.filter((x) => x.type === 'error').length >= bad.length, 'one error per message');
    expect(errors).toBeDefined();
    const replies = s.messages.filter((x) => x.type === 'error');
    expect(replies).toHaveLength(bad.length);
    for (const r of replies) {
      expect(r.error).toBe('bad-message');
      expect(WS_ERROR_CODES).toContain(r.error);
      expect(typeof r.detail).toBe('string');
      expect(r.detail.length).toBeGreaterThan(0);
    }
    expect(replies.at(-1).detail).toMatch(/JSON text/);
    // still open, and a good message still works
    s.ws.send(JSON.stringify({ type: 'subscribe', filter: { types: ['state'] } }));
    const sub = await s.next((m) => m.type === 'subscribed', 'subscribed');
    expect(sub.filter).toEqual({ types: ['state'] });
    expect(s.ws.readyState).toBe(WebSocket.OPEN);
    s.close();
    await stillServing();
  });

  it('closes on a message over 16 KiB (1009) without buffering it, huge ones too', async () => {
    for (const size of [16 * 1024 + 1, 8 * 1024 * 1024]) {
      const s = await openStream(wsUrl(base));
      const done = closed(s);
      s.ws.send('x'.repeat(size));
      expect((await done).code).toBe(1009);
    }
    await stillServing();
  });

  it('cuts off a client that floods subscribes, and only that client', async () => {
    const calm = await openStream(wsUrl(base));
    await calm.next((m) => m.type === 'snapshot', 'snapshot');
    const flood = await openStream(wsUrl(base));
    await flood.next((m) => m.type === 'snapshot', 'snapshot');
    const done = closed(flood);
    const msg = JSON.stringify({ type: 'subscribe', filter: { ports: [80] } });
    for (let i = 0; i < 5000 && flood.ws.readyState === WebSocket.OPEN; i++) flood.ws.send(msg);
    const c = await done;
    expect(c.code).toBe(1008);
    expect(c.reason).toMatch(/too many messages/);
    // at most about a burst of replies (100, plus 20 a second while the server works through the
    // flood; replies are written in passes, so the cut may come before any is flushed), and one
    // snapshot per burst of subscribes rather than one each
    const subscribed = flood.messages.filter((m) => m.type === 'subscribed').length;
    expect(subscribed).toBeLessThan(500);
    // the first snapshot, then at most one per subscribe answered (they coalesce)
    expect(flood.messages.filter((m) => m.type === 'snapshot').length).toBeLessThanOrEqual(subscribed + 1);
    // the other client is untouched
    calm.ws.send(JSON.stringify({ type: 'subscribe', filter: {} }));
    await calm.next((m) => m.type === 'subscribed', 'subscribed on the calm client');
    expect(calm.ws.readyState).toBe(WebSocket.OPEN);
    calm.close();
    const st = await getJson(`${base}api/stats`);
    expect(st.body.ws.dropped.flooding).toBeGreaterThanOrEqual(1);
    await stillServing();
  });

  it('refuses broken upgrade requests with an HTTP error', async () => {
    const { host } = new URL(base);
    const upgrade = (extra: string, p = '/ws') =>
      raw(`GET ${p} HTTP/1.1\r\nHost: ${host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n${extra}\r\n`);
    expect(await upgrade('Sec-WebSocket-Version: 13\r\n')).toMatch(/^HTTP\/1\.1 400/); // no key
    expect(await upgrade('Sec-WebSocket-Key: short\r\nSec-WebSocket-Version: 13\r\n')).toMatch(/^HTTP\/1\.1 400/);
    expect(await upgrade('Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 99\r\n')).toMatch(/^HTTP\/1\.1 (400|426)/);
    expect(await upgrade('Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n', '/../ws')).toMatch(/^HTTP\/1\.1 404/);
    expect(await upgradeStatus(`${wsUrl(base)}?token=a&token=b`)).toBe(101); // no token configured here
    await stillServing();
  });
});

describe('query strings', () => {
  it('answers odd, repeated, nested, huge and malformed parameters with 400 and a named parameter', async () => {
    const cases: [string, string][] = [
      ['api/connections?status=open&status=closed', 'status'],
      ['api/connections?status[a][b][c]=1', 'status[a][b][c]'],
      ['api/connections?limit=1e400', 'limit'],
      ['api/connections?limit=-1', 'limit'],
      ['api/connections?limit=0x10', 'limit'],
      ['api/connections?limit=%00', 'limit'],
      ['api/connections?port=65536', 'port'],
      ['api/connections?port=%F0%9F%92%A5', 'port'],
      ['api/connections?host=%zz', 'host'],
      ['api/connections?host=1.2.3.4%00', 'host'],
      ['api/connections?host=' + 'a'.repeat(5000), 'host'],
      ['api/connections?state=LISTEN;DROP', 'state'],
      ['api/connections?cursor=' + 'Z'.repeat(300), 'cursor'],
      ['api/connections?cursor=../../etc/passwd', 'cursor'],
      ['api/connections?__proto__=1', '__proto__'],
      ['api/connections?constructor=1', 'constructor'],
      ['api/stats?x=1', 'x'],
      ['api/health?' + Array.from({ length: 300 }, (_, i) => `p${i}=1`).join('&'), 'p0'],
    ];
    for (const [q, param] of cases) {
      const r = await getJson(base + q);
      expect(r.status, q.slice(0, 80)).toBe(400);
      expect(r.body.parameter, q.slice(0, 80)).toBe(param);
      expect(typeof r.body.detail).toBe('string');
    }
    await stillServing();
  });

  it('answers a request line too long to read with an HTTP error, not a crash', async () => {
    const r = await fetch(`${base}api/connections?host=${'a'.repeat(100_000)}`);
    expect([400, 414, 431]).toContain(r.status);
    await stillServing();
  });

  it('keeps unknown API paths and methods apart from the data', async () => {
    expect((await getJson(`${base}api/connections/${'%2e%2e%2f'.repeat(50)}etc`)).status).toBe(404);
    expect((await getJson(`${base}api/connections/${'x'.repeat(5000)}`)).status).toBe(404);
    expect((await getJson(`${base}api/nope`)).status).toBe(404);
    const post = await fetch(`${base}api/connections`, { method: 'POST', body: 'x'.repeat(1 << 20) });
    expect(post.status).toBe(405);
    await stillServing();
  });
});

describe('static files', () => {
  const secrets = [/root:.*:0:0:/, /"name":\s*"tcpscope"/, /"dependencies"/, /BEGIN .*PRIVATE KEY/];

  it('never serves a file from outside the dashboard folder', async () => {
    const paths = [
      '/../package.json',
      '/../../../../etc/passwd',
      '/%2e%2e/package.json',
      '/%2e%2e/%2e%2e/%2e%2e/etc/passwd',
      '/..%2fpackage.json',
      '/..%2f..%2f..%2fetc%2fpasswd',
      '/%2e%2e%2fpackage.json',
      '/..%5cpackage.json',
      '/js/../../package.json',
      '/js/%2e%2e/%2e%2e/package.json',
      '//etc/passwd',
      '/%00../package.json',
      '/index.html%00.json',
      '/.%2e/package.json',
      '/....//package.json',
      '/js/..;/..;/package.json',
    ];
    const { host } = new URL(base);
    for (const p of paths) {
      // raw, so that neither fetch nor URL normalises the path before it reaches the server
      const res = await raw(`GET ${p} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
      const status = Number(/^HTTP\/1\.1 (\d+)/.exec(res)?.[1]);
      expect([400, 403, 404], p).toContain(status);
      for (const s of secrets) expect(res, p).not.toMatch(s);
    }
    // dot files in the folder are not served either
    expect((await fetch(`${base}.gitignore`)).status).toBe(404);
    await stillServing();
  });
});

describe('raw HTTP garbage', () => {
  it('answers malformed requests with 400 and keeps serving', async () => {
    for (const junk of [
      'GARBAGE\r\n\r\n',
      'GET / HTTP/9.9\r\n\r\n',
      'GET /api/health HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n',
      'GET /api/health HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n',
      `GET /api/health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
      Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03]), // a TLS hello
    ]) {
      const res = await raw(junk);
      expect(res).toMatch(/^HTTP\/1\.1 (400|413|431|505)/);
    }
    await stillServing();
  });

  it('survives a thousand connections that send half a request and go away', async () => {
    const { host, port } = new URL(base);
    await Promise.all(
      Array.from(
        { length: 1000 },
        (_, i) =>
          new Promise<void>((r) => {
            const s = net.connect({ host, port: Number(port) }, () => {
              // (bare empty lines are allowed before a request line: the server waits for more)
              s.write(i % 2 === 0 ? 'GET /api/stats HTTP/1.1\r\nHost: x\r\n' : '\r\n\r\n');
              s.destroy();
              r();
            });
            s.on('error', () => r());
          }),
      ),
    );
    await stillServing();
    const s = await openStream(wsUrl(base));
    await s.next((m) => m.type === 'snapshot', 'snapshot after the storm');
    s.close();
  });
});

describe('hostile WebSocket clients (a server with small limits, in this process)', () => {
  // Events go through the real event bus, as in ws-backpressure.test.ts.
  let server: RunningServer;
  let bus: EventBus;
  let app: TcpscopeApp;
  const PAD = 'x'.repeat(1000);

  beforeAll(async () => {
    const engine = new Engine();
    bus = new EventBus();
    engine.tracker.onEventRecord(bus.publishRecord);
    app = createApp({
      engine,
      bus,
      version: 'test',
      source: () => ({ kind: 'live', iface: 'lo', filter: 'tcp', linkType: 1, frames: 0, bytes: 0, dropped: null }),
      ws: { stallTimeoutMs: 600, maxClientsPerAddress: 3, maxInFlightBytes: 64 * 1024, highWaterBytes: 16 * 1024, maxNewClientsPerSecond: 1000 },
    });
    const r = await listen(app, '127.0.0.1', 0);
    if (!r.ok) throw new Error(r.message);
    server = r.running;
  });
  afterAll(async () => {
    await server?.close();
  });

  const publish = (n: number) => {
    for (let i = 0; i < n; i++) bus.publish({ type: 'anomaly', kind: 'dup-ack', side: 'client', connectionId: 'h', ts: i, detail: PAD });
  };
  const hub = () => app.locals.services.ws as unknown as { clientCount: number; dropped: Record<string, number>; clients: Set<{ sentBytes: number; ackedBytes: number }> };

  it('sends a client that never reads no more than its in-flight allowance, then closes it as stalled', async () => {
    const s = await openStream(wsUrl(server.url));
    await s.next((m) => m.type === 'snapshot', 'snapshot');
    (s.ws as any)._socket.pause();
    const done = closed(s);
    const before = hub().dropped.stalled;
    for (let k = 0; k < 20; k++) {
      publish(100);
      await new Promise((r) => setTimeout(r, 20));
    }
    // ~2 MB published; what went to this client stops near the 64 KiB allowance (+ one batch)
    const c = [...hub().clients][0];
    expect(c.sentBytes - c.ackedBytes).toBeLessThan(64 * 1024 + 128 * 1100);
    await waitFor('the stalled client to be closed', () => hub().dropped.stalled > before, 5000);
    (s.ws as any)._socket.resume();
    await done;
    expect(hub().clientCount).toBe(0);
  });

  it('a client that reads slowly but steadily is not taken for stalled', async () => {
    const s = await openStream(wsUrl(server.url));
    await s.next((m) => m.type === 'snapshot', 'snapshot');
    for (let k = 0; k < 15; k++) {
      (s.ws as any)._socket.pause();
      publish(100);
      await new Promise((r) => setTimeout(r, 150));
      (s.ws as any)._socket.resume();
      await new Promise((r) => setTimeout(r, 30));
    }
    expect(s.ws.readyState).toBe(WebSocket.OPEN);
    await s.next((m) => m.type === 'event' && m.seq === bus.lastSeq, 'the last event', 10_000);
    s.close();
  });

  it('limits clients per remote address', async () => {
    await waitFor('earlier clients to be gone', () => hub().clientCount === 0);
    const mine = [];
    for (let i = 0; i < 3; i++) mine.push(await openStream(wsUrl(server.url)));
    expect(await upgradeStatus(wsUrl(server.url))).toBe(503);
    // another loopback address is another client
    const other = await new Promise<number>((resolve) => {
      const ws = new WebSocket(wsUrl(server.url), { localAddress: '127.0.0.2' });
      ws.once('open', () => (resolve(101), ws.close()));
      ws.once('unexpected-response', (_q, res) => resolve(res.statusCode ?? 0));
    });
    expect(other).toBe(101);
    for (const s of mine) s.close();
  });
});

describe('a crowd connecting at once', () => {
  it('admits a burst of 50, then paces new clients (503, retry later)', async () => {
    const engine = new Engine();
    const bus = new EventBus();
    const app = createApp({
      engine,
      bus,
      version: 'test',
      source: () => ({ kind: 'live', iface: 'lo', filter: 'tcp', linkType: 1, frames: 0, bytes: 0, dropped: null }),
      ws: { maxNewClientsPerSecond: 1, maxClientsPerAddress: 1000 },
    });
    const r = await listen(app, '127.0.0.1', 0);
    if (!r.ok) throw new Error(r.message);
    try {
      const statuses = [];
      for (let i = 0; i < 60; i++) statuses.push(await upgradeStatus(wsUrl(r.running.url)));
      const accepted = statuses.filter((s) => s === 101).length;
      expect(accepted).toBeGreaterThanOrEqual(50);
      expect(accepted).toBeLessThanOrEqual(52);
      expect(statuses.slice(-5)).toEqual([503, 503, 503, 503, 503]);
      expect((await getJson(`${r.running.url}api/stats`)).body.ws.refused.rate).toBeGreaterThanOrEqual(8);
    } finally {
      await r.running.close();
    }
  });
});
