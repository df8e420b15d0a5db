#!/usr/bin/env node
// SYN floods against a small connection table (--max-connections), two ways:
//
//  replay  A capture made here (bench/lib/synflood-pcap.mjs): 100 established connections, then
//          --syns SYNs from as many spoofed sources, each answered by a SYN+ACK and never
//          acknowledged (half-open), then 100 more established ones and data on the first 100.
//          `tcpscope replay --speed max` plays it while REST is polled.
//  live    hping3 -S floods a listening loopback port (source port incrementing) while 50
//          connections from 127.0.0.2 stay established; `tcpscope live` watches. On loopback
//          the flooder's kernel answers each SYN+ACK with a RST, so these close at once.
//
// Both report: table size and half-open count against the cap, evictions, whether any established
// connection was evicted, RSS, and REST response times (p50/p99/max) during the flood.
//
//   node bench/synflood.mjs [--mode replay|live|both] [--syns 1000000] [--max-connections 10000]
//                           [--hping-count 100000] [--screenshot FILE.png]
// Needs root and hping3 for live; stops by itself.
import { spawn, fork } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { buildOnce, ROOT } from './lib/build.mjs';
import { cpuMs, loadAverage, percentile, round, rssBytes, sleep } from './lib/proc.mjs';
import { writeSynFlood } from './lib/synflood-pcap.mjs';
import { startTcpdump } from './lib/tcpdump.mjs';
import { getJson, startTcpscope } from './lib/tcpscope.mjs';

const args = process.argv.slice(2);
const opt = (n, d) => (args.includes(n) ? args[args.indexOf(n) + 1] : d);
const mode = opt('--mode', 'both');
const syns = Number(opt('--syns', 1_000_000));
const maxConns = Number(opt('--max-connections', 10_000));
const hpingCount = Number(opt('--hping-count', 100_000));
const screenshot = opt('--screenshot', null);

await buildOnce();

/** Polls REST while `until()` is false; response times and RSS samples. */
async function pollRest(url, pid, until) {
  const stats = [];
  const lists = [];
  let rssMax = 0;
  while (!(await until())) {
    const a = await getJson(`${url}api/stats`);
    stats.push(a.ms);
    const b = await getJson(`${url}api/connections?status=all&limit=100`);
    lists.push(b.ms);
    rssMax = Math.max(rssMax, rssBytes(pid));
    await sleep(100);
  }
  const sum = (xs) => {
    const s = [...xs].sort((x, y) => x - y);
    return { n: s.length, p50: round(percentile(s, 50), 1), p99: round(percentile(s, 99), 1), max: round(s.at(-1), 1) };
  };
  return { statsMs: sum(stats), listMs: sum(lists), rssMaxMiB: round(rssMax / 2 ** 20, 1) };
}

async function listAll(url, q) {
  const out = [];
  let cursor = null;
  do {
    const r = await getJson(`${url}api/connections?${q}&limit=1000${cursor ? `&cursor=${cursor}` : ''}`);
    out.push(...r.body.connections);
    cursor = r.body.nextCursor;
  } while (cursor);
  return out;
}

async function shoot(url, file) {
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath: process.env.TCPSCOPE_CHROMIUM ?? '/usr/bin/chromium', args: ['--no-sandbox', '--headless'] });
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  await page.goto(url);
  await sleep(2500);
  const warning = await page.evaluate(() => document.body.innerText.match(/Possible SYN flood[^\n]*/)?.[0] ?? null);
  await page.screenshot({ path: file });
  await browser.close();
  return warning;
}

