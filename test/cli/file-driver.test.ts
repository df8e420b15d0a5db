// A replay at --speed max shares the event loop with the server it feeds: requests on a kept-alive
// connection are answered all along, not once the file is done. Held for seconds, the loop let the
// server's keep-alive timer fire before it read a request already sent on that connection; closing
// a socket with unread data makes the kernel answer with a RST (the client saw ECONNRESET).
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeHeldConnections } from '../../bench/lib/held-conns-pcap.mjs';
import { buildOnce, startCli } from './support';

describe('replay --speed max while serving', () => {
  let dir = '';
  let file = '';
  const CONNECTIONS = 60_000;

  beforeAll(async () => {
    await buildOnce();
    dir = mkdtempSync(path.join(os.tmpdir(), 'tcpscope-yield-'));
    file = path.join(dir, 'held.pcap');
    writeHeldConnections(file, { connections: CONNECTIONS }); // ~410 000 packets, 31 MiB: read in a thread
  }, 60_000);

  afterAll(() => {
    if (dir) execFileSync('rm', ['-rf', dir]);
  });

  it('answers health and a first page on one kept-alive connection while the file plays', async () => {
    const cli = await startCli(['replay', file, '--speed', 'max', '--max-connections', '100000', '--listen', '127.0.0.1:0']);
    try {
      const waits: number[] = [];
      let done = false;
      let during = 0;
      while (!done) {
        const t0 = performance.now();
        const health: any = await (await fetch(`${cli.url}api/health`)).json();
        const page: any = await (await fetch(`${cli.url}api/connections?status=all&limit=100`)).json();
        waits.push(performance.now() - t0);
        done = health.source.done;
        if (!done) during++;
        expect(page.connections.length).toBe(Math.min(100, page.total));
      }
      const final: any = await (await fetch(`${cli.url}api/connections?status=all&limit=1`)).json();
      expect(final.total).toBe(CONNECTIONS);
      // Before, the first request waited for the whole file (seconds); now the loop turns every few ms.
      expect(during).toBeGreaterThanOrEqual(5);
      const worst = Math.max(...waits);
      console.log(`${during} rounds answered while the file played; slowest round ${worst.toFixed(0)} ms`);
      expect(worst).toBeLessThan(1500);
    } finally {
      await cli.stop();
    }
  }, 120_000);
});
