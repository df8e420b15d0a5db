#!/usr/bin/env node
// Writes what a build's tracker says about every public trace and regression capture (each
// connection's detail: view, events, ladder, as a short hash) and about a fixed-seed run of the
// fuzzer's packet and flow cases: the record test/track/golden.test.ts holds the sources to.
//
//   node bench/track-golden.mjs [--dist DIR] > test/fixtures/track/golden.json
//   node bench/track-golden.mjs [--dist DIR] FILE...      # one digest per capture (e.g. .bench-data/*)
//
// DIR is a built dist/ (default: this checkout's, built first); run it with an older build's dist
// to make the reference, and with this one to compare.
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileGolden, fuzzGolden, goldenFiles } from '../test/support/track-golden.mjs';
import { buildOnce, ROOT } from './lib/build.mjs';

const args = process.argv.slice(2);
let dist = path.join(ROOT, 'dist');
if (args[0] === '--dist') {
  dist = path.resolve(args[1]);
  args.splice(0, 2);
} else await buildOnce();
const require = createRequire(import.meta.url);
const deps = {
  readCaptureFile: require(path.join(dist, 'capture/file.js')).readCaptureFile,
  decodeFrame: require(path.join(dist, 'decode/decode.js')).decodeFrame,
  Segment: require(path.join(dist, 'decode/segment.js')).Segment,
  Tracker: require(path.join(dist, 'track/tracker.js')).Tracker,
  decodeStatuses: require(path.join(dist, 'decode/status.js')).DECODE_STATUSES,
  fileErrorCodes: [],
};

if (args.length > 0) {
  for (const f of args) {
    const g = await fileGolden(deps, path.resolve(f));
    const digest = createHash('sha1').update(g.connections.join('\n')).digest('hex').slice(0, 16);
    process.stdout.write(`${f}\t${g.connections.length} connections\t${digest}\n`);
  }
} else {
  const files = {};
  for (const rel of goldenFiles()) {
    const g = await fileGolden(deps, path.join(ROOT, 'test/fixtures', rel));
    files[rel] = g.error ? { error: g.error, connections: g.connections } : g.connections;
  }
  const fuzz = await fuzzGolden(deps);
  process.stdout.write(JSON.stringify({ files, fuzz }, null, 0).replace(/\],"/g, '],\n"') + '\n');
}