async function replay() {
  const file = path.join(ROOT, `.bench-data/synflood-${syns}.pcap`);
  mkdirSync(path.dirname(file), { recursive: true });
  if (!existsSync(file)) console.error('writing', file, writeSynFlood(file, { syns, established: 100 }));
  const ts = await startTcpscope(['replay', file, '--speed', 'max', '--max-connections', String(maxConns), '--listen', '127.0.0.1:0']);
  const t0 = performance.now();
  const rest = await pollRest(ts.url, ts.pid, async () => (await getJson(`${ts.url}api/health`)).body.source.done);
  const playMs = performance.now() - t0;
  const s = (await getJson(`${ts.url}api/stats`)).body;
  // `state` matches either endpoint, and a half-open connection's client is ESTABLISHED already
  const est = (await listAll(ts.url, 'status=open&state=ESTABLISHED')).filter((c) => c.server.state === 'ESTABLISHED');
  const firstHundred = est.filter((c) => c.client.ip.startsWith('10.1.') && Number(c.client.port) < 40100 && !c.partial);
  const shot = screenshot ? await shoot(ts.url, screenshot) : undefined;
  const cpu = cpuMs(ts.pid).total;
  await ts.stop();
  return {
    mode: 'replay',
    syns,
    maxConnections: maxConns,
    playS: round(playMs / 1000, 1),
    cpuS: round(cpu / 1000, 1),
    table: { tracked: s.connections.tracked, total: s.connections.total, halfOpen: s.halfOpen, evictions: s.capture.evictions, serverSynReceived: s.endpoints.server.SYN_RECEIVED },
    established: { open: est.length, expected: 200, firstHundredKeptWhole: firstHundred.length },
    rest,
    screenshotWarning: shot,
    loadAverage: loadAverage(),
  };
}

async function live() {
  const gen = fork(path.join(ROOT, 'bench/lib/traffic-child.mjs'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const port = await new Promise((r) => gen.once('message', (m) => r(m.ready)));
  const ask = (m) => new Promise((r) => (gen.once('message', (x) => r(x.result)), gen.send(m)));
  const ts = await startTcpscope(['live', '-p', String(port), '--max-connections', String(Math.min(maxConns, 2000)), '--listen', '127.0.0.1:0']);
  const ref = await startTcpdump(`tcp port ${port}`);
  const held = await ask({ cmd: 'hold', n: 50, localAddress: '127.0.0.2' });
  await sleep(500);
  const cpu0 = cpuMs(ts.pid).total;
  const hping = spawn('hping3', ['-S', '-p', String(port), '-i', 'u50', '-c', String(hpingCount), '-q', '127.0.0.1'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let hpErr = '';
  hping.stderr.on('data', (d) => (hpErr += d));
  let done = false;
  hping.on('close', () => (done = true));
  const t0 = performance.now();
  const rest = await pollRest(ts.url, ts.pid, async () => done);
  const floodMs = performance.now() - t0;
  await sleep(1500);
  const wire = await ref.stop();
  const s = (await getJson(`${ts.url}api/stats`)).body;
  const est = (await listAll(ts.url, `status=open&state=ESTABLISHED&port=${port}`)).filter((c) => c.server.state === 'ESTABLISHED');
  const heldSeen = est.filter((c) => held.ports.includes(c.client.port) && !c.partial).length;
  const cpu = cpuMs(ts.pid).total - cpu0;
  await ask({ cmd: 'release' });
  await ts.stop();
  gen.send({ cmd: 'exit' });
  return {
    mode: 'live',
    synsSent: Number(/(\d+) packets transmitted/.exec(hpErr)?.[1] ?? hpingCount),
    maxConnections: Math.min(maxConns, 2000),
    floodS: round(floodMs / 1000, 1),
    cpuS: round(cpu / 1000, 1),
    packets: { onWire: wire.captured, captured: s.capture.packets, lost: wire.captured - s.capture.packets },
    table: { tracked: s.connections.tracked, total: s.connections.total, halfOpen: s.halfOpen, evictions: s.capture.evictions, resets: s.resets },
    established: { held: held.ports.length, stillEstablished: heldSeen },
    rest,
    loadAverage: loadAverage(),
  };
}

const results = [];
if (mode === 'replay' || mode === 'both') results.push(await replay());
if (mode === 'live' || mode === 'both') results.push(await live());
console.log(JSON.stringify(results, null, 1));
process.exit(0);
