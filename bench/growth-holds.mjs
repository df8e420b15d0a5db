#!/usr/bin/env node
// ENGINE ONLY (no server, no HTTP): how long each growth step of the tracker's tables holds the
// thread while a capture is tracked — the store's columns, the flow table, the id index and the
// query index — and the whole run's time, with the query index a server keeps (--index) or not.
// A step shorter than 2 ms is not printed.
//
//   node bench/growth-holds.mjs [--file .bench-data/held-1000000.pcap] [--max 1001000] [--index]
import { createRequire } from 'node:module';
import path from 'node:path';
import { buildOnce, TARGET } from './lib/build.mjs';
import { loadAverage, round } from './lib/proc.mjs';

const args = process.argv.slice(2);
const opt = (n, d) => (args.includes(n) ? args[args.indexOf(n) + 1] : d);
const file = opt('--file', '.bench-data/held-1000000.pcap');
const max = Number(opt('--max', 1_001_000));
const indexed = args.includes('--index');
await buildOnce();
const require = createRequire(import.meta.url);
const load = (p) => require(path.join(TARGET, 'dist', p));
const { readCaptureFile } = load('capture/file.js');
const { frameTimeMs } = load('capture/frame.js');
const { decodeFrame } = load('decode/decode.js');
const { Segment } = load('decode/segment.js');
const { Tracker } = load('track/tracker.js');

const steps = [
  [load('track/store.js').ConnStore, 'grow', 'store columns'],
  [load('track/flowtable.js').FlowTable, 'resize', 'flow table'],
  [load('track/idindex.js').IdIndex, 'rehash', 'id index'],
];
try {
  const { QueryIndex } = load('track/queryindex.js');
  steps.push([QueryIndex, 'grow', 'query index links'], [QueryIndex, 'rehash', 'query index addresses']);
} catch {
  // a build from before the query index
}
for (const [C, m, name] of steps) {
  const f = C.prototype[m];
  C.prototype[m] = function (size, ...rest) {
    const t = performance.now();
    const r = f.call(this, size, ...rest);
    const ms = performance.now() - t;
    if (ms >= 2) console.log(`| ${name} | ${size} | ${round(ms, 1)} |`);
    return r;
  };
}
console.log(`${file}, --max-connections ${max}, query index ${indexed ? 'on' : 'off'}; load ${loadAverage().join(' ')}`);
console.log('| step | new size | held ms |\n|---|---|---|');
const t = new Tracker({ maxConnections: max });
if (indexed) t.enableQueryIndex?.();
const seg = new Segment();
const cpu0 = process.cpuUsage();
const t0 = performance.now();
let frames = 0;
await readCaptureFile(file, (f) => {
  frames++;
  if (decodeFrame(f.linkType, f.data, f.origLen, seg) === 'ok') t.process(seg, frameTimeMs(f));
});
const cpu = process.cpuUsage(cpu0);
console.log(`${frames} frames, ${t.stats().tracked} connections held: ${round((performance.now() - t0) / 1000, 2)} s, ${round((cpu.user + cpu.system) / 1e6, 2)} s CPU; load ${loadAverage().join(' ')}`);
