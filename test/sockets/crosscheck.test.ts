// The kernel cross-check on real traffic: the kernel-oracle patterns captured live on lo, each
// endpoint's inferred state compared with the kernel's socket table once settled; then a capture
// that withholds packets (a BPF filter that drops every FIN) must show disagreements.
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { needs, root } from '../support/skip';
import { openLive, type LiveCapture, WATCH_SNAPLEN } from '../../src/capture/live';
import { Engine } from '../../src/ingest/engine';
import { EventBus } from '../../src/events/bus';
import { openScanner } from '../../src/sockets/scan-thread';
import { SocketWatch } from '../../src/sockets/watch';
import { buildOnce, REPO } from '../cli/support';
import { PATTERNS, type Pattern } from '../support/traffic';
import { sleep, waitFor } from '../support/wait';

// As test/track/kernel.test.ts: the concurrent pattern's bursts of FINs overflow a smaller ring, and
// the packets lost then are real disagreements (which is what the cross-check is for).
const CAPTURE_BUFFER = 256 * 1024 * 1024;
let cleanup: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const f of cleanup) await f();
  cleanup = [];
});

async function crossCheck(pattern: Pattern, filter?: string) {
  const engine = new Engine();
  const bus = new EventBus();
  engine.tracker.onEventRecord(bus.publishRecord);
  // scans in their own thread, as in live mode, so the pattern's sockets are never held up
  const watch = new SocketWatch(openScanner(path.join(REPO, 'dist', 'sockets', 'scan-worker.js')), engine.tracker, { intervalMs: 200, batchMs: 20, packetClock: () => engine.lastTs }).start(bus);
  let capture: LiveCapture | undefined;
  let lastFrameAt = Date.now();
  // as live mode does: timers (a FIN's pending reception, TIME_WAIT) advance with the clock
  const timer = setInterval(() => engine.tracker.expire(Date.now()), 250);
  cleanup.push(() => clearInterval(timer), () => capture?.stop(), () => watch.close());
  const run = await pattern({
    onReady: (ports) => {
      const live = openLive({ iface: 'lo', ports, filter, bufferSize: CAPTURE_BUFFER, snapLength: WATCH_SNAPLEN }, (f) => {
        lastFrameAt = Date.now();
        engine.onFrame(f);
      });
      if (!live.ok) throw new Error(live.error.message);
      capture = live.capture;
    },
  });
  while (Date.now() - lastFrameAt < 250) await sleep(25);
  // settled: no packet for longer than the settle time, then two readings
  await sleep(600);
  // TIME_WAIT sockets are read 32 a scan: enough scans for the largest pattern
  for (let i = 0; i < 16; i++) await watch.scanNow();
  // an endpoint whose socket is never found is given up after 2.5 s (a new process waits for a full fd scan)
  // and until every local endpoint has been read (TIME_WAIT ones 32 a scan)
  const unread = (e: { process?: unknown; processReason?: string; kernel?: unknown }) =>
    e.process === undefined || (e.kernel === undefined && e.processReason !== 'not-listening');
  const unresolved = () => engine.tracker.list().some((c) => unread(c.client) || unread(c.server));
  for (let i = 0; i < 60 && unresolved(); i++) {
    await sleep(100);
    await watch.scanNow();
  }
  const conns = engine.tracker.list();
  return { run, stats: watch.stats(), conns, watch };
}

describe('kernel cross-check', needs(root()), () => {
  beforeAll(buildOnce, 120_000);

  it('leaves the steady readings out while no packet comes and nothing is left to look up', async () => {
    const { watch } = await crossCheck(PATTERNS['client-closes-first']);
    // from the first reading left out on: the reading made as the last packets settled is behind us
    const skipped = watch.stats().idleSkips;
    await waitFor('a steady reading left out', () => watch.stats().idleSkips > skipped, 5_000);
    const before = watch.stats();
    // steady readings are due every 200 ms here; idle, one in 5 s is made
    await sleep(1500);
    const after = watch.stats();
    expect(after.idleSkips - before.idleSkips).toBeGreaterThanOrEqual(3);
    expect(after.scans - before.scans).toBeLessThanOrEqual(1);
  });

  for (const name of ['client-closes-first', 'server-closes-first', 'half-close', 'client-reset', 'server-reset', 'refused', 'ipv6', 'simultaneous-close', 'concurrent']) {
    it(`agrees with the kernel on every settled endpoint: ${name}`, async () => {
      const { stats, conns } = await crossCheck(PATTERNS[name]);
      expect(stats.crossCheck.recent).toEqual([]);
      expect(stats.crossCheck.disagreements).toBe(0);
      expect(stats.crossCheck.compared).toBeGreaterThan(0);
      if (name === 'refused') expect(conns.some((c) => c.server.processReason === 'not-listening')).toBe(true);
      // every local endpoint carries the kernel's reading
      for (const c of conns) {
        for (const side of ['client', 'server'] as const) {
          if (c[side].processReason === 'not-listening') continue;
          expect(c[side].kernel, `${c.id} ${side}`).toMatchObject({ agrees: true });
        }
      }
    });
  }

  it('shows disagreements when the capture withholds packets (every FIN dropped by a BPF filter)', async () => {
    const { stats, conns } = await crossCheck(PATTERNS['client-closes-first'], 'tcp[tcpflags] & tcp-fin == 0');
    // the packets say both ends are still ESTABLISHED; the kernel has one in TIME_WAIT, the other gone
    expect(conns.length).toBeGreaterThan(0);
    expect(stats.crossCheck.disagreements).toBeGreaterThanOrEqual(2);
    expect(stats.crossCheck.recent.map((d) => `${d.side} ${d.inferred}/${d.kernel}`)).toEqual(
      expect.arrayContaining(['client ESTABLISHED/TIME_WAIT', 'server ESTABLISHED/GONE']),
    );
    expect(conns[0].client.kernel).toMatchObject({ state: 'TIME_WAIT', agrees: false });
  });
});
