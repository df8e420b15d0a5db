#!/usr/bin/env node
// The capture process alone, two builds side by side on the same traffic: each build's
// live-process-main.js captures the generator's port (as `tcpscope live -p PORT` starts it, with
// the watching snap length) and hands its batches to this process, which only counts them. Both
// see the same packets on the same loaded machine at the same time, so their CPU compares fairly
// where runs one after the other would not.
//
//   node bench/capture-cost.mjs [--seconds 30] [--rate 100] [--against DIR] [--concurrency 20] [--swap]
//
// The build started first reads lower (the same build twice differs by some 0.4 ms a second, the
// first lower): --swap starts the other build first, and pairs of runs with and without it cancel
// the order out.
// --rate 0 makes no connections: the capture processes' cost while nothing comes.
// --against DIR: the other build's checkout (e.g. .bench-data/rev-df856bf); default this one twice.
// Reports per build, a second over the traffic: CPU ms (user/system, /proc/PID/stat, every
// thread), the main thread's wakeups (its voluntary context switches, /proc/PID/status of the
// leader task only), and the bytes and reads of the hand-over pipe counted here.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { buildOnce, ROOT } from './lib/build.mjs';
import { startTraffic } from './lib/children.mjs';
import { cpuMs, loadAverage, round, sleep } from './lib/proc.mjs';

const args = process.argv.slice(2);
const opt = (n, d) => (args.includes(n) ? args[args.indexOf(n) + 1] : d);
const seconds = Number(opt('--seconds', 30));
const rate = Number(opt('--rate', 100));
const concurrency = Number(opt('--concurrency', 20));
const against = path.resolve(opt('--against', ROOT));
const swap = args.includes('--swap');

await buildOnce();
const traffic = await startTraffic();
const opts = JSON.stringify({ iface: 'lo', ports: [traffic.port] });

function start(root, label) {
  const child = spawn(process.execPath, [path.join(root, 'dist/capture/live-process-main.js'), opts], { stdio: ['pipe', 'ignore', 'pipe', 'pipe'] });
  const got = { label, root, child, bytes: 0, reads: 0 };
  child.stdio[3].on('data', (d) => {
    got.bytes += d.length;
    got.reads++;
  });
  child.stderr.on('data', (d) => process.stderr.write(`${label}: ${d}`));
  return got;
}
// the leader task's (the main thread's) voluntary context switches only, not the other threads'
const wakeups = (pid) => Number(/^voluntary_ctxt_switches:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]);

const starts = [() => start(ROOT, 'this'), () => start(against, against === ROOT ? 'this (2)' : path.basename(against))];
const firstIdx = swap ? 1 : 0;
const first = starts[firstIdx]();
const second = starts[1 - firstIdx]();
// reported in the same order whichever started first
const runs = swap ? [second, first] : [first, second];
await sleep(2000);
const t0 = performance.now();
const before = runs.map((r) => ({ cpu: cpuMs(r.child.pid), wk: wakeups(r.child.pid), bytes: r.bytes, reads: r.reads }));
// --rate 0: no traffic at all, what the capture process costs while it waits
const short = rate === 0 ? await sleep(seconds * 1000).then(() => ({ completed: 0 })) : await traffic.run({ cmd: 'short', concurrency, durationMs: seconds * 1000, rate });
const s = (performance.now() - t0) / 1000;
const out = runs.map((r, i) => {
  const c = cpuMs(r.child.pid);
  const b = before[i];
  return {
    build: r.label,
    cpuMsPerS: round((c.total - b.cpu.total) / s, 1),
    userMsPerS: round((c.user - b.cpu.user) / s, 1),
    systemMsPerS: round((c.system - b.cpu.system) / s, 1),
    mainThreadWakeupsPerS: round((wakeups(r.child.pid) - b.wk) / s, 0),
    readsPerS: round((r.reads - b.reads) / s, 1),
    bytesPerS: round((r.bytes - b.bytes) / s, 0),
  };
});
for (const r of runs) r.child.stdin.end();
traffic.exit();
console.log(JSON.stringify({ seconds: round(s, 1), rate, connections: short.completed, loadAverage: loadAverage(), startedFirst: first.label, builds: out }, null, 1));
await sleep(500);
process.exit(0);
