#!/usr/bin/env node
// Slow and hostile WebSocket clients: `tcpscope live` under steady loopback traffic, first with one
// normal WebSocket client, then with --stalled more clients that upgrade and never read (spread
// over 16 loopback addresses). Per phase: packets lost against tcpdump, the normal client's event
// latency, tcpscope's RSS and CPU, and the WebSocket clients the server still holds.
//
//   node bench/ws-slow.mjs [--stalled 1000] [--rate 1000] [--phase-s 20] [--tcpscope '…'] [--cpu-prof DIR]
//
// Needs root; stops by itself.
import { fork } from 'node:child_process';
import path from 'node:path';
import { buildOnce, ROOT } from './lib/build.mjs';
import { cpuMs, loadAverage, round, rssBytes, sleep } from './lib/proc.mjs';
import { startTcpdump } from './lib/tcpdump.mjs';
import { getJson, startTcpscope } from './lib/tcpscope.mjs';

const args = process.argv.slice(2);
const opt = (n, d) => (args.includes(n) ? args[args.indexOf(n) + 1] : d);
const stalled = Number(opt('--stalled', 1000));
const rate = Number(opt('--rate', 1000));
const phaseS = Number(opt('--phase-s', 20));
const extra = opt('--tcpscope', '').split(' ').filter(Boolean);
const localAddresses = Array.from({ length: 16 }, (_, i) => `127.0.0.${i + 1}`);

await buildOnce();
const gen = fork(path.join(ROOT, 'bench/lib/traffic-child.mjs'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
const port = await new Promise((r) => gen.once('message', (m) => r(m.ready)));
const cpuProf = opt('--cpu-prof', null);
const ts = await startTcpscope(['live', '-p', String(port), '--listen', '127.0.0.1:0', ...extra], {
  nodeArgs: cpuProf ? ['--cpu-prof', '--cpu-prof-dir', cpuProf] : [],
});
const wsUrl = ts.url.replace(/^http/, 'ws') + 'ws';
const observer = fork(path.join(ROOT, 'bench/lib/ws-observer.mjs'), [wsUrl], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
await new Promise((r, j) => observer.once('message', (m) => (m.ready ? r() : j(new Error(m.error)))));
const ask = (child, msg, key) => new Promise((r) => {
  const on = (m) => {
    if (m[key] === undefined) return;
    child.off('message', on);
    r(m[key]);
  };
  child.on('message', on);
  child.send(msg);
});

async function phase(name, during) {
  const ref = await startTcpdump(`tcp port ${port}`);
  await ask(observer, 'phase', 'report');
  const s0 = (await getJson(`${ts.url}api/stats`)).body;
  const cpu0 = cpuMs(ts.pid).total;
  const samples = [];
  const traffic = new Promise((r) => {
    gen.once('message', (m) => r(m.result));
    gen.send({ cmd: 'short', concurrency: 20, rate, durationMs: phaseS * 1000, localAddresses });
  });
  let done = false;
  traffic.then(() => (done = true));
  const side = during?.();
  while (!done) {
    const t0 = performance.now();
    const r = await getJson(`${ts.url}api/stats`);
    samples.push({ rssMiB: rssBytes(ts.pid) / 2 ** 20, wsClients: r.body.wsClients, statsMs: performance.now() - t0 });
    await Promise.race([sleep(1000), traffic]);
  }
  const t = await traffic;
  await sleep(1500);
  const wire = await ref.stop();
  const s1 = (await getJson(`${ts.url}api/stats`)).body;
  const ws = await ask(observer, 'phase', 'report');
  const cpu = cpuMs(ts.pid).total - cpu0;
  const captured = s1.capture.packets - s0.capture.packets;
  return {
    phase: name,
    loadAverage: loadAverage(),
    connections: t.completed,
    packets: { onWire: wire.captured, captured, lost: wire.captured - captured },
    cpuMsPer1000Connections: round((cpu / t.completed) * 1000, 1),
    normalClient: { events: ws.events, lagged: ws.lagged, latencyMs: Object.fromEntries(Object.entries(ws.latencyMs).map(([k, v]) => [k, round(v, 2)])) },
    rssMiB: { max: round(Math.max(...samples.map((s) => s.rssMiB)), 1), end: round(rssBytes(ts.pid) / 2 ** 20, 1) },
    wsClients: { max: Math.max(...samples.map((s) => s.wsClients)), end: s1.wsClients },
    statsMsMax: round(Math.max(...samples.map((s) => s.statsMs)), 1),
    side: await side,
  };
}

const results = [];
results.push(await phase('one normal client'));
let hostile;
results.push(
  await phase(`+${stalled} stalled clients`, async () => {
    hostile = fork(path.join(ROOT, 'bench/lib/stalled-clients.mjs'), ['127.0.0.1', String(new URL(ts.url).port), String(stalled)], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const opened = await new Promise((r) => hostile.once('message', (m) => r(m.opened)));
    return { stalledClients: opened };
  }),
);
results.push(await phase('stalled clients still connected'));
hostile.send('close');
await ts.stop();
gen.send({ cmd: 'exit' });
console.log(JSON.stringify({ params: { stalled, rate, phaseS, tcpscope: extra.join(' ') || '(defaults)' }, results }, null, 1));
process.exit(0);
