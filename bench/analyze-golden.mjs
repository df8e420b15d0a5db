#!/usr/bin/env node
// Writes what `tcpscope analyze --format jsonl` says about every public trace, as a set: the
// reference that test/cli/analyze.test.ts holds later builds to (same connections, states, counts,
// times; the order of the lines is not compared).
//
//   TCPSCOPE_ROOT=/tmp/old node bench/analyze-golden.mjs > test/fixtures/analyze/public-traces.json
//
// Runs the CLI of TCPSCOPE_ROOT (default: this checkout, built) once per trace, as a user would.
// Builds before the jsonl line carried `captureGap` (a Connection field, always false in a file)
// left it out: it is put in its place, so the reference made by 31c2ea7 reads as lines of today.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { FIXTURES } from '../test/support/fixtures.mjs';
import { ROOT, TARGET } from './lib/build.mjs';
import { withCaptureGap } from './lib/jsonl-compat.mjs';

// The public captures (test/support/fixtures.mjs), or --fixtures DIR
const args = process.argv.slice(2);
const fixtures = args.includes('--fixtures')
  ? path.resolve(args[args.indexOf('--fixtures') + 1])
  : FIXTURES;
const lines = readFileSync(path.join(fixtures, 'manifest.tsv'), 'utf8').trimEnd().split('\n');
const col = lines[0].split('\t').indexOf('file');
const files = lines.slice(1).map((l) => path.join(fixtures, l.split('\t')[col]));
const regressions = path.join(ROOT, 'test/fixtures/regressions');
for (const f of readdirSync(regressions)) if (/\.pcap(ng)?$/.test(f)) files.push(path.join(regressions, f));
const out = {};
for (const full of files) {
  const file = full.startsWith(fixtures + '/') ? path.relative(fixtures, full) : path.relative(ROOT, full);
  const p = spawnSync(process.execPath, [path.join(TARGET, 'bin/tcpscope.js'), 'analyze', full, '--format', 'jsonl'], {
    encoding: 'utf8',
    maxBuffer: 1 << 28,
  });
  out[file] = {
    exit: p.status,
    error: p.stderr.trim().replace(path.dirname(full) + '/', ''),
    records: p.stdout
      .split('\n')
      .filter(Boolean)
      .map(withCaptureGap)
      .sort(),
  };
}
process.stdout.write(JSON.stringify(out, null, 1) + '\n');
