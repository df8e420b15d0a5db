#!/usr/bin/env node
// Where the tracker's time goes, engine only: the bench capture read, decoded and tracked as in
// track-cost.mjs, with one part of the tracker made to answer at once, so the difference to the
// whole is what that part costs. Main-thread CPU time (from /proc, so the compiler's and the
// garbage collector's threads are left out), each run its own process, the cases interleaved.
// The stubbed cases give wrong results: measurements only.
//
//   node bench/track-parts.mjs [--runs 5] [--cases whole,no-mirror,no-emit,no-machine] [--dist DIR]... [FILE]
//
// Cases: whole; no-mirror (the Zeek mirror's step, and in builds that had them its cut-down
// copies, return "nothing changed"); no-emit (events are neither kept nor handed on); no-machine
// (a known connection's segment does nothing after the flow table found it: what is left is
// reading, decoding and identity). For the composed tracker only (since a9f9aba): no-transitions
// (no segment moves a state: the table, its events, closes and timer classes are left out),
// no-judge (no anomaly is looked for), no-touch (the timer lists are not kept).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { median, runBuildCases } from './lib/build-cases.mjs';

function stub(dist, name) {
  const require = createRequire(import.meta.url);
  const mod = (m) => {
    try {
      return require(path.join(dist, m));
    } catch {
      return {};
    }
  };
  const set = (C, methods, v) => {
    for (const m of methods) if (C && typeof C.prototype[m] === 'function') C.prototype[m] = () => v;
  };
  if (name === 'no-mirror') set(mod('track/zeek.js').ZeekMirror, ['packet', 'ordinary', 'opening', 'synAck', 'fin'], false);
  if (name === 'no-emit') {
    set(mod('track/conns.js').Conns, ['emit'], undefined); // the composed tracker
    set(mod('track/core.js').TrackerCore, ['emit'], undefined); // 5ddfed4's class chain
  }
  if (name === 'no-transitions') set(mod('track/machine.js').Machine, ['transitions'], 1 /* Kind.FIN */);
  if (name === 'no-judge') set(mod('track/machine.js').Machine, ['judge'], undefined);
  if (name === 'no-touch') set(mod('track/conns.js').Conns, ['touch'], undefined);
  if (name === 'no-machine') {
    set(mod('track/machine.js').Machine, ['segment'], undefined);
    const T = mod('track/tracker.js').Tracker;
    if (T && typeof T.prototype.ordinary === 'function') {
      set(T, ['ordinary', 'ackFin', 'fin', 'synAck', 'opening'], false);
      set(T, ['segment'], undefined);
    }
  }
}

async function runCase(name, dist, file) {
  const require = createRequire(import.meta.url);
  const { readCaptureFile } = require(path.join(dist, 'capture/file.js'));
  const { decodeFrame } = require(path.join(dist, 'decode/decode.js'));
  const { Segment } = require(path.join(dist, 'decode/segment.js'));
  const { Tracker } = require(path.join(dist, 'track/tracker.js'));
  stub(dist, name);
  const tracker = new Tracker({ maxConnections: 1_000_000 });
  const seg = new Segment();
  let last = 0;
  const res = await readCaptureFile(file, (f) => {
    const ts = f.tsSec * 1000 + f.tsNsec / 1e6;
    if (decodeFrame(f.linkType, f.data, f.origLen, seg) !== 'ok') return;
    tracker.process(seg, ts);
    last = ts;
  });
  if (res.error) throw new Error(res.error.message);
  tracker.expire(last);
  const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { mainMs: (Number(f[11]) + Number(f[12])) * (1000 / 100) }; // clock ticks of 10 ms
}

const { results: outs, dists, cases, file, runs, load } = await runBuildCases(fileURLToPath(import.meta.url), runCase, 'whole,no-mirror,no-emit,no-machine');
const results = new Map([...outs].map(([k, xs]) => [k, xs.map((x) => x.mainMs)]));
console.log(`file ${path.relative(process.cwd(), file)}; ${runs} runs per case; load average (1 min) at the runs: ${load.join(' ')}`);
console.log('| build | case | main-thread CPU ms, median | its runs | whole minus this case |');
console.log('|---|---|---:|---|---:|');
for (const dist of dists) {
  const whole = results.has(`${dist}\twhole`) ? median(results.get(`${dist}\twhole`)) : NaN;
  for (const name of cases) {
    const xs = results.get(`${dist}\t${name}`);
    const m = median(xs);
    console.log(`| ${path.relative(process.cwd(), dist) || '.'} | ${name} | ${m} | ${xs.join(' ')} | ${name === 'whole' ? '–' : whole - m} |`);
  }
}
