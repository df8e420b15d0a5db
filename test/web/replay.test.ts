import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openBrowser, type TestBrowser } from '../support/browser';
import { TestServer, closeClient, freePort, openClient, sleep, startTcpscope, waitFor, type Tcpscope } from './harness';

// The dashboard over `tcpscope replay` of a file tcpdump wrote from real loopback connections.

const TOKEN = `replay-${process.pid}-${Date.now().toString(36)}`;

let dir: string;
let file: string;
let srv: TestServer;
let scope: Tcpscope;
let browser: TestBrowser;
let page: Page;
const clientPorts: number[] = [];

/** Records `tcp port P` on lo with tcpdump while `traffic` runs. */
async function record(port: number, out: string, traffic: () => Promise<void>): Promise<void> {
  const td = spawn('tcpdump', ['-i', 'lo', '-n', '-U', '-w', out, `tcp port ${port}`], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  td.stderr!.on('data', (b: Buffer) => (err += b.toString()));
  await waitFor('tcpdump to start listening', async () => {
    if (td.exitCode !== null) throw new Error(`tcpdump exited: ${err}`);
    return err.includes('listening on');
  });
  await traffic();
  await sleep(300);
  const done = new Promise((r) => td.once('exit', r));
  td.kill('SIGINT');
  await done;
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'tcpscope-web-replay-'));
  file = path.join(dir, 'loopback.pcap');
  srv = new TestServer();
  await srv.listen();
  // About four seconds of traffic, so a half-speed replay is still running when the page opens.
  await record(srv.port, file, async () => {
    for (let i = 0; i < 4; i++) {
      const s = await openClient(srv.port);
      clientPorts.push(s.localPort!);
      await sleep(400);
      await closeClient(s);
      await sleep(600);
    }
  });
  scope = await startTcpscope(['replay', file, '--speed', '0.5'], await freePort(), TOKEN);
  browser = await openBrowser();
  page = browser.page;
  await page.goto(`${scope.url}/?token=${TOKEN}&closed=1`);
});

afterAll(async () => {
  await browser?.close();
  await scope?.stop();
  await srv?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('dashboard on a replayed capture file', () => {
  it('shows the file and its progress, then every connection it held', async () => {
    const source = page.locator('#source-text');
    await expect.poll(() => source.textContent(), { timeout: 10_000 }).toMatch(/^file .*loopback\.pcap( \(pcap\))? · speed 0\.5x · \d+ packets · \d+%$/);
    expect(await page.locator('#source-progress').isVisible()).toBe(true);
    await expect.poll(() => source.textContent(), { timeout: 20_000 }).toMatch(/^file .*loopback\.pcap \(pcap\) · speed 0\.5x · \d+ packets · finished$/);
    expect(await page.locator('#source-progress').isVisible()).toBe(false);

    for (const p of clientPorts) {
      const row = page.locator('#conn-body .vrow').filter({ has: page.locator('[data-col="client"]', { hasText: `127.0.0.1:${p}` }) });
      await expect.poll(() => row.locator('[data-col="cstate"]').textContent(), { timeout: 10_000 }).toMatch(/^(TIME_WAIT|CLOSED)$/);
      expect(await row.locator('[data-col="sstate"]').textContent()).toBe('CLOSED');
      expect(await row.locator('[data-col="conn"]').textContent()).toBe('SF');
    }
    // Ages run on the file's clock: the last connection started about a second before its end.
    const ages = await page.locator('#conn-body .vrow [data-col="age"]').allTextContents();
    expect(ages.every((a) => /^(\d+ ms|\d+(\.\d)? s)$/.test(a))).toBe(true);
  });

  it('draws the ladder of a replayed connection', async () => {
    const row = page.locator('#conn-body .vrow').filter({ has: page.locator('[data-col="client"]', { hasText: `127.0.0.1:${clientPorts[0]}` }) });
    await row.click();
    await expect
      .poll(() => page.evaluate(`[...document.querySelectorAll('#ladder .seg')].map((g) => g.dataset.flags).join(' ')`), { timeout: 10_000 })
      .toMatch(/^S SA A( P?A)+ FA FA A$/);
    const label = await page.evaluate(`document.querySelectorAll('#ladder .seg .lbl')[1].textContent`);
    expect(label).toBe('SYN+ACK seq=0 ack=1');
    expect(browser.pageErrors.filter((e) => e.startsWith('pageerror'))).toEqual([]);
  });
});
