#!/usr/bin/env node
// Live load: short loopback connections as fast as this machine allows plus a few bulk transfers,
// watched by `tcpscope live` (the built CLI) with one WebSocket client connected like the dashboard.
//
//   node bench/load.mjs [--seconds 20] [--concurrency 60] [--rate CONN_PER_S] [--bulk 2] [--bulk-mib 200]
//                       [--tcpscope '--buffer 64'] [--cpu-prof DIR] [--node '--trace-gc' --stdout FILE] [--json]
//
// Reports, against what the traffic process itself completed and what tcpdump (256 MiB buffer)
// saw on the same port: packets captured and lost, connections fully observed (handshake and FIN
// teardown both seen), CPU time of the tcpscope process per 1 000 connections (/proc/PID/stat),
// and event latency from capture to the WebSocket client (p50/p99). Needs root; stops by itself.
import { fork } from 'node:child_process';
import { openSync } from 'node:fs';
import path from 'node:path';
import { buildOnce, ROOT } from './lib/build.mjs';
import { cpuMs, loadAverage, round, rssBytes, sleep } from './lib/proc.mjs';
import { startTcpdump } from './lib/tcpdump.mjs';
import { getJson, startTcpscope } from './lib/tcpscope.mjs';

const args = process.argv.slice(2);
const opt = (n, d) => (args.includes(n) ? args[args.indexOf(n) + 1] : d);
const seconds = Number(opt('--seconds', 20));
const concurrency = Number(opt('--concurrency', 60));
const bulk = Number(opt('--bulk', 2));
const bulkMiB = Number(opt('--bulk-mib', 200));
// A fixed offered load makes runs comparable on a shared machine; the default is as fast as it goes.
const rate = Number(opt('--rate', Infinity));
const extra = opt('--tcpscope', '').split(' ').filter(Boolean);
const cpuProf = opt('--cpu-prof', null);
const localAddresses = Array.from({ length: 16 }, (_, i) => `127.0.0.${i + 1}`);

await buildOnce();
const gen = fork(path.join(ROOT, 'bench/lib/traffic-child.mjs'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
const port = await new Promise((r) => gen.once('message', (m) => r(m.ready)));
const pending = new Map();
gen.on('message', (m) => m.done && pending.get(m.id)?.(m.result));
let ids = 0;
const run = (cmd) => new Promise((r) => pending.set(++ids, r) && gen.send({ ...cmd, id: ids }));

const ref = await startTcpdump(`tcp port ${port}`);
const nodeArgs = [...(cpuProf ? ['--cpu-prof', '--cpu-prof-dir', cpuProf] : []), ...opt('--node', '').split(' ').filter(Boolean)];
const stdout = opt('--stdout', null) ? openSync(opt('--stdout', null), 'w') : 'ignore';
const ts = await startTcpscope(['live', '-p', String(port), '--listen', '127.0.0.1:0', ...extra], { nodeArgs, stdout });
const observer = fork(path.join(ROOT, 'bench/lib/ws-observer.mjs'), [ts.url.replace(/^http/, 'ws') + 'ws'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
await new Promise((r, j) => observer.once('message', (m) => (m.ready ? r() : j(new Error(m.error)))));
await sleep(500);

const cpu0 = cpuMs(ts.pid);
const rss0 = rssBytes(ts.pid);
let rssMax = rss0;
const sampler = setInterval(() => (rssMax = Math.max(rssMax, rssBytes(ts.pid))), 500);
const t0 = performance.now();
const [short, bulkRes] = await Promise.all([
  run({ cmd: 'short', concurrency, durationMs: seconds * 1000, localAddresses, ...(Number.isFinite(rate) ? { rate } : {}) }),
  bulk > 0 ? run({ cmd: 'bulk', n: bulk, bytes: bulkMiB * 1024 * 1024 }) : { transfers: 0, completed: 0, bytes: 0 },
]);
const wallMs = performance.now() - t0;
await sleep(2000); // let tcpscope and the WebSocket catch up
const cpu1 = cpuMs(ts.pid);
clearInterval(sampler);
const wire = await ref.stop();

const stats = (await getJson(`${ts.url}api/stats`)).body;
let cursor = null;
const conns = [];
let listMs = 0;
do {
  const r = await getJson(`${ts.url}api/connections?status=all&port=${port}&limit=1000${cursor ? `&cursor=${cursor}` : ''}`);
  listMs += r.ms;
  conns.push(...r.body.connections);
  cursor = r.body.nextCursor;
} while (cursor);
// Fully observed: SYN, SYN+ACK and ACK seen, and closed by FINs.
const full = conns.filter((c) => !c.partial && c.handshake.synAt !== null && c.handshake.synAckAt !== null && c.handshake.ackAt !== null && c.status === 'closed' && c.closeKind === 'fin');
const ws = await new Promise((r) => {
  observer.once('message', (m) => r(m.report));
  observer.send('report');
});
const rssEnd = rssBytes(ts.pid);
await ts.stop();
gen.send({ cmd: 'exit' });

const generated = short.completed + bulkRes.completed;
const cpuTotal = cpu1.total - cpu0.total;
const out = {
  params: { seconds, concurrency, rate: Number.isFinite(rate) ? rate : 'max', bulk, bulkMiB, tcpscope: extra.join(' ') || '(defaults)' },
  loadAverage: loadAverage(),
  generator: { shortCompleted: short.completed, shortFailed: short.failed, errors: short.errors, perSecond: round(short.completed / (short.ms / 1000), 0), bulk: bulkRes },
  packets: {
    onWire: wire.captured,
    tcpdumpDropped: wire.dropped,
    tcpscope: stats.capture.packets,
    lost: wire.captured - stats.capture.packets,
    lostPct: round((100 * (wire.captured - stats.capture.packets)) / wire.captured, 2),
  },
  connections: {
    generated,
    seen: conns.length,
    fullyObserved: full.length,
    partial: conns.filter((c) => c.partial).length,
    stillOpen: conns.filter((c) => c.status === 'open').length,
    statsTotal: stats.connections.total,
    lossEvidence: stats.capture.lossEvidence ?? { gaps: stats.anomalies?.gap, acksOfUnseen: stats.anomalies?.['bad-ack'] },
  },
  cpu: { ms: cpuTotal, user: cpu1.user - cpu0.user, system: cpu1.system - cpu0.system, msPer1000Connections: round((cpuTotal / generated) * 1000, 1), busyPct: round((100 * cpuTotal) / wallMs, 1) },
  ws: { events: ws.events, lagged: ws.lagged, laggedDropped: ws.laggedDropped, gaps: ws.gaps, latencyMs: Object.fromEntries(Object.entries(ws.latencyMs).map(([k, v]) => [k, round(v, 2)])) },
  rssMiB: { start: round(rss0 / 2 ** 20, 1), max: round(rssMax / 2 ** 20, 1), end: round(rssEnd / 2 ** 20, 1) },
  restListMs: round(listMs, 0),
};
console.log(JSON.stringify(out, null, args.includes('--json') ? 0 : 1));
process.exit(0);
