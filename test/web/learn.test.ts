import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestBrowser } from '../support/browser';
import { TestServer, api, closeClient, freePort, openClient, openDashboard, refusedConnect, sleep, startTcpscope, waitFor, selectRow, type Tcpscope } from './harness';

// The first five minutes, in Chromium against a real `tcpscope live` on loopback: connections that
// just closed stay in view without ticking "Closed", and the learn view explains each state change
// of the captured connection with its real numbers, as the state diagram's edges do on hover.

const TOKEN = `learn-${process.pid}-${Date.now().toString(36)}`;

let srv: TestServer;
let refusedPort: number;
let scope: Tcpscope;
let browser: TestBrowser;
let page: Page;

interface Segment {
  from: 'client' | 'server';
  flags: string;
  seq: number;
  ack: number;
}
interface Detail {
  id: string;
  segments: Segment[];
  events: { type: string; side?: string; from?: string; to?: string }[];
}

function inPage<T>(expr: string): Promise<T> {
  return page.evaluate(expr) as Promise<T>;
}

function rowOf(clientPort: number) {
  return page.locator('#conn-body .vrow').filter({
    has: page.locator('[data-col="client"]', { hasText: new RegExp(`^127\\.0\\.0\\.1:${clientPort}$`) }),
  });
}

/** 2 384 117 012, as the dashboard groups digits (no-break spaces). */
function grouped(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, '\u00a0');
}

async function detailOf(clientPort: number): Promise<Detail> {
  return waitFor(`connection from ${clientPort}`, async () => {
    const list = await api<{ connections: { id: string; status: string }[] }>(scope, TOKEN, `/api/connections?status=all&port=${clientPort}`);
    const c = list.connections[0];
    if (!c || c.status !== 'closed') return null;
    return api<Detail>(scope, TOKEN, `/api/connections/${encodeURIComponent(c.id)}`);
  });
}

/** The learn view's paragraphs: the cell that explained each change, and its words. */
function learnNotes(): Promise<{ key: string; side: string; from: string; to: string; cases: string; text: string }[]> {
  return inPage(`[...document.querySelectorAll('#ladder .learn-note p')].map((p) => ({
    key: p.dataset.key, side: p.dataset.side, from: p.dataset.from, to: p.dataset.to, cases: p.dataset.cases ?? '', text: p.textContent }))`);
}

beforeAll(async () => {
  srv = new TestServer();
  await srv.listen();
  refusedPort = await freePort();
  scope = await startTcpscope(['live', '-i', 'lo', '-p', String(srv.port), '-p', String(refusedPort)], await freePort(), TOKEN);
  await waitFor(
    'capture to see a probe connection',
    async () => {
      await closeClient(await openClient(srv.port));
      await sleep(150);
      return (await api<{ total: number }>(scope, TOKEN, `/api/connections?status=all&port=${srv.port}`)).total > 0;
    },
    20_000,
    300,
  );
  browser = await openDashboard(scope, TOKEN);
  page = browser.page;
});

afterAll(async () => {
  await browser?.close();
  await scope?.stop();
  await srv?.close();
});

