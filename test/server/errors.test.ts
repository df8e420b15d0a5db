// Every error the HTTP API and the WebSocket stream answer with, provoked for real on a server in
// this process: each `error` code seen is one of the lists src/server/errors.ts declares, and every
// code of those lists is seen here.
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SourceInfo } from '../../src/capture/source';
import { EventBus } from '../../src/events/bus';
import { Engine } from '../../src/ingest/engine';
import { createApp } from '../../src/server/app';
import { API_ERROR_CODES, WS_ERROR_CODES } from '../../src/server/errors';
import { listen, type RunningServer } from '../../src/server/listen';
import { DeclaredCodes } from '../support/codes';
import { openStream, wsUrl } from './stream';

const TOKEN = 'a-token';
const api = new DeclaredCodes('API_ERROR_CODES', API_ERROR_CODES);
const ws = new DeclaredCodes('WS_ERROR_CODES', WS_ERROR_CODES);

let server: RunningServer;
/** When set, reading the capture source throws: a fault inside the server, not the request's. */
let sourceFails = false;

beforeAll(async () => {
  const source = (): SourceInfo => {
    if (sourceFails) throw new Error('the capture source is unreadable');
    return { kind: 'live', iface: 'lo', filter: 'tcp', linkType: 1, frames: 0, bytes: 0, dropped: null };
  };
  const app = createApp({ engine: new Engine(), bus: new EventBus(), version: 'test', token: TOKEN, source, ws: { maxClients: 1 } });
  const r = await listen(app, '127.0.0.1', 0);
  if (!r.ok) throw new Error(r.message);
  server = r.running;
});
afterAll(async () => {
  await server?.close();
});

/** The status and body of a request, with the token unless `token` is false. */
async function request(path: string, init: RequestInit = {}, token = true): Promise<{ status: number; body: any }> {
  const headers: Record<string, string> = token ? { authorization: `Bearer ${TOKEN}` } : {};
  const r = await fetch(server.url + path, { ...init, headers });
  return { status: r.status, body: await r.json() };
}

/** A WebSocket upgrade the server refuses: its status and JSON body. */
function refusedUpgrade(path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const req = http.get(new URL(path, server.url), {
      headers: { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==', ...headers },
    });
    req.on('upgrade', () => reject(new Error(`${path}: upgraded`)));
    req.on('response', (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
    });
    req.on('error', reject);
  });
}

describe('the HTTP API’s errors', () => {
  it.each([
    ['no token', 401, 'unauthorized', () => request('api/health', {}, false)],
    ['a method the read-only API does not take', 405, 'method-not-allowed', () => request('api/connections', { method: 'POST' })],
    ['no such endpoint', 404, 'not-found', () => request('api/nothing-here')],
    ['no such connection', 404, 'not-found', () => request('api/connections/12345')],
    ['a connection id that is not percent-encoded right', 400, 'bad-request', () => request('api/connections/%E0%A4%A')],
  ] as const)('%s: %i %s', async (_what, status, code, send) => {
    const r = await send();
    expect(r.status).toBe(status);
    expect(api.see(r.body.error)).toBe(code);
    expect(typeof r.body.detail).toBe('string');
  });

  it('a fault inside the server: 500 internal-error, and the server goes on', async () => {
    sourceFails = true;
    const r = await request('api/health').finally(() => (sourceFails = false));
    expect(r.status).toBe(500);
    expect(api.see(r.body.error)).toBe('internal-error');
    expect(r.body.detail).toBe('the capture source is unreadable');
    expect((await request('api/health')).status).toBe(200);
  });
});

describe('the WebSocket stream’s errors', () => {
  it.each([
    ['not at /ws', 'elsewhere', {}, 404, 'not-found'],
    ['no token', 'ws', {}, 401, 'unauthorized'],
    ['a page of another origin', `ws?token=${TOKEN}`, { origin: 'http://evil.example' }, 403, 'forbidden-origin'],
  ] as const)('%s: %i %s', async (_what, path, headers, status, code) => {
    const r = await refusedUpgrade(path, headers);
    expect(r.status).toBe(status);
    expect(ws.see(r.body.error)).toBe(code);
  });

  it('a client beyond the limit: 503 too-many-clients; a message that is not JSON: bad-message', async () => {
    const s = await openStream(`${wsUrl(server.url)}?token=${TOKEN}`);
    try {
      const r = await refusedUpgrade(`ws?token=${TOKEN}`);
      expect(r.status).toBe(503);
      expect(ws.see(r.body.error)).toBe('too-many-clients');
      s.ws.send('not json');
      const m = await s.next((x) => x.type === 'error', 'the error message');
      expect(ws.see(m.error)).toBe('bad-message');
    } finally {
      s.close();
    }
  });
});

describe('the lists of codes', () => {
  it('hold every code provoked above, and each of them is provoked', () => {
    expect(api.unseen()).toEqual([]);
    expect(ws.unseen()).toEqual([]);
  });
});
