#!/usr/bin/env node
// The event stream under the fastest loopback load this bench can make: `tcpscope live -p PORT`
// (the built CLI) watching short connections opened as fast as `--concurrency` lanes allow (the
// traffic generator in its own process), with `--clients` WebSocket clients connected like the
// dashboard (no filter, each in a process of its own, bench/lib/ws-observer.mjs), for `--seconds`.
//
// For each client: events received, `lagged` messages, holes in the numbering, messages (the
// batches), and latency from the packet's capture time to the client's receipt (p50/p99/max).
// "Every event" holds when a client saw no `lagged` and no hole: the batches cover every number
// from its snapshot to the end. CPU (cpuBusyPct) is that of all tcpscope processes, the capture
// process included, so that a build that captures on its main thread compares. Needs root.
//
//   node bench/ws-stream.mjs [--seconds 15] [--concurrency 60] [--clients 2] [--tcpscope '--buffer 128'] [--json]
// TCPSCOPE_ROOT=DIR measures another checkout's build the same way (before/after figures).
import { buildOnce, TARGET } from './lib/build.mjs';
import { loadAverage, round, sleep, treeCpuMs } from './lib/proc.mjs';
import { getJson, startTcpscope } from './lib/tcpscope.mjs';
import { startTraffic, startWsObserver } from './lib/children.mjs';

const args = process.argv.slice(2);
const opt = (n, d) => (args.includes(n) ? args[args.indexOf(n) + 1] : d);
const seconds = Number(opt('--seconds', 15));
const concurrency = Number(opt('--concurrency', 60));
const clients = Number(opt('--clients', 2));
const extra = opt('--tcpscope', '').split(' ').filter(Boolean);
const localAddresses = Array.from({ length: 16 }, (_, i) => `127.0.0.${i + 1}`);

await buildOnce();
const load0 = loadAverage();
const traffic = await startTraffic();
const port = traffic.port;

const cmd = ['live', '-p', String(port), '--listen', '127.0.0.1:0', ...extra];
const ts = await startTcpscope(cmd);
const observers = [];
for (let i = 0; i < clients; i++) {
  observers.push(await startWsObserver(ts.url.replace(/^http/, 'ws') + 'ws'));
}
await sleep(500);

const cpu0 = treeCpuMs(ts.pid);
const t0 = performance.now();
const short = await traffic.run({ cmd: 'short', concurrency, durationMs: seconds * 1000, localAddresses });
const wallMs = performance.now() - t0;
await sleep(2000); // the last events reach the clients
const cpu1 = treeCpuMs(ts.pid);
const stats = (await getJson(`${ts.url}api/stats`)).body;
const reports = await Promise.all(observers.map((o) => o.report()));
await ts.stop();
traffic.exit();

const out = {
  command: `tcpscope ${cmd.join(' ')}`,
  build: TARGET,
  params: { seconds, concurrency, clients },
  loadAverage: { before: load0, after: loadAverage() },
  generator: { completed: short.completed, failed: short.failed, perSecond: round(short.completed / (short.ms / 1000), 0) },
  tcpscope: {
    packets: stats.capture.packets,
    connections: stats.connections.total,
    cpuBusyPct: round((100 * (cpu1.total - cpu0.total)) / wallMs, 1),
    cpuMsPer1000Connections: round(((cpu1.total - cpu0.total) / short.completed) * 1000, 1),
    mainUsPerConnection: round(((cpu1.total - cpu1.children - (cpu0.total - cpu0.children)) / short.completed) * 1000, 1),
  },
  clients: reports.map((w) => ({
    events: w.events,
    eventsPerSecond: round(w.events / (wallMs / 1000), 0),
    messages: w.messages,
    eventsPerMessage: round(w.events / Math.max(1, w.messages - w.snapshots - 1), 1),
    bytes: w.bytes,
    bytesPerEvent: round(w.bytes / Math.max(1, w.events), 0),
    lagged: w.lagged,
    laggedDropped: w.laggedDropped,
    holes: w.gaps,
    everyEvent: w.lagged === 0 && w.gaps === 0,
    clientCpuPct: round(w.client.cpuPct, 1),
    clientHandlerBusyPct: round(w.client.handlerBusyPct, 1),
    latencyMs: Object.fromEntries(Object.entries(w.latencyMs).map(([k, v]) => [k, round(v, 1)])),
  })),
};
console.log(JSON.stringify(out, null, args.includes('--json') ? 0 : 1));
process.exit(0);
