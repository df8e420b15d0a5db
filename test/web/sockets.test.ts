// The dashboard's view of the kernel's sockets, in real Chromium on a live capture: the process
// column (and searching by process), the owner on each lifeline of the ladder, the listeners panel
// with its queue gauge, the diagnoses in the health panel and listeners in the diagram's LISTEN count.
import type net from 'node:net';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { needs, root } from '../support/skip';
import type { TestBrowser } from '../support/browser';
import { TestServer, freePort, openClient, openDashboard, refusedConnect, startTcpscope, type Tcpscope } from './harness';

const TOKEN = `web-sockets-${process.pid}`;
let srv: TestServer;
let refusedPort: number;
let scope: Tcpscope;
let browser: TestBrowser;
let page: Page;
const open: net.Socket[] = [];

const inPage = <T>(expr: string): Promise<T> => page.evaluate(expr) as Promise<T>;

describe('dashboard: processes, listeners, diagnoses', needs(root()), () => {
  beforeAll(async () => {
    srv = new TestServer();
    await srv.listen();
    refusedPort = await freePort();
    scope = await startTcpscope(['live', '-i', 'lo', '-p', String(srv.port), '-p', String(refusedPort)], await freePort(), TOKEN);
    browser = await openDashboard(scope, TOKEN);
    page = browser.page;
  }, 60_000);

  afterAll(async () => {
    for (const s of open) s.destroy();
    await browser?.close();
    await scope?.stop();
    await srv?.close();
  });

  it('names the process of each end in the process column, and finds rows by process', async () => {
    const held = await openClient(srv.port);
    open.push(held);
    const row = page.locator('#conn-body .vrow').filter({ has: page.locator('[data-col="client"]', { hasText: `127.0.0.1:${held.localPort}` }) });
    const me = `node (${process.pid})`;
    await expect.poll(() => row.locator('[data-col="proc"]').textContent(), { timeout: 15_000 }).toBe(`${me} → ${me}`);
    expect(await row.locator('[data-col="proc"]').getAttribute('title')).toContain(`pid ${process.pid}`);
    await page.fill('#f-text', `node ${process.pid}`);
    await expect.poll(() => row.count()).toBe(1);
    await page.fill('#f-text', 'no-such-process-name');
    await expect.poll(() => row.count()).toBe(0);
    await page.fill('#f-text', '');
    // the ladder names the owner on each lifeline
    await row.click();
    await expect.poll(() => inPage<string[]>(`[...document.querySelectorAll('#ladder .lhead .who')].map((t) => t.firstChild.nodeValue)`), { timeout: 10_000 }).toEqual([
      `client · ${me}`,
      `server · ${me}`,
    ]);
  });

  it('shows the listeners with owner and accept-queue gauge, counted as LISTEN in the state diagram', async () => {
    const panel = page.locator('#listeners-section');
    await expect.poll(() => panel.isVisible(), { timeout: 10_000 }).toBe(true);
    const tr = page.locator(`#listeners tr[data-listener="127.0.0.1:${srv.port}"]`);
    await expect.poll(() => tr.count(), { timeout: 10_000 }).toBe(1);
    expect(await tr.locator('.owner').textContent()).toBe(`node (${process.pid})`);
    expect(await tr.locator('meter').getAttribute('max')).toBe('511');
    expect(await tr.locator('.qtext').textContent()).toBe(' 0/511');
    const listen = await inPage<number>(`JSON.parse(document.querySelector('.state-svg').dataset.counts).server.LISTEN`);
    expect(listen).toBeGreaterThanOrEqual(1);
  });

  it('lists the diagnoses in the health panel, and opens the connection one concerns', async () => {
    const cport = await refusedConnect(refusedPort);
    const item = page.locator('#diagnoses li[data-kind="refused"]');
    await expect.poll(() => item.count(), { timeout: 15_000 }).toBe(1);
    const text = await item.locator('.dtext').textContent();
    expect(text).toContain(`nothing listens on 127.0.0.1:${refusedPort}`);
    expect(text).toContain('is listened on by');
    await item.locator('button').click();
    await expect.poll(() => page.locator('#ladder-sub').textContent(), { timeout: 10_000 }).toContain(String(cport));
    await page.screenshot({ path: 'test-artifacts/dashboard-sockets.png', fullPage: true });
  });
});
