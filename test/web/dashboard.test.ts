import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import type net from 'node:net';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestBrowser } from '../support/browser';
import {
  ROOT,
  TestServer,
  api,
  closeClient,
  freePort,
  openClient,
  openDashboard,
  refusedConnect,
  sleep,
  startTcpscope,
  waitFor,
  selectRow,
  type Tcpscope,
} from './harness';

// The dashboard against a real `tcpscope live` capturing real loopback connections, in Chromium.

const TOKEN = `web-${process.pid}-${Date.now().toString(36)}`;
const ARTIFACTS = path.join(ROOT, 'test-artifacts');

interface SegInfo {
  from: string;
  flags: string;
  relSeq: number;
  relAck: number;
  seq: number;
  ack: number;
  label: string;
}
interface Counts {
  client: Record<string, number>;
  server: Record<string, number>;
}

let srv: TestServer;
let refusedPort: number;
let apiPort: number;
let scope: Tcpscope;
let browser: TestBrowser;
let page: Page;
const open: net.Socket[] = [];
const ports: Record<string, number> = {};

function liveArgs(): string[] {
  return ['live', '-i', 'lo', '-p', String(srv.port), '-p', String(refusedPort)];
}

/** Evaluated in the page as a plain expression (the project's TypeScript has no DOM types). */
function inPage<T>(expr: string): Promise<T> {
  return page.evaluate(expr) as Promise<T>;
}

function rowOf(clientPort: number) {
  return page.locator('#conn-body .vrow').filter({
    has: page.locator('[data-col="client"]', { hasText: new RegExp(`^127\\.0\\.0\\.1:${clientPort}$`) }),
  });
}

async function cell(clientPort: number, col: string): Promise<string | null> {
  const r = rowOf(clientPort);
  if ((await r.count()) !== 1) return null;
  return r.locator(`[data-col="${col}"]`).textContent();
}

function ladderSegs(): Promise<SegInfo[]> {
  return inPage<SegInfo[]>(`[...document.querySelectorAll('#ladder .seg')].map((g) => ({
    from: g.dataset.from, flags: g.dataset.flags, relSeq: +g.dataset.relSeq, relAck: +g.dataset.relAck,
    seq: +g.dataset.seq, ack: +g.dataset.ack, label: g.querySelector('.lbl').textContent }))`);
}

function lifelineStates(side: 'client' | 'server'): Promise<string[]> {
  return inPage<string[]>(`[...document.querySelectorAll('#ladder .lstate[data-side="${side}"]')].map((g) => g.dataset.state)`);
}

function diagramCounts(): Promise<Counts | null> {
  return inPage<Counts | null>(`(() => { const d = document.querySelector('.state-svg').dataset.counts; return d ? JSON.parse(d) : null; })()`);
}

async function clientPortWhenSeen(sock: net.Socket): Promise<number> {
  const p = sock.localPort!;
  await waitFor(`connection from ${p} in the API`, async () => {
    const body = await api<{ total: number }>(scope, TOKEN, `/api/connections?status=all&port=${p}`);
    return body.total > 0;
  });
  return p;
}

/** Capture may start a moment after the API answers: the first probe connection it reports proves it runs. */
async function captureReady(): Promise<void> {
  await waitFor(
    'capture to see a probe connection',
    async () => {
      const s = await openClient(srv.port);
      await closeClient(s);
      await sleep(150);
      const body = await api<{ total: number }>(scope, TOKEN, `/api/connections?status=all&port=${srv.port}`);
      return body.total > 0;
    },
    20_000,
    300,
  );
}

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  srv = new TestServer();
  await srv.listen();
  refusedPort = await freePort();
  apiPort = await freePort();
  scope = await startTcpscope(liveArgs(), apiPort, TOKEN);
  await captureReady();
  browser = await openDashboard(scope, TOKEN, '&closed=1');
  page = browser.page;
});

afterAll(async () => {
  for (const s of open) s.destroy();
  await browser?.close();
  await scope?.stop();
  await srv?.close();
});

