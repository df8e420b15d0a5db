#!/usr/bin/env node
// What V8 optimises and throws away while a command runs: the command is run once under
// `node --trace-opt --trace-deopt` (all its isolates: the main thread and any worker) and the
// trace is summed: optimising compiles (TurboFan; OSR among them), how many compiled a function
// again (same SharedFunctionInfo: the same function in the same isolate), deopts by kind and
// reason, the functions thrown away, and the costliest compiles. With --split TEXT the trace is
// also summed in two parts, before and from the first stdout line starting with TEXT (for the
// table, `START (UTC)`: its rows are written at the end, so the second part is the end). With
// --stop-after S the command is sent SIGINT after S seconds (for one that runs until stopped: live).
//
//   node bench/v8-compiles.mjs [--split 'START (UTC)'] -- bin/tcpscope.js analyze .bench-data/loopback.pcap --format table
//   node bench/v8-compiles.mjs --stop-after 4 -- bin/tcpscope.js live --no-server --no-sockets -p 9
//
// The milliseconds are V8's own (prepare + execute + finalize per compile): wall time of the
// compiling thread, so they grow with the load of a shared machine; the counts do not (much).
// For the CPU the compiler threads take, see bench/thread-cpu.mjs ("others").
import { spawnSync } from 'node:child_process';

const args = process.argv.slice(2);
const cut = args.indexOf('--');
if (cut < 0) throw new Error('usage: v8-compiles.mjs [--split TEXT] -- SCRIPT ARGS…');
const opts = args.slice(0, cut);
const split = opts.includes('--split') ? opts[opts.indexOf('--split') + 1] : null;
const stopAfter = opts.includes('--stop-after') ? Number(opts[opts.indexOf('--stop-after') + 1]) : 0;
const run = spawnSync(process.execPath, ['--trace-opt', '--trace-deopt', ...args.slice(cut + 1)], {
  encoding: 'utf8',
  maxBuffer: 1 << 30,
  stdio: ['ignore', 'pipe', 'inherit'],
  ...(stopAfter > 0 ? { timeout: stopAfter * 1000, killSignal: 'SIGINT' } : {}),
});
if (run.status !== 0 && !(stopAfter > 0 && run.stdout)) throw new Error(`exited with ${run.status ?? run.signal}`);
const lines = run.stdout.split('\n');

const COMPILED = /completed compiling .*?<JSFunction (\S*) ?\(sfi = (\w+)\)>.*?( OSR)? - took ([\d.]+), ([\d.]+), ([\d.]+) ms/;
const BAILOUT = /bailout \(kind: ([\w-]+), reason: ([^)]*)\).*?<JSFunction (\S*) ?\(sfi/;

function sum(part, seen) {
  const s = { compiles: 0, osr: 0, ms: 0, again: 0, againMs: 0, deopts: 0, reasons: new Map(), thrown: new Map(), cost: new Map() };
  const add = (m, k, v) => m.set(k, (m.get(k) ?? 0) + v);
  for (const line of part) {
    let m = COMPILED.exec(line);
    if (m) {
      const ms = Number(m[4]) + Number(m[5]) + Number(m[6]);
      const key = `${m[1]}/${m[2]}`;
      s.compiles++;
      s.ms += ms;
      if (m[3]) s.osr++;
      if (seen.has(key)) (s.again++, (s.againMs += ms));
      seen.add(key);
      add(s.cost, m[1] || '(anonymous)', ms);
      continue;
    }
    m = BAILOUT.exec(line);
    if (m) {
      s.deopts++;
      add(s.reasons, `${m[1]}: ${m[2]}`, 1);
      add(s.thrown, m[3] || '(anonymous)', 1);
    }
  }
  return s;
}

const top = (m, n, f = (v) => v) =>
  [...m].sort((a, b) => b[1] - a[1]).slice(0, n).map(([k, v]) => `${k} ${f(v)}`).join(', ');

function report(title, s) {
  console.log(`${title}: ${s.compiles} optimising compiles (${s.osr} OSR), ${s.ms.toFixed(0)} ms; ` +
    `${s.again} of them a function compiled again (${s.againMs.toFixed(0)} ms); ${s.deopts} deopts`);
  console.log(`  reasons: ${top(s.reasons, 8)}`);
  console.log(`  thrown away: ${top(s.thrown, 12)}`);
  console.log(`  costliest (ms): ${top(s.cost, 12, (v) => v.toFixed(0))}`);
}

const seen = new Set();
const at = split === null ? -1 : lines.findIndex((l) => l.startsWith(split));
if (at < 0) report('whole run', sum(lines, seen));
else {
  report(`before "${split}"`, sum(lines.slice(0, at), seen));
  report(`from "${split}" on`, sum(lines.slice(at), seen));
}
