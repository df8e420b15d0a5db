#!/usr/bin/env node
// Instructions by JavaScript function from a callgrind profile of node: callgrind does not know
// the code V8 generates, so each instruction's address is looked up in the map file V8 writes with
// --perf-basic-prof (code moves must be off: --no-compact-code-space). Self counts only (a call's
// inclusive cost is skipped); V8's optimized functions are named `JS:*name file:line`, baseline
// code `JS:^…`, interpreted `JS:~…`, and what V8 inlined counts under the function it was inlined
// into.
//
//   valgrind --tool=callgrind --dump-instr=yes --callgrind-out-file=/tmp/cg.out \
//     node --predictable --perf-basic-prof --no-compact-code-space bench/track-instructions.mjs \
//     --case track $PWD/dist FILE
//   node bench/lib/callgrind-by-function.mjs /tmp/cg.out /tmp/perf-PID.map [SEGMENTS] [TOP]
//
// With SEGMENTS, counts are also given per segment.
import { createReadStream, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';

const [profile, mapFile, segArg, topArg] = process.argv.slice(2);
const segments = Number(segArg ?? 0);
const top = Number(topArg ?? 40);

const entries = readFileSync(mapFile, 'utf8')
  .split('\n')
  .filter(Boolean)
  .map((l) => {
    const [a, n, ...name] = l.split(' ');
    return { start: parseInt(a, 16), end: parseInt(a, 16) + parseInt(n, 16), name: name.join(' ') };
  })
  .sort((x, y) => x.start - y.start);

function nameOf(addr) {
  let lo = 0;
  let hi = entries.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (entries[mid].start <= addr) lo = mid + 1;
    else hi = mid - 1;
  }
  const e = entries[hi];
  return e !== undefined && addr < e.end ? e.name : '(not generated code)';
}

const byName = new Map();
let total = 0;
let addr = 0;
let skipNext = false;
const rl = createInterface({ input: createReadStream(profile) });
for await (const line of rl) {
  if (line.startsWith('calls=')) {
    skipNext = true; // the next cost line is the call's inclusive cost
    continue;
  }
  const c = line.charCodeAt(0);
  const isCost = (c >= 48 && c <= 57) || c === 43 || c === 45 || c === 42; // digit + - *
  if (!isCost) continue;
  const parts = line.split(' ');
  const p = parts[0];
  if (p.startsWith('0x')) addr = parseInt(p, 16);
  else if (p.startsWith('+')) addr += Number(p.slice(1));
  else if (p.startsWith('-')) addr -= Number(p.slice(1));
  else if (p !== '*') continue;
  if (skipNext) {
    skipNext = false;
    continue;
  }
  const n = Number(parts[2] ?? parts[1] ?? 0);
  total += n;
  const name = nameOf(addr);
  byName.set(name, (byName.get(name) ?? 0) + n);
}

console.log(`total ${total.toLocaleString('en-US')} instructions${segments ? `, ${(total / segments).toFixed(0)} a segment` : ''}`);
for (const [name, n] of [...byName].sort((a, b) => b[1] - a[1]).slice(0, top)) {
  const per = segments ? `${(n / segments).toFixed(1).padStart(8)}  ` : '';
  console.log(`${(n / 1e6).toFixed(1).padStart(9)} M  ${per}${name}`);
}