describe('dashboard on a live capture', () => {
  it('shows each connection as a row with both endpoint states', async () => {
    const held = await openClient(srv.port);
    open.push(held);
    ports.held = held.localPort!;

    const normal = await openClient(srv.port);
    ports.normal = normal.localPort!;
    await closeClient(normal);

    const half = await openClient(srv.port);
    open.push(half);
    ports.half = half.localPort!;
    srv.holdOpen.add(ports.half);
    half.end();

    const rst = await openClient(srv.port);
    ports.rst = rst.localPort!;
    rst.resetAndDestroy();

    ports.refused = await refusedConnect(refusedPort);

    const expected: Record<string, [string, string]> = {
      held: ['ESTABLISHED', 'ESTABLISHED'],
      normal: ['TIME_WAIT', 'CLOSED'],
      half: ['FIN_WAIT_2', 'CLOSE_WAIT'],
      rst: ['CLOSED', 'CLOSED'],
      refused: ['CLOSED', 'CLOSED'],
    };
    for (const [name, [c, s]] of Object.entries(expected)) {
      const p = ports[name];
      await expect.poll(() => cell(p, 'cstate'), { timeout: 10_000, message: `${name} client state` }).toBe(c);
      await expect.poll(() => cell(p, 'sstate'), { timeout: 10_000, message: `${name} server state` }).toBe(s);
      expect(await cell(p, 'server')).toBe(`127.0.0.1:${name === 'refused' ? refusedPort : srv.port}`);
    }

    // The Zeek verdict in the table is the server's own.
    const list = await api<{ connections: { client: { port: number }; connState: string }[] }>(scope, TOKEN, '/api/connections?status=all&limit=1000');
    for (const name of Object.keys(expected)) {
      const c = list.connections.find((x) => x.client.port === ports[name]);
      expect(c, name).toBeDefined();
      await expect.poll(() => cell(ports[name], 'conn'), { timeout: 10_000, message: `${name} connState` }).toBe(c!.connState);
    }
    expect(await cell(ports.refused, 'conn')).toBe('REJ');
    expect(await rowOf(ports.normal).getAttribute('data-status')).toBe('closed');
    expect(await rowOf(ports.held).getAttribute('data-status')).toBe('open');
    expect(await cell(ports.normal, 'rtt')).toMatch(/ms$/);
    expect(await cell(ports.normal, 'up')).toBe('5 B');
    expect(await cell(ports.normal, 'down')).toBe('5 B');
  });

  it('draws the ladder of a chosen connection: handshake, data, four-way close, states on each lifeline', async () => {
    await selectRow(page, rowOf(ports.normal), ports.normal);
    await expect.poll(async () => (await ladderSegs()).length, { timeout: 10_000 }).toBeGreaterThanOrEqual(8);
    await expect(page.locator('#ladder-sub').textContent()).resolves.toContain(`127.0.0.1:${ports.normal} → 127.0.0.1:${srv.port}`);
    const segs = await ladderSegs();

    expect(segs[0]).toMatchObject({ from: 'client', flags: 'S', relSeq: 0 });
    expect(segs[0].label).toBe('SYN seq=0');
    expect(segs[1]).toMatchObject({ from: 'server', flags: 'SA', relSeq: 0, relAck: 1 });
    expect(segs[1].label).toBe('SYN+ACK seq=0 ack=1');
    expect(segs[2]).toMatchObject({ from: 'client', flags: 'A', relSeq: 1, relAck: 1 });
    expect(segs[2].label).toBe('ACK seq=1 ack=1');
    expect(segs[1].ack).toBe((segs[0].seq + 1) >>> 0);

    const hello = segs.find((s) => s.from === 'client' && s.flags.includes('P'));
    expect(hello?.label).toBe('PSH+ACK seq=1 ack=1 len=5');
    const finC = segs.find((s) => s.from === 'client' && s.flags.includes('F'));
    const finS = segs.find((s) => s.from === 'server' && s.flags.includes('F'));
    expect(finC).toMatchObject({ relSeq: 6 });
    expect(finS).toMatchObject({ relSeq: 6, relAck: 7 });
    expect(finC!.label).toMatch(/^FIN\+ACK seq=6 ack=\d+$/);
    const last = segs[segs.length - 1];
    expect(last).toMatchObject({ from: 'client', flags: 'A', relSeq: 7, relAck: 7 });

    expect(await lifelineStates('client')).toEqual(['CLOSED', 'SYN_SENT', 'ESTABLISHED', 'FIN_WAIT_1', 'FIN_WAIT_2', 'TIME_WAIT']);
    expect(await lifelineStates('server')).toEqual(['LISTEN', 'SYN_RECEIVED', 'ESTABLISHED', 'CLOSE_WAIT', 'LAST_ACK', 'CLOSED']);

    // Absolute numbers on the toggle, and always in the hover title.
    const title = await inPage<string>(`document.querySelectorAll('#ladder .seg')[1].querySelector('title').textContent`);
    expect(title).toContain(`ack ${segs[1].ack} (relative 1)`);
    await page.locator('#ladder-abs').check();
    await expect
      .poll(() => inPage<string>(`document.querySelectorAll('#ladder .seg')[1].querySelector('.lbl').textContent`))
      .toBe(`SYN+ACK seq=${segs[1].seq} ack=${segs[1].ack}`);
    await page.locator('#ladder-abs').uncheck();

    // The state diagram follows the same two paths.
    const trail = (side: string) => inPage<string[]>(`[...document.querySelectorAll('.state-svg .trail-${side}')].map((p) => p.dataset.to)`);
    expect(await trail('client')).toEqual(['SYN_SENT', 'ESTABLISHED', 'FIN_WAIT_1', 'FIN_WAIT_2', 'TIME_WAIT']);
    expect(await trail('server')).toEqual(['SYN_RECEIVED', 'ESTABLISHED', 'CLOSE_WAIT', 'LAST_ACK', 'CLOSED']);
    expect(await page.locator('.state-svg .node.cur-client').getAttribute('data-state')).toBe('TIME_WAIT');
    expect(await page.locator('.state-svg .node.cur-server').getAttribute('data-state')).toBe('CLOSED');
  });

  it('draws a refused connection and a reset', async () => {
    await selectRow(page, rowOf(ports.refused), ports.refused);
    await expect.poll(async () => (await ladderSegs()).map((s) => s.flags).join(' '), { timeout: 10_000 }).toMatch(/^S R/);
    expect(await lifelineStates('client')).toEqual(['CLOSED', 'SYN_SENT', 'CLOSED']);
    expect(await lifelineStates('server')).toEqual(['CLOSED']);

    await selectRow(page, rowOf(ports.rst), ports.rst);
    await expect.poll(async () => (await ladderSegs()).some((s) => s.from === 'client' && s.flags.startsWith('R')), { timeout: 10_000 }).toBe(true);
    const c = await lifelineStates('client');
    const s = await lifelineStates('server');
    expect(c.slice(-2)).toEqual(['ESTABLISHED', 'CLOSED']);
    expect(s.slice(-2)).toEqual(['ESTABLISHED', 'CLOSED']);
  });

  it('updates the ladder live while the selected connection runs', async () => {
    const s = await openClient(srv.port);
    const p = await clientPortWhenSeen(s);
    await expect.poll(() => cell(p, 'cstate'), { timeout: 10_000 }).toBe('ESTABLISHED');
    await selectRow(page, rowOf(p), p);
    await expect.poll(async () => (await lifelineStates('client')).at(-1), { timeout: 10_000 }).toBe('ESTABLISHED');
    await closeClient(s);
    await expect.poll(async () => (await lifelineStates('client')).at(-1), { timeout: 10_000 }).toBe('TIME_WAIT');
    await expect.poll(async () => (await lifelineStates('server')).at(-1), { timeout: 10_000 }).toBe('CLOSED');
  });

  it('counts endpoints per state in the state diagram as connections come and go', async () => {
    const before = (await diagramCounts())!;
    const est = (c: Counts) => [c.client.ESTABLISHED ?? 0, c.server.ESTABLISHED ?? 0];
    const [c0, s0] = est(before);
    const socks = await Promise.all([openClient(srv.port), openClient(srv.port), openClient(srv.port)]);
    await expect.poll(async () => est((await diagramCounts())!), { timeout: 10_000 }).toEqual([c0 + 3, s0 + 3]);
    const text = await page.locator('.state-svg .node[data-node="ESTABLISHED"] .cnt').textContent();
    expect(text).toBe(`${c0 + s0 + 6}  (c ${c0 + 3} · s ${s0 + 3})`);
    await Promise.all(socks.map((x) => closeClient(x)));
    await expect.poll(async () => est((await diagramCounts())!), { timeout: 10_000 }).toEqual([c0, s0]);
    // The REST figures agree with what the page counted.
    const stats = await api<{ endpoints: Counts }>(scope, TOKEN, '/api/stats');
    await expect.poll(async () => (await diagramCounts())!.client.TIME_WAIT ?? 0, { timeout: 10_000 }).toBe(stats.endpoints.client.TIME_WAIT);
  });

  it('lists a CLOSE_WAIT endpoint in the health panel once it is older than the threshold', async () => {
    const item = `127.0.0.1:${srv.port} (server)`;
    expect(await page.locator('#health .cw-list').textContent()).not.toContain(item);
    await page.locator('#cw-threshold').fill('1');
    await page.locator('#cw-threshold').dispatchEvent('change');
    await expect.poll(() => page.locator('#health .cw-list').textContent(), { timeout: 10_000 }).toContain(item);
    await expect.poll(() => page.locator('[data-card="timeWait"] .value').textContent(), { timeout: 10_000 }).not.toBe('0');
    await expect.poll(() => page.locator('[data-card="refused"] .sub').textContent(), { timeout: 10_000 }).toMatch(/^[1-9]\d* total$/);
    await expect.poll(() => page.locator('[data-card="resets"] .sub').textContent(), { timeout: 10_000 }).toMatch(/^[1-9]\d* total$/);
    // The listed endpoint opens its connection.
    await page.locator('#health .cw-list button', { hasText: item }).first().click();
    await expect.poll(async () => (await lifelineStates('server')).at(-1), { timeout: 10_000 }).toBe('CLOSE_WAIT');
    await page.locator('#cw-threshold').fill('30');
    await page.locator('#cw-threshold').dispatchEvent('change');
  });

  it('filters, sorts and moves through rows from the keyboard', async () => {
    await page.locator('#f-port').fill(String(refusedPort));
    await expect.poll(() => page.locator('#conn-body .vrow').count(), { timeout: 10_000 }).toBe(1);
    expect(await cell(ports.refused, 'conn')).toBe('REJ');
    await page.locator('#f-port').fill('');
    // each filter's own row first: the count alone can still be the last filter's one row while a
    // loaded machine repaints
    await page.locator('#f-state').selectOption('CLOSE_WAIT');
    await expect.poll(() => cell(ports.half, 'sstate'), { timeout: 10_000 }).toBe('CLOSE_WAIT');
    await expect.poll(() => page.locator('#conn-body .vrow').count(), { timeout: 10_000 }).toBe(1);
    await page.locator('#f-state').selectOption('');
    await page.locator('#f-text').fill('rej');
    await expect.poll(() => cell(ports.refused, 'conn'), { timeout: 10_000 }).toBe('REJ');
    await expect.poll(() => page.locator('#conn-body .vrow').count(), { timeout: 10_000 }).toBe(1);
    await page.locator('#f-text').fill('');

    await page.locator('.vhead [data-col="client"] button').click();
    expect(await page.locator('.vhead [data-col="client"]').getAttribute('aria-sort')).toBe('ascending');
    const clientCol = () => inPage<string[]>(`[...document.querySelectorAll('#conn-body .vrow')].sort((a, b) => a.offsetTop - b.offsetTop).map((r) => r.querySelector('[data-col="client"]').textContent)`);
    const sortedBy = async (dir: 1 | -1) => {
      const p = (await clientCol()).map((t) => Number(t.split(':')[1]));
      return p.length > 3 && p.every((v, i) => i === 0 || (v - p[i - 1]) * dir >= 0);
    };
    await expect.poll(() => sortedBy(1), { timeout: 10_000 }).toBe(true);
    await page.locator('.vhead [data-col="client"] button').click();
    expect(await page.locator('.vhead [data-col="client"]').getAttribute('aria-sort')).toBe('descending');
    await expect.poll(() => sortedBy(-1), { timeout: 10_000 }).toBe(true);
    await page.locator('.vhead [data-col="age"] button').click();
    await expect.poll(() => page.locator('#conn-grid').getAttribute('data-sorted'), { timeout: 10_000 }).toBe('age:asc');

    const grid = page.locator('#conn-grid');
    await grid.focus();
    await page.keyboard.press('Home');
    await page.keyboard.press('ArrowDown');
    const active = await grid.getAttribute('aria-activedescendant');
    expect(active).toBeTruthy();
    const activeRow = page.locator(`#${active}`);
    expect(await activeRow.getAttribute('aria-rowindex')).toBe('3');
    const addr = await activeRow.locator('[data-col="client"]').textContent();
    await page.keyboard.press('Enter');
    await expect.poll(() => activeRow.getAttribute('aria-selected'), { timeout: 10_000 }).toBe('true');
    await expect.poll(() => page.locator('#ladder-sub').textContent(), { timeout: 10_000 }).toContain(`${addr} →`);
  });

  it('collapses a long data phase and keeps handshake and teardown in view', async () => {
    const s = await openClient(srv.port);
    const p = s.localPort!;
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    for (let i = 0; i < 160; i++) {
      if (!s.write(chunk)) await new Promise((r) => s.once('drain', r));
    }
    await closeClient(s);
    await expect.poll(() => cell(p, 'cstate'), { timeout: 10_000 }).toBe('TIME_WAIT');
    await selectRow(page, rowOf(p), p);
    await expect.poll(() => page.locator('#ladder .summary').count(), { timeout: 10_000 }).toBeGreaterThan(0);
    const segs = await ladderSegs();
    expect(segs.slice(0, 3).map((x) => x.flags)).toEqual(['S', 'SA', 'A']);
    // one FIN from each side (a FIN sent again, when a loaded machine was slow to acknowledge it, repeats its seq)
    const fins = segs.filter((x) => x.flags.includes('F'));
    expect(new Set(fins.map((x) => `${x.from} ${x.seq}`)).size).toBe(2);
    expect(new Set(fins.map((x) => x.from))).toEqual(new Set(['client', 'server']));
    expect(segs.length).toBeLessThan(40);
    expect(await page.locator('#ladder .summary text').first().textContent()).toMatch(/^… [\d,]+ data segments · [\d,]+ → [\d.]+ [kM]B/);
    const detail = await api<{ id: string; segmentsOmitted: number }>(scope, TOKEN, `/api/connections?status=all&port=${p}`).then(async (l: unknown) => {
      const id = (l as { connections: { id: string }[] }).connections[0].id;
      return api<{ id: string; segmentsOmitted: number }>(scope, TOKEN, `/api/connections/${encodeURIComponent(id)}`);
    });
    if (detail.segmentsOmitted > 0) {
      expect(await page.locator('#ladder .omitted text').first().textContent()).toContain('segments not kept by the server');
      expect(await page.locator('#ladder-meta [data-meta="segments"]').textContent()).toContain('not kept');
    }
    await page.locator('.panel.ladder').screenshot({ path: path.join(ARTIFACTS, 'ladder-bulk.png') });
    // Expanding the summary shows every segment it stood for.
    const hidden = Number(/^… ([\d,]+) data segments/.exec((await page.locator('#ladder .summary text').first().textContent())!)![1].replace(/,/g, ''));
    const shown = segs.length;
    await page.locator('#ladder .summary').first().click();
    await expect.poll(async () => (await ladderSegs()).length, { timeout: 10_000 }).toBe(shown + hidden);
    await page.locator('.panel.ladder').screenshot({ path: path.join(ARTIFACTS, 'ladder-bulk-expanded.png') });
    // And the run folds back.
    await page.locator('#ladder .run-toggle').first().click();
    await expect.poll(async () => (await ladderSegs()).length, { timeout: 10_000 }).toBe(shown);
  });

  it('looks right in light and dark', async () => {
    await selectRow(page, rowOf(ports.normal), ports.normal);
    await expect.poll(async () => (await lifelineStates('server')).at(-1), { timeout: 10_000 }).toBe('CLOSED');
    await sleep(400);
    const light = path.join(ARTIFACTS, 'dashboard-light.png');
    await page.screenshot({ path: light, fullPage: true });
    expect(await inPage<string>(`document.documentElement.dataset.theme`)).toBe('light');
    const bgLight = await inPage<string>(`getComputedStyle(document.body).backgroundColor`);

    // auto → light → dark
    await page.locator('#theme-toggle').click();
    await page.locator('#theme-toggle').click();
    expect(await inPage<string>(`document.documentElement.dataset.theme`)).toBe('dark');
    expect(await page.locator('#theme-label').textContent()).toBe('dark');
    const bgDark = await inPage<string>(`getComputedStyle(document.body).backgroundColor`);
    expect(bgDark).not.toBe(bgLight);
    await sleep(200);
    await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard-dark.png'), fullPage: true });
    // The chosen theme survives a reload.
    await page.reload();
    await expect.poll(() => page.locator('#status').getAttribute('data-state'), { timeout: 15_000 }).toBe('live');
    expect(await inPage<string>(`document.documentElement.dataset.theme`)).toBe('dark');
    await page.locator('#theme-toggle').click(); // back to auto
    expect(await inPage<string>(`document.documentElement.dataset.theme`)).toBe('light');

    // A system in dark mode gets the dark theme without any choice.
    await page.emulateMedia({ colorScheme: 'dark' });
    await expect.poll(() => inPage<string>(`document.documentElement.dataset.theme`), { timeout: 10_000 }).toBe('dark');
    await page.emulateMedia({ colorScheme: 'light' });
    await expect.poll(() => inPage<string>(`document.documentElement.dataset.theme`), { timeout: 10_000 }).toBe('light');
  });

  it('renders only the visible rows of a table with over a thousand connections', async () => {
    // Connections are made in small batches until the tracker holds over a thousand: a busy machine's
    // capture can miss packets, and the point here is the table, not the capture.
    const total = async () => (await api<{ total: number }>(scope, TOKEN, '/api/connections?status=all&limit=1')).total;
    for (let round = 0; round < 100 && (await total()) < 1100; round++) {
      for (let i = 0; i < 5; i++) {
        const batch = await Promise.all(Array.from({ length: 20 }, () => openClient(srv.port)));
        await Promise.all(batch.map((x) => closeClient(x)));
      }
      await sleep(50);
    }
    const tracked = await waitFor('the tracker to settle', async () => {
      const a = await total();
      await sleep(300);
      const b = await total();
      return a === b ? b : null;
    });
    expect(tracked).toBeGreaterThanOrEqual(1100);
    await expect
      .poll(async () => Number((await page.locator('#conn-count').textContent())?.split(' ')[0]), { timeout: 15_000 })
      .toBe(tracked);
    const rendered = await page.locator('#conn-body .vrow').count();
    expect(rendered).toBeLessThan(80);
    expect(await page.locator('#conn-grid').getAttribute('aria-rowcount')).toMatch(/^\d{4,}$/);

    const t0 = Date.now();
    await page.locator('#f-text').fill(`:${ports.half}`);
    await expect.poll(() => page.locator('#conn-body .vrow').count(), { timeout: 10_000 }).toBe(1);
    expect(Date.now() - t0).toBeLessThan(2000);
    await page.locator('#f-text').fill('');
    await expect
      .poll(async () => Number((await page.locator('#conn-count').textContent())?.split(' ')[0]), { timeout: 10_000 })
      .toBeGreaterThanOrEqual(tracked);

    const grid = page.locator('#conn-grid');
    await grid.focus();
    await page.keyboard.press('End');
    const active = await grid.getAttribute('aria-activedescendant');
    expect(active).toBeTruthy();
    const idx = Number(await page.locator(`#${active}`).getAttribute('aria-rowindex'));
    expect(idx).toBe(Number(await grid.getAttribute('aria-rowcount')));
  });

  it('says a token is needed when the page is opened without it', async () => {
    const other = await browser.context.newPage();
    try {
      await other.goto(`${scope.url}/`);
      await expect.poll(() => other.locator('#notice').textContent(), { timeout: 10_000 }).toContain('requires a token');
      expect(await other.locator('#notice').isVisible()).toBe(true);
      expect(await other.locator('#status').getAttribute('data-state')).not.toBe('live');
    } finally {
      await other.close();
    }
  });

  it('shows reconnecting… while tcpscope is down and goes live again after it restarts', async () => {
    const fatal = browser.pageErrors.filter((e) => e.startsWith('pageerror'));
    expect(fatal).toEqual([]);

    await scope.stop();
    await expect.poll(() => page.locator('#status').getAttribute('data-state'), { timeout: 10_000 }).toBe('reconnecting');
    expect(await page.locator('#status-text').textContent()).toMatch(/^reconnecting…/);

    scope = await startTcpscope(liveArgs(), apiPort, TOKEN);
    await captureReady();
    await expect.poll(() => page.locator('#status').getAttribute('data-state'), { timeout: 20_000 }).toBe('live');
    expect(await page.locator('#status-text').textContent()).toBe('live');
    // Ids start over in the new process, so the old selection is dropped rather than misread.
    await expect.poll(() => page.locator('#ladder-sub').textContent(), { timeout: 10_000 }).toBe('— select a connection');

    // The new process starts with an empty table; new traffic shows up again.
    const s = await openClient(srv.port);
    open.push(s);
    await expect.poll(() => cell(s.localPort!, 'cstate'), { timeout: 15_000 }).toBe('ESTABLISHED');
    await expect.poll(() => cell(ports.normal, 'cstate'), { timeout: 10_000 }).toBe(null);
    expect(browser.pageErrors.filter((e) => e.startsWith('pageerror'))).toEqual([]);
  });
  it('shows a banner while the capture process is down, and the hole it left afterwards', async () => {
    // the capture process, among the CLI's children (the socket tables' short `ss` runs come and go)
    const kids = execFileSync('pgrep', ['-P', String(scope.proc.pid), '-f', 'live-process-main.js'], { encoding: 'utf8' }).trim().split('\n');
    expect(kids).toHaveLength(1);
    const s = await openClient(srv.port);
    open.push(s);
    await expect.poll(() => cell(s.localPort!, 'cstate'), { timeout: 15_000 }).toBe('ESTABLISHED');
    process.kill(Number(kids[0]), 'SIGSTOP');
    const banner = page.locator('.capture-fault');
    await expect.poll(() => banner.textContent(), { timeout: 15_000 }).toMatch(/^Capture has stopped answering: packets are being lost now/);
    expect(await banner.isVisible()).toBe(true);
    process.kill(Number(kids[0]), 'SIGKILL');
    await expect.poll(() => banner.textContent(), { timeout: 15_000 }).toMatch(/^Capture had 1 hole \(1 restarts\)/);
    const list = await api<{ connections: { client: { port: number }; captureGap: boolean }[] }>(scope, TOKEN, `/api/connections?port=${srv.port}&limit=1000`);
    expect(list.connections.find((c) => c.client.port === s.localPort)?.captureGap).toBe(true);
  });
});
