#!/usr/bin/env node
// Whether this build's `tcpscope analyze` writes, byte for byte, what another build's writes, in
// each given format, on every public trace (test/fixtures/zeek), every regression capture and the
// bench captures: the check a change to reading or decoding must pass (same frames, same segments,
// so the same records in the same order). Runs the CLI of both builds as a user would. zeek's
// #open and #close lines hold the wall-clock time of writing (as Zeek's do) and are left out.
//
//   node bench/decode-same-output.mjs --before DIR [--formats jsonl,zeek] [FILE]...
//
// DIR is another build's root (with bin/ and dist/, e.g. .bench-data/rev-REV). FILEs default to
// the captures above (the bench captures when they exist). Prints one line per difference and a
// count; exits 1 when anything differs.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { goldenFiles } from '../test/support/track-golden.mjs';
import { buildOnce, ROOT } from './lib/build.mjs';

const args = process.argv.slice(2);
const opt = (n) => (args.includes(n) ? args[args.indexOf(n) + 1] : null);
const beforeArg = opt('--before');
if (!beforeArg) throw new Error('--before DIR is required');
const before = path.resolve(beforeArg);
const formats = (opt('--formats') ?? 'jsonl,zeek').split(',');
let files = args.filter((a, i) => !a.startsWith('--') && !['--before', '--formats'].includes(args[i - 1])).map((f) => path.resolve(f));
if (files.length === 0) {
  files = goldenFiles().map((rel) => path.join(ROOT, 'test/fixtures', rel));
  for (const f of ['loopback.pcap', 'loopback.pcapng']) if (existsSync(path.join(ROOT, '.bench-data', f))) files.push(path.join(ROOT, '.bench-data', f));
}
await buildOnce();

const WALL_CLOCK = /^#(open|close)\t[^\n]*\n/gm;

function analyze(root, file, format) {
  const p = spawnSync(process.execPath, [path.join(root, 'bin/tcpscope.js'), 'analyze', file, '--format', format], { maxBuffer: 1 << 30 });
  const stdout = format === 'zeek' ? Buffer.from(p.stdout.toString('latin1').replace(WALL_CLOCK, '#$1\n'), 'latin1') : p.stdout;
  return { status: p.status, stdout, stderr: p.stderr.toString() };
}

let compared = 0;
let differ = 0;
for (const file of files) {
  for (const format of formats) {
    const a = analyze(ROOT, file, format);
    const b = analyze(before, file, format);
    compared++;
    const same = a.status === b.status && Buffer.compare(a.stdout, b.stdout) === 0 && a.stderr === b.stderr;
    if (!same) {
      differ++;
      console.log(`differs: ${path.relative(ROOT, file)} --format ${format} (exit ${a.status} vs ${b.status}, ${a.stdout.length} vs ${b.stdout.length} bytes)`);
    }
  }
}
console.log(`${compared - differ} of ${compared} outputs byte-identical to ${path.relative(ROOT, before) || before} (stdout but zeek's #open/#close times, stderr, exit status), ${files.length} captures, formats ${formats.join(', ')}`);
process.exit(differ === 0 ? 0 : 1);
