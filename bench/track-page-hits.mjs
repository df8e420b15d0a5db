#!/usr/bin/env node
// How often the ladder's record falls on the page SegPool.writeAll wrote last (whose two views it
// keeps): SegPool.prototype.writeAll wrapped to compare each record's page with the same pool's
// last one, the capture read, decoded and tracked with the tracker's defaults (the `track` case).
// A count; the wrapper's time is no measurement.
//
//   node bench/track-page-hits.mjs [--dist DIR] [FILE]
//
// FILE defaults to .bench-data/loopback.pcapng; DIR to this checkout's dist/ (built first).
import { createRequire } from 'node:module';
import path from 'node:path';
import { buildOnce, ROOT } from './lib/build.mjs';
import { caseTracker, loadDist, trackCapture } from './lib/track-loop.mjs';

const args = process.argv.slice(2);
const at = args.indexOf('--dist');
let dist = at >= 0 ? path.resolve(args[at + 1]) : null;
if (dist === null) {
  await buildOnce();
  dist = path.join(ROOT, 'dist');
}
const file = args.find((a, i) => !a.startsWith('--') && args[i - 1] !== '--dist') ?? path.join(ROOT, '.bench-data/loopback.pcapng');
const { SegPool } = createRequire(import.meta.url)(path.join(dist, 'track/pools.js'));
const PAGE_SHIFT = 14; // pools.ts PG.PAGE_SHIFT
let writes = 0;
let misses = 0;
const last = new WeakMap();
const writeAll = SegPool.prototype.writeAll;
SegPool.prototype.writeAll = function (r, ...rest) {
  writes++;
  const page = r >>> PAGE_SHIFT;
  if (last.get(this) !== page) {
    misses++;
    last.set(this, page);
  }
  return writeAll.call(this, r, ...rest);
};
const m = loadDist(dist);
const segments = await trackCapture(m, file, caseTracker(m, 'track'));
console.log(`${path.relative(process.cwd(), file)}: ${segments} segments, ${writes} ladder records written, ${misses} on another page than the last write (${(100 * (1 - misses / writes)).toFixed(1)} % on the same)`);
