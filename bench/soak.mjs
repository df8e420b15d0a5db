#!/usr/bin/env node
// Soak: `tcpscope live` under steady short-connection traffic for --minutes, sampling its RSS,
// CPU and table size every --sample-s seconds. With --msl 5 TIME_WAIT lasts 10 s, so expiry is
// visible; closed connections then stay queryable for the tracker's closed retention (5 min)
// before they leave the table, after which memory should be flat.
//
//   node bench/soak.mjs [--minutes 10] [--rate 200] [--msl 5] [--sample-s 5] [--out FILE.jsonl]
//                       [--tcpscope '--buffer 64']
//
// Needs root; stops by itself. Samples go to --out (default .bench-data/soak.jsonl) as they are
// taken, the summary to stdout.
import { fork } from 'node:child_process';
import { mkdirSync, writeFileSync, appendFileSync } from 'node:fs';
import path from 'node:path';
import { buildOnce, ROOT } from './lib/build.mjs';
import { cpuMs, loadAverage, round, rssBytes, sleep } from './lib/proc.mjs';
import { getJson, startTcpscope } from './lib/tcpscope.mjs';

const args = process.argv.slice(2);
const opt = (n, d) => (args.includes(n) ? args[args.indexOf(n) + 1] : d);
const minutes = Number(opt('--minutes', 10));
const rate = Number(opt('--rate', 200));
const msl = opt('--msl', '5');
const sampleS = Number(opt('--sample-s', 5));
const out = path.resolve(opt('--out', path.join(ROOT, '.bench-data/soak.jsonl')));
const extra = opt('--tcpscope', '').split(' ').filter(Boolean);
const localAddresses = Array.from({ length: 16 }, (_, i) => `127.0.0.${i + 1}`);

await buildOnce();
mkdirSync(path.dirname(out), { recursive: true });
writeFileSync(out, '');
const gen = fork(path.join(ROOT, 'bench/lib/traffic-child.mjs'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
const port = await new Promise((r) => gen.once('message', (m) => r(m.ready)));
const ts = await startTcpscope(['live', '-p', String(port), '--listen', '127.0.0.1:0', '--msl', msl, ...extra]);
const observer = fork(path.join(ROOT, 'bench/lib/ws-observer.mjs'), [ts.url.replace(/^http/, 'ws') + 'ws'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
await new Promise((r, j) => observer.once('message', (m) => (m.ready ? r() : j(new Error(m.error)))));

const t0 = performance.now();
const traffic = new Promise((r) => {
  gen.once('message', (m) => r(m.result));
  gen.send({ cmd: 'short', concurrency: 8, rate, durationMs: minutes * 60_000, localAddresses });
});
let finished = null;
traffic.then((t) => (finished = t));
const samples = [];
while (finished === null) {
  const s = (await getJson(`${ts.url}api/stats`)).body;
  const row = {
    tS: round((performance.now() - t0) / 1000, 1),
    rssMiB: round(rssBytes(ts.pid) / 2 ** 20, 1),
    cpuS: round(cpuMs(ts.pid).total / 1000, 2),
    tracked: s.connections.tracked,
    open: s.connections.open,
    total: s.connections.total,
    timeWait: s.timeWait,
    packets: s.capture.packets,
    evictions: s.capture.evictions,
    load1: loadAverage()[0],
  };
  samples.push(row);
  appendFileSync(out, JSON.stringify(row) + '\n');
  await Promise.race([sleep(sampleS * 1000), traffic]);
}
const ws = await new Promise((r) => {
  observer.once('message', (m) => r(m.report));
  observer.send('report');
});
await ts.stop();
gen.send({ cmd: 'exit' });

const at = (min) => samples.reduce((b, s) => (Math.abs(s.tS - min * 60) < Math.abs(b.tS - min * 60) ? s : b));
const secondHalf = samples.filter((s) => s.tS >= (minutes * 60) / 2);
const rss = secondHalf.map((s) => s.rssMiB);
console.log(
  JSON.stringify(
    {
      params: { minutes, rate, msl: Number(msl), tcpscope: extra.join(' ') || '(defaults)' },
      connections: finished.completed,
      failed: finished.failed,
      byMinute: Array.from({ length: minutes }, (_, i) => {
        const s = at(i + 1);
        return { min: i + 1, rssMiB: s.rssMiB, tracked: s.tracked, timeWait: s.timeWait };
      }),
      secondHalfRssMiB: { min: Math.min(...rss), max: Math.max(...rss) },
      peakRssMiB: Math.max(...samples.map((s) => s.rssMiB)),
      cpuS: samples.at(-1).cpuS,
      ws: { events: ws.events, lagged: ws.lagged, gaps: ws.gaps, latencyMs: ws.latencyMs },
      loadAverage: loadAverage(),
      samples: out,
    },
    null,
    1,
  ),
);
process.exit(0);