describe('recently closed connections', () => {
  it('stay in view for a minute by default without ticking "Closed"', async () => {
    expect(await page.locator('#f-closed').isChecked()).toBe(false);
    expect(await page.locator('#f-recent').inputValue()).toBe('60');
    const s = await openClient(srv.port);
    const p = s.localPort!;
    await closeClient(s);
    await expect.poll(() => rowOf(p).getAttribute('data-status'), { timeout: 10_000 }).toBe('closed');
    expect(await page.locator('#f-closed').isChecked()).toBe(false);
  });

  it('fade and leave after the chosen time, which this browser remembers; the empty table says what it hides', async () => {
    await page.locator('#f-recent').selectOption('10');
    const s = await openClient(srv.port);
    const p = s.localPort!;
    await closeClient(s);
    await expect.poll(() => rowOf(p).count(), { timeout: 10_000 }).toBe(1);
    const closedAt = Date.now();
    await expect.poll(() => rowOf(p).getAttribute('data-status'), { timeout: 10_000 }).toBe('closed');
    // Fading: before its time is up the row is still there, clearly dimmer than an open one.
    const opacity = () => rowOf(p).evaluate((el) => Number((el as unknown as { style: { opacity: string } }).style.opacity || '1'));
    await expect.poll(opacity, { timeout: 9_000 }).toBeLessThan(0.85);
    expect(await opacity()).toBeGreaterThan(0.3);
    expect(Date.now() - closedAt).toBeLessThan(9_500);
    // Gone after 10 s (the table redraws once a second).
    await expect.poll(() => rowOf(p).count(), { timeout: 12_000 }).toBe(0);
    expect(Date.now() - closedAt).toBeGreaterThan(8_000);

    // Narrowed to that connection, the empty table says a closed one is hidden and shows it on a click.
    await page.locator('#f-text').fill(`:${p}`);
    await expect.poll(() => page.locator('#conn-empty').textContent(), { timeout: 10_000 }).toBe('1 closed connection — show them');
    await page.locator('#show-closed').click();
    expect(await page.locator('#f-closed').isChecked()).toBe(true);
    await expect.poll(() => rowOf(p).count(), { timeout: 10_000 }).toBe(1);
    expect(page.url()).toContain('closed=1');
    await page.locator('#f-closed').uncheck();
    await page.locator('#f-text').fill('');

    // The choice survives a reload.
    await page.reload();
    await expect.poll(() => page.locator('#status').getAttribute('data-state'), { timeout: 15_000 }).toBe('live');
    expect(await page.locator('#f-recent').inputValue()).toBe('10');
    await page.locator('#f-recent').selectOption('60');
  });
});

