// Access control of the HTTP API and the WebSocket stream: a token off loopback, same-origin
// WebSocket upgrades, a read-only API. Runs `tcpscope replay` of a public capture (no root needed).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_ERROR_CODES } from '../../src/server/errors';
import { trace } from '../support/fixtures.mjs';
import { buildOnce, getJson, startCli, type RunningCli } from '../cli/support';
import { upgradeStatus, wsUrl } from './stream';

const TRACE = trace('http-vlan-0.pcap');
const TOKEN = 'correct-horse-battery-staple';

describe('off loopback a token is required', () => {
  let cli: RunningCli;
  let base = '';

  beforeAll(async () => {
    await buildOnce();
    cli = await startCli(['replay', TRACE, '--speed', 'max', '--listen', '0.0.0.0:0'], { env: { TCPSCOPE_TOKEN: TOKEN } });
    base = cli.url;
  });
  afterAll(async () => {
    await cli?.stop();
  });

  it('prints a URL that works from this machine', () => {
    expect(base).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
  });

  it('refuses REST and metrics requests without the right token', async () => {
    for (const p of ['api/health', 'api/connections', 'api/stats', 'metrics']) {
      const none = await fetch(base + p);
      expect(none.status, p).toBe(401);
      expect(none.headers.get('www-authenticate')).toBe('Bearer');
      const body = (await none.json()) as any;
      expect(body.error).toBe('unauthorized');
      expect(API_ERROR_CODES).toContain(body.error);
      const wrong = await fetch(base + p, { headers: { authorization: 'Bearer not-the-token' } });
      expect(wrong.status, p).toBe(401);
      const prefix = await fetch(base + p, { headers: { authorization: `Bearer ${TOKEN.slice(0, -1)}` } });
      expect(prefix.status, p).toBe(401);
    }
  });

  it('accepts the token as a Bearer header or a token parameter', async () => {
    const h = await getJson(`${base}api/health`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(h.status).toBe(200);
    expect(h.body.source.kind).toBe('file');
    expect((await getJson(`${base}api/connections?status=all&token=${TOKEN}`)).status).toBe(200);
    expect((await fetch(`${base}metrics?token=${TOKEN}`)).status).toBe(200);
  });

  it('checks the token and the Origin on WebSocket upgrades', async () => {
    const ws = wsUrl(base);
    expect(await upgradeStatus(ws)).toBe(401);
    expect(await upgradeStatus(`${ws}?token=wrong`)).toBe(401);
    expect(await upgradeStatus(`${ws}?token=${TOKEN}`)).toBe(101);
    expect(await upgradeStatus(ws, { headers: { authorization: `Bearer ${TOKEN}` } })).toBe(101);
    const own = base.replace(/\/$/, '');
    expect(await upgradeStatus(`${ws}?token=${TOKEN}`, { origin: own })).toBe(101);
    expect(await upgradeStatus(`${ws}?token=${TOKEN}`, { origin: 'http://evil.example' })).toBe(403);
    expect(await upgradeStatus(`${ws}?token=${TOKEN}`, { origin: own.replace(/:\d+$/, ':1') })).toBe(403);
    expect(await upgradeStatus(`${base.replace(/^http/, 'ws')}elsewhere?token=${TOKEN}`)).toBe(404);
  });

  it('is read-only', async () => {
    const r = await fetch(`${base}api/connections`, { method: 'DELETE', headers: { authorization: `Bearer ${TOKEN}` } });
    expect(r.status).toBe(405);
    const body = (await r.json()) as any;
    expect(body.error).toBe('method-not-allowed');
    expect(API_ERROR_CODES).toContain(body.error);
    expect(r.headers.get('allow')).toBe('GET, HEAD');
  });
});

describe('on loopback', () => {
  let cli: RunningCli;

  beforeAll(async () => {
    await buildOnce();
    cli = await startCli(['replay', TRACE, '--speed', 'max', '--listen', '127.0.0.1:0'], { env: { TCPSCOPE_TOKEN: '' } });
  });
  afterAll(async () => {
    await cli?.stop();
  });

  it('needs no token, but still refuses a foreign page’s WebSocket', async () => {
    expect((await getJson(`${cli.url}api/health`)).status).toBe(200);
    expect(await upgradeStatus(wsUrl(cli.url))).toBe(101);
    expect(await upgradeStatus(wsUrl(cli.url), { origin: 'http://localhost.evil.example:7070' })).toBe(403);
  });

  it('serves the dashboard at /', async () => {
    const r = await fetch(cli.url);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/text\/html/);
    expect(await r.text()).toMatch(/<html/i);
  });
});
