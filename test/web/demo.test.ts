import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { needs, root } from '../support/skip';
import type { TestBrowser } from '../support/browser';
import { api, freePort, openDashboard, startTcpscope, waitFor, type Tcpscope } from './harness';

// `tcpscope demo` in Chromium: each case of its traffic is one click away, and the learn view tells
// the cases apart in words.

const TOKEN = `demo-${process.pid}-${Date.now().toString(36)}`;

let scope: Tcpscope;
let browser: TestBrowser;
let page: Page;
let cases: { name: string; title: string; port: number }[];

function learnKeys(): Promise<string[]> {
  return page.evaluate(`[...document.querySelectorAll('#ladder .learn-note p')].map((p) => p.dataset.key)`) as Promise<string[]>;
}

async function pick(name: string): Promise<number> {
  const c = cases.find((x) => x.name === name)!;
  await page.locator(`.demo-case[data-case="${name}"]`).click();
  expect(await page.locator('#f-port').inputValue()).toBe(String(c.port));
  expect(await page.locator(`.demo-case[data-case="${name}"]`).getAttribute('aria-pressed')).toBe('true');
  await expect.poll(() => page.locator('#ladder-sub').textContent(), { timeout: 10_000 }).toContain(`:${c.port}`);
  return c.port;
}

describe('the demo on the dashboard', needs(root()), () => {
  beforeAll(async () => {
    scope = await startTcpscope(['demo', '--every', '1'], await freePort(), TOKEN);
    cases = (await api<{ source: { demoCases: typeof cases } }>(scope, TOKEN, '/api/health')).source.demoCases;
    // One full round, so every case has a connection to show.
    await waitFor('a first round of demo traffic', async () => /^round 1 · IPv6 /m.test(scope.output()), 20_000);
    browser = await openDashboard(scope, TOKEN);
    page = browser.page;
  });

  afterAll(async () => {
    await browser?.close();
    await scope?.stop();
  });

  it('offers each case as a button that picks it out and opens its newest connection', async () => {
    await expect.poll(() => page.locator('.demo-case').count(), { timeout: 10_000 }).toBe(cases.length);
    expect(await page.locator('.demo-case').allTextContents()).toEqual(cases.map((c) => c.title));
    const port = await pick('server-close');
    const servers = await page.locator('#conn-body .vrow [data-col="server"]').allTextContents();
    expect(servers.length).toBeGreaterThan(0);
    expect(servers.every((s) => s.endsWith(`:${port}`))).toBe(true);
    expect(await page.locator('#demo-says').textContent()).toContain('server closes first');
    expect(await page.locator('#ladder-meta [data-meta="close"]').textContent()).toContain('fin by server');
  });

  it('tells the cases apart in the learn view', async () => {
    await page.locator('#ladder-learn').check();
    await pick('half-close');
    await expect.poll(() => page.locator('#ladder .learn-note p[data-cases="half-close"]').count(), { timeout: 10_000 }).toBeGreaterThan(0);
    expect(await page.locator('#ladder .learn-note p[data-key="receiver FIN ESTABLISHED"]').textContent()).toMatch(/Half-close: after this FIN data still flowed the other way \(\d+ bytes\)/);

    await pick('refused');
    await expect.poll(learnKeys, { timeout: 10_000 }).toEqual(['sender SYN CLOSED', 'receiver RST SYN_SENT']);

    await pick('reset');
    await expect.poll(async () => (await learnKeys()).slice(-2), { timeout: 10_000 }).toEqual(['sender RST ESTABLISHED', 'receiver RST ESTABLISHED']);

    // Whatever the simultaneous close came to, the words match what the capture showed.
    await pick('simultaneous-close');
    await expect.poll(() => page.locator('#ladder-meta [data-meta="status"]').textContent(), { timeout: 10_000 }).toBe('status closed');
    await expect.poll(async () => (await learnKeys()).length, { timeout: 10_000 }).toBeGreaterThan(4);
    const keys = await learnKeys();
    const crossed = (await page.locator('#ladder-meta [data-meta="close"]').textContent())!.includes('by both');
    expect(keys.includes('receiver FIN FIN_WAIT_1')).toBe(crossed);
    expect(browser.pageErrors).toEqual([]);
  });
});
