#!/usr/bin/env node
// The RTT histogram's cost per handshake event: prom-client's Histogram.observe against the
// CountingHistogram /metrics writes in its place (src/server/metrics.ts), the same loopback-like RTTs:
// CPU time per observation, best of --rounds, alternately in this one process.
//
//   node bench/rtt-histogram.mjs [--n 2000000] [--rounds 5]
import { Histogram, Registry } from 'prom-client';
import { buildOnce, ROOT } from './lib/build.mjs';
import path from 'node:path';

const args = process.argv.slice(2);
const opt = (n, d) => (args.includes(n) ? args[args.indexOf(n) + 1] : d);
const N = Number(opt('--n', 2_000_000));
const rounds = Number(opt('--rounds', 5));
await buildOnce();
const { CountingHistogram, RTT_BUCKETS: bounds } = await import(path.join(ROOT, 'dist/server/metrics.js'));
const rtts = Float64Array.from({ length: 4096 }, (_, i) => (30 + ((i * 7919) % 200)) / 1e6);

function run(h) {
  const t0 = process.cpuUsage();
  for (let i = 0; i < N; i++) h.observe(rtts[i & 4095]);
  const t = process.cpuUsage(t0);
  return { ns: ((t.user + t.system) * 1000) / N };
}
const best = { prom: Infinity, ours: Infinity };
for (let r = 0; r < rounds; r++) {
  best.prom = Math.min(best.prom, run(new Histogram({ name: 'x', help: 'x', buckets: bounds, registers: [new Registry()] })).ns);
  best.ours = Math.min(best.ours, run(new CountingHistogram('x', 'x', bounds)).ns);
}
console.log(JSON.stringify({ observations: N, rounds, nsPerObserve: { promClient: Math.round(best.prom), counting: Math.round(best.ours) } }));
