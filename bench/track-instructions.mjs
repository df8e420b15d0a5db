#!/usr/bin/env node
// What tracking costs per segment, engine only, in machine instructions: the capture read and
// decoded in-process, with and without the tracker, each run under valgrind (cachegrind without
// its cache simulation) and `node --predictable` (V8 compiles and collects on the main thread, in
// the same order every run). An instruction count does not move with the load of a shared machine
// as CPU time does (±5 % at load 4–10, the size of the changes it is for), and it takes V8's
// warm-up (the interpreter, compiling, compiling again after a deoptimization) with it; it does not
// see cache misses, so a gain it shows must still be checked in time (track-cost.mjs).
//
//   node bench/track-instructions.mjs [--dist DIR]... [--one-path] [--cases track,analyze,sink] [FILE]     # needs valgrind; ~3 min a case
//
// FILE defaults to .bench-data/loopback.pcapng. Every --dist (default: this checkout's dist/,
// built first) is measured with the cases `decode` and `track` (or those --cases names); the
// tracker's figure is the difference, over the segments. `track` takes the tracker's defaults
// (every event kept, as `live` and the server keep them); `analyze` the options `tcpscope analyze`
// gives it (no ladder asked for, no events kept); `sink` the defaults and one `onEvent` sink
// (each event built as an object; `live`'s bus takes records and builds none): bench/lib/track-loop.mjs. --one-path adds the case `one-path` for every build that has a
// plain path (Machine.usePlainPath, the check track-cost and track-plain make too): the same build
// with it switched off, every segment through the one path, so that what it buys is measured alone.
// A case named with `-warm` (`track-warm`, `analyze-warm`) reads the capture twice in one process,
// through a tracker of the case each time (`one-path-warm`: the one path switched off on both), with
// a full collection (gc(), --expose-gc) between the passes; its row is the second pass alone (the
// warmed count less the case's own, less the same for decoding): the code V8 has compiled and
// settled, without the interpreter, compiling and deoptimizations a first pass pays. The row still
// holds that collection of the first pass's tracker (decode-warm's, subtracted, has no tracker).
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildOnce, ROOT } from './lib/build.mjs';
import { count } from './lib/instructions.mjs';
import { caseTracker, loadDist, trackCapture } from './lib/track-loop.mjs';

const self = fileURLToPath(import.meta.url);
/** Whether a build's tracker has a plain path to switch off (the check every track bench makes). */
const hasPlainPath = (tracker) => typeof tracker.machine?.usePlainPath === 'function';
const args = process.argv.slice(2);

/** A tracker of the case `name`, with the case's own setup (the one path's switch) made on it. */
function makeTracker(m, name, dist) {
  const tracker = caseTracker(m, name);
  if (name === 'one-path') {
    if (!hasPlainPath(tracker)) throw new Error(`${dist}: this build has no plain path to switch off`);
    tracker.machine.usePlainPath(false);
  }
  return tracker;
}

if (args[0] === '--case') {
  const [, caseName, dist, file] = args;
  const m = loadDist(dist);
  const warm = caseName.endsWith('-warm');
  const name = warm ? caseName.slice(0, -'-warm'.length) : caseName;
  // a warmed case reads the capture twice, through a tracker of the case each time (see above),
  // and collects the first one's garbage between the passes (run with --expose-gc)
  if (warm) {
    if (typeof globalThis.gc !== 'function') throw new Error(`${caseName}: a warmed case needs node --expose-gc`);
    await trackCapture(m, file, makeTracker(m, name, dist));
    globalThis.gc();
  }
  const segments = await trackCapture(m, file, makeTracker(m, name, dist));
  process.stdout.write(JSON.stringify({ segments }) + '\n');
  process.exit(0);
}

const dists = args.flatMap((a, i) => (a === '--dist' ? [path.resolve(args[i + 1])] : []));
if (dists.length === 0) {
  await buildOnce();
  dists.push(path.join(ROOT, 'dist'));
}
const casesAt = args.indexOf('--cases');
const cases = casesAt >= 0 ? args[casesAt + 1].split(',') : ['track'];
const file = args.find((a, i) => !a.startsWith('--') && args[i - 1] !== '--dist' && args[i - 1] !== '--cases') ?? path.join(ROOT, '.bench-data/loopback.pcapng');

console.log(`file ${path.relative(process.cwd(), file)}; instructions of the whole process (valgrind --tool=cachegrind, node --predictable)`);
console.log('| build | decode (read + decode) | track (read + decode + track) | segments | tracking instructions per segment |');
console.log('|---|---:|---:|---:|---:|');
for (const dist of dists) {
  const dec = count(self, 'decode', dist, file);
  const fmt = (n) => n.toLocaleString('en-US');
  const onePath = args.includes('--one-path') && hasPlainPath(new (loadDist(dist).Tracker)());
  const cold = new Map();
  let decWarm = null;
  for (const name of onePath ? [...cases, 'one-path'] : cases) {
    const label = (path.relative(process.cwd(), dist) || '.') + (name === 'track' ? '' : ` (${name})`);
    if (name.endsWith('-warm')) {
      // the second pass alone: the warmed case less its cold case (the same first pass, as
      // --predictable runs it), less the same for decoding
      const base = name.slice(0, -'-warm'.length);
      const first = cold.get(base) ?? count(self, base, dist, file);
      decWarm ??= count(self, 'decode-warm', dist, file);
      const trk = count(self, name, dist, file);
      const second = trk.instructions - first.instructions;
      const decSecond = decWarm.instructions - dec.instructions;
      const per = (second - decSecond) / trk.out.segments;
      console.log(`| ${label}: the second pass | ${fmt(decSecond)} | ${fmt(second)} | ${trk.out.segments} | ${per.toFixed(0)} |`);
      continue;
    }
    const trk = count(self, name, dist, file);
    cold.set(name, trk);
    const per = (trk.instructions - dec.instructions) / trk.out.segments;
    console.log(`| ${label} | ${fmt(dec.instructions)} | ${fmt(trk.instructions)} | ${trk.out.segments} | ${per.toFixed(0)} |`);
  }
}
