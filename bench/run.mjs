#!/usr/bin/env node
// The benchmark: sections, each measured in one run on this machine, printed as Markdown.
//
//   npm run bench                                    # every section, 3 runs per row (median)
//   node bench/run.mjs --sections commands --runs 1  # some sections
//   node bench/run.mjs --sections commands --only pcap-parser,analyze-zeek-pcap
//
// The bench capture (.bench-data/loopback.pcap and .pcapng, real loopback traffic) is made by
// bench/make-capture.mjs when missing (needs root); tcpscope is measured from dist/ (built first).
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildOnce } from './lib/build.mjs';
import { scriptSection } from './sections/script.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');

/** [name, module]: one more section is one more entry. */
const SECTIONS = [
  ['commands', './sections/commands.mjs'],
  ['memory', './sections/memory.mjs'],
  ['same-records', './sections/same-records.mjs'],
  ['engine', './sections/engine.mjs'],
  ['rest', scriptSection('REST at scale, while a held table replays and after', 'rest', ['--sizes', '100000,1000000', '--requests', '200'])],
  ['ws-stream', scriptSection('The event stream at the fastest loopback load', 'ws-stream', ['--seconds', '15'])],
  ['load', scriptSection('live under load: the capture process', 'load', ['--runs', '3'])],
  ['sockets', scriptSection('live: what reading the socket tables costs', 'sockets', ['--seconds', '10'])],
];

const args = process.argv.slice(2);
const opt = (n, d) => (args.includes(n) ? args[args.indexOf(n) + 1] : d);
const pick = opt('--sections', null)?.split(',');
for (const p of pick ?? []) if (!SECTIONS.some(([n]) => n === p)) throw new Error(`bench: no section ${p} (${SECTIONS.map(([n]) => n).join(', ')})`);
const base = '.bench-data/loopback';
if (!existsSync(path.join(root, `${base}.pcap`)) || !existsSync(path.join(root, `${base}.pcapng`))) {
  console.error('bench: making the capture (real loopback traffic, needs root) …');
  execFileSync(process.execPath, [path.join(here, 'make-capture.mjs'), '--out', path.join(root, base)], { stdio: 'inherit' });
}
if (!existsSync(path.join(here, 'node_modules/pcap'))) {
  console.error('bench: installing the peers (node_pcap) …');
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: here, stdio: 'inherit' });
}
await buildOnce();

const fmt = (n, d = 0) => (n == null || Number.isNaN(n) ? '–' : Number(n).toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d }));
const ctx = {
  root,
  pcap: `${base}.pcap`,
  pcapng: `${base}.pcapng`,
  runs: Number(opt('--runs', 3)),
  only: opt('--only', null)?.split(','),
  results: {},
  packets: null,
  fmt,
  log: (m) => console.error(`bench: ${m}`),
};
const load = () => os.loadavg().map((x) => x.toFixed(2)).join(' ');
console.log(`machine: ${os.cpus()[0].model}, ${os.cpus().length} cores, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB, node ${process.version}`);
console.log(`capture: ${ctx.pcap} and ${ctx.pcapng} (bench/make-capture.mjs); commands run from the repository root`);
for (const [name, mod] of SECTIONS) {
  if (pick && !pick.includes(name)) continue;
  const s = typeof mod === 'string' ? await import(mod) : mod;
  const before = load();
  const t0 = Date.now();
  const lines = await s.run(ctx);
  console.log(`\n## ${s.title}\n\nload average before: ${before}, after: ${load()}; ${((Date.now() - t0) / 1000).toFixed(0)} s\n`);
  console.log(lines.join('\n'));
}