describe('the learn view', () => {
  it('explains every state change of a real connection with its ISNs, and the close', async () => {
    const s = await openClient(srv.port);
    const p = s.localPort!;
    await closeClient(s);
    const d = await detailOf(p);
    const isnC = d.segments.find((x) => x.from === 'client' && x.flags === 'S')!.seq;
    const isnS = d.segments.find((x) => x.from === 'server' && x.flags === 'SA')!.seq;

    await selectRow(page, rowOf(p), p);
    await page.locator('#ladder-learn').check();
    const changes = d.events.filter((e) => e.type === 'state').length;
    await expect.poll(async () => (await learnNotes()).length, { timeout: 10_000 }).toBe(changes);
    const notes = await learnNotes();
    const by = (key: string) => notes.find((n) => n.key === key)!;

    expect(by('sender SYN CLOSED').text).toContain(`(ISN ${grouped(isnC)})`);
    expect(by('sender SYNACK LISTEN')).toMatchObject({ side: 'server', from: 'LISTEN', to: 'SYN_RECEIVED' });
    expect(by('sender SYNACK LISTEN').text).toContain(`acknowledges the client's SYN: ack = client ISN ${grouped(isnC)} + 1.`);
    expect(by('receiver ACK_SYN SYN_RECEIVED').text).toContain(`ack = server ISN ${grouped(isnS)} + 1 = ${grouped((isnS + 1) >>> 0)}`);
    expect(by('sender FIN ESTABLISHED').side).toBe('client');
    expect(by('receiver FIN FIN_WAIT_2').text).toContain('waits in TIME_WAIT for 2×MSL (60 s): it closed first');
    // On loopback the server's FIN rides on its ACK of the client's FIN: three segments.
    const close = by('sender FIN CLOSE_WAIT');
    expect(close.cases).toBe('three-segment-close');
    expect(close.text).toContain('this close takes three segments');
    expect(by('receiver ACK_FIN LAST_ACK').text).toContain('It closed second, so it does not wait in TIME_WAIT');

    // Each note sits with its segment and names the same change as the lifeline pill.
    const pills = await inPage<string[]>(`[...document.querySelectorAll('#ladder .lstate:not([data-at="initial"])')].map((g) => g.dataset.side + ' ' + g.dataset.from + ' ' + g.dataset.state)`);
    expect(notes.map((n) => `${n.side} ${n.from} ${n.to}`).sort()).toEqual([...pills].sort());
    // The words come from the server's table.
    const table = await api<{ cells: { role: string; class: string; from: string }[] }>(scope, TOKEN, '/api/transitions');
    const cells = new Set(table.cells.map((c) => `${c.role} ${c.class} ${c.from}`));
    for (const n of notes) expect(cells.has(n.key), n.key).toBe(true);
    expect(browser.pageErrors).toEqual([]);
  });

  it('says what a refused connection and a reset look like', async () => {
    const rp = await refusedConnect(refusedPort);
    await page.locator('#f-closed').check();
    await expect.poll(() => rowOf(rp).count(), { timeout: 10_000 }).toBe(1);
    await selectRow(page, rowOf(rp), rp);
    await expect.poll(async () => (await learnNotes()).map((n) => n.key), { timeout: 10_000 }).toEqual(['sender SYN CLOSED', 'receiver RST SYN_SENT']);
    const refused = (await learnNotes())[1].text;
    expect(refused).toMatch(/Connection refused: the client's SYN is answered with a RST that acknowledges it/);
    expect(refused).toContain('ECONNREFUSED');

    const s = await openClient(srv.port);
    const p = s.localPort!;
    s.resetAndDestroy();
    await expect.poll(() => rowOf(p).count(), { timeout: 10_000 }).toBe(1);
    await selectRow(page, rowOf(p), p);
    await expect.poll(async () => (await learnNotes()).map((n) => n.key).slice(-2), { timeout: 10_000 }).toEqual(['sender RST ESTABLISHED', 'receiver RST ESTABLISHED']);
    const notes = await learnNotes();
    expect(notes.at(-1)!.text).toContain('no FIN exchange and no TIME_WAIT');
    await page.locator('#f-closed').uncheck();
  });

  it('explains the state diagram\'s edges on hover, in general and with the selected connection\'s numbers', async () => {
    await page.locator('.state-svg .edge[data-from="FIN_WAIT_2"][data-to="TIME_WAIT"] text').hover();
    const tip = page.locator('#sd-tip');
    await expect.poll(() => tip.isVisible(), { timeout: 5_000 }).toBe(true);
    expect(await tip.locator('.tip-head').textContent()).toBe('FIN_WAIT_2 → TIME_WAIT');
    expect(await tip.locator('p[data-key="receiver FIN FIN_WAIT_2"]').textContent()).toMatch(/^on receiving: The peer's FIN arrives .* TIME_WAIT for 2×MSL \(60 s\)/);
    // The ladder's words for the same cell, there in general terms.
    await page.mouse.move(5, 5);
    await expect.poll(() => tip.isVisible(), { timeout: 5_000 }).toBe(false);

    // The selected connection's own trail says it with its numbers.
    const s = await openClient(srv.port);
    const p = s.localPort!;
    await closeClient(s);
    const d = await detailOf(p);
    const isnC = d.segments.find((x) => x.from === 'client' && x.flags === 'S')!.seq;
    await selectRow(page, rowOf(p), p);
    // The previous connection's trails are gone once this one's path into TIME_WAIT is drawn.
    await expect.poll(() => page.locator('#ladder-sub').textContent(), { timeout: 10_000 }).toContain(`:${p} →`);
    await expect.poll(() => page.locator('.state-svg .trail-hit-client[data-to="TIME_WAIT"]').count(), { timeout: 10_000 }).toBe(1);
    const trail = page.locator('.state-svg .trail-hit-client[data-to="ESTABLISHED"]');
    expect(await trail.count()).toBe(1);
    await trail.hover();
    await expect.poll(() => tip.getAttribute('data-for'), { timeout: 5_000 }).toBe('trail');
    expect(await tip.textContent()).toContain(`client: SYN_SENT → ESTABLISHED`);
    expect(await tip.textContent()).toContain(`ack = client ISN ${grouped(isnC)} + 1 = ${grouped((isnC + 1) >>> 0)}`);
    expect(browser.pageErrors).toEqual([]);
  });
});
