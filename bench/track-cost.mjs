#!/usr/bin/env node
// What tracking costs per segment, engine only: a capture read and decoded in-process, with and
// without the tracker (CPU time, each run in its own process, the cases interleaved so that a
// change of load on the machine falls on all of them alike).
//
//   node bench/track-cost.mjs [--runs 5] [--cases decode,track,general] [--dist DIR]... [FILE]
//
// FILE defaults to .bench-data/loopback.pcapng (made by npm run bench when missing). Every --dist
// (default: this checkout's dist/, built first) is measured in the same run, so two builds compare.
// Case `general`: the same build with every segment sent through Tracker.segment() (the handlers
// that take the common segments' courses in a straight line answer "not mine"), where a build has
// such handlers. Cases `mirrorless` and `general-mirrorless`: the same with the Zeek mirror's step
// answering at once (ZeekMirror's packet and its cut-down copies return false), to see what the
// mirror costs; the records are then wrong, so these are measurements only. Case `one-path`: the
// same build with its plain path switched off (Machine.usePlainPath(false)), every segment through
// the one path, where a build has a plain path: what it buys, measured alone (same output). Case
// `plain-taken`: how many segments the plain path takes (Machine.plain wrapped to count the ones
// it answers; a count, its time is no measurement), where a build has a plain path:
//
//   node bench/track-cost.mjs --runs 1 --cases plain-taken [--dist DIR]...
//
// Cases `analyze` and `sink`: the tracker as `tcpscope analyze` configures it (no ladder asked for,
// no events kept) and with one `onEvent` sink (each event built as an object, which `live`'s bus,
// taking records, does not do); `track` takes the
// defaults (bench/lib/track-loop.mjs). A case named with `-warm` (`decode-warm`, `track-warm`,
// `analyze-warm`, `one-path-warm`, …) first reads the capture through a tracker of that case, set
// up as the case sets it up, once, in the same process, collects its garbage (gc(), --expose-gc),
// and then times a fresh one: the code V8 has compiled and settled, without the compiling, the
// deoptimizations and the recompiling a first pass pays (each figure minus `decode-warm`). The
// decoding a case's figure is taken from (`decode`, `decode-warm`) is added when not asked.
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { median, runBuildCases } from './lib/build-cases.mjs';
import { caseTracker, loadDist, trackCapture } from './lib/track-loop.mjs';

const HANDLERS = ['ordinary', 'ackFin', 'fin', 'synAck', 'opening'];

/**
 * A tracker of the case `name` (null for decoding alone), with the case's own setup made on it: the
 * handlers or the mirror answering "not mine", the plain path switched off, its answers counted.
 * Returns null where the build lacks what the case needs.
 */
function makeTracker(m, dist, name) {
  const require = createRequire(import.meta.url);
  let { Tracker } = m;
  if (name.endsWith('mirrorless')) {
    const Z = require(path.join(dist, 'track/zeek.js')).ZeekMirror;
    for (const h of ['packet', 'ordinary', 'opening', 'synAck', 'fin']) if (typeof Z.prototype[h] === 'function') Z.prototype[h] = () => false;
  }
  if (name.startsWith('general')) {
    if (!HANDLERS.every((h) => typeof Tracker.prototype[h] === 'function')) return null;
    Tracker = class extends Tracker {};
    for (const h of HANDLERS) Tracker.prototype[h] = () => false;
  }
  const tracker = caseTracker({ Tracker }, name);
  const plainTaken = { n: null };
  if (name === 'one-path' || name === 'plain-taken') {
    if (typeof tracker.machine?.usePlainPath !== 'function') return null;
    if (name === 'one-path') tracker.machine.usePlainPath(false);
  }
  if (name === 'plain-taken') {
    const plain = tracker.machine.plain;
    plainTaken.n = 0;
    tracker.machine.plain = function (...a) {
      const taken = plain.apply(this, a);
      if (taken !== false) plainTaken.n++; // (where plain() returns nothing, it is called only when taken)
      return taken;
    };
  }
  return { tracker, plainTaken };
}

async function runCase(nameArg, distArg, file) {
  const dist = path.resolve(distArg);
  const warm = nameArg.endsWith('-warm');
  const name = warm ? nameArg.slice(0, -'-warm'.length) : nameArg;
  const m = loadDist(dist);
  // warmed: the capture read, decoded and tracked once by a tracker of the same case, set up the
  // same way, first, so that what is timed is the code V8 has compiled and settled (no compiling,
  // no deoptimization); then a full collection, so that the timed pass does not pay for the first
  // tracker's garbage
  if (warm) {
    if (typeof globalThis.gc !== 'function') throw new Error(`${nameArg}: a warmed case needs node --expose-gc`);
    const first = makeTracker(m, dist, name);
    if (first === null) return null;
    await trackCapture(m, file, first.tracker);
    globalThis.gc();
  }
  const made = makeTracker(m, dist, name);
  if (made === null) return null;
  const { tracker, plainTaken } = made;
  const cpu0 = process.cpuUsage();
  const segments = await trackCapture(m, file, tracker);
  const cpu = process.cpuUsage(cpu0);
  return { segments, cpuSeconds: (cpu.user + cpu.system) / 1e6, connections: tracker?.stats().connectionsTotal ?? null, plainTaken: plainTaken.n };
}

/** The cases asked, with the decoding each one's figure is taken from (`decode`, `decode-warm`) added where missing. */
const withBaselines = (cs) => {
  const need = new Set(cs.filter((c) => !c.startsWith('decode')).map((c) => (c.endsWith('-warm') ? 'decode-warm' : 'decode')));
  return [...[...need].filter((d) => !cs.includes(d)), ...cs];
};
const { results, dists, cases, file, runs, load } = await runBuildCases(fileURLToPath(import.meta.url), runCase, 'decode,track,general', withBaselines);
console.log(`file ${path.relative(process.cwd(), file)}; ${runs} runs per case, median CPU s; load average (1 min) at the runs: ${load.join(' ')}`);
console.log('| build | case | CPU s | segments | ns/segment (read+decode+track) | ns/segment tracking (minus decode) |');
console.log('|---|---|---:|---:|---:|---:|');
for (const dist of dists) {
  const decOf = (d) => median((results.get(`${dist}\t${d}`) ?? [{ cpuSeconds: NaN }]).map((x) => x.cpuSeconds));
  for (const name of cases) {
    // a warmed case is taken from the warmed decoding, a cold one from the cold
    const dec = decOf(name.endsWith('-warm') ? 'decode-warm' : 'decode');
    const rs = results.get(`${dist}\t${name}`);
    if (!rs) continue;
    const cpu = median(rs.map((x) => x.cpuSeconds));
    const n = rs[0].segments;
    const trackNs = name.startsWith('decode') ? '–' : ((1e9 * (cpu - dec)) / n).toFixed(0);
    console.log(`| ${path.relative(process.cwd(), dist) || '.'} | ${name} | ${cpu.toFixed(2)} | ${n} | ${((1e9 * cpu) / n).toFixed(0)} | ${trackNs} |`);
  }
}
for (const dist of dists) {
  const rs = results.get(`${dist}\tplain-taken`);
  if (rs) console.log(`${path.relative(process.cwd(), dist) || '.'}: the plain path takes ${rs[0].plainTaken} of ${rs[0].segments} segments`);
}
