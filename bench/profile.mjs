#!/usr/bin/env node
// Summarises a V8 .cpuprofile (node --cpu-prof): self time by function and by source file, and
// total (inclusive) time of the functions named with --focus.
//
//   node bench/profile.mjs FILE.cpuprofile [--top 25] [--focus onFrame,publish]
import { readFileSync } from 'node:fs';

const args = process.argv.slice(2);
const opt = (n, d) => (args.includes(n) ? args[args.indexOf(n) + 1] : d);
const prof = JSON.parse(readFileSync(args[0], 'utf8'));
const top = Number(opt('--top', 25));
const focus = opt('--focus', '').split(',').filter(Boolean);

const byId = new Map(prof.nodes.map((n) => [n.id, n]));
const parent = new Map();
for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const selfUs = new Map();
const dt = prof.timeDeltas;
for (let i = 0; i < prof.samples.length; i++) selfUs.set(prof.samples[i], (selfUs.get(prof.samples[i]) ?? 0) + (dt[i] ?? 0));
const totalUs = dt.reduce((a, b) => a + b, 0);

const label = (n) => {
  const f = n.callFrame;
  const file = f.url ? f.url.replace(/^.*\/(node_modules\/[^/]+|dist|src)\//, '$1/') : '(native)';
  return { fn: f.functionName || '(anonymous)', file, line: f.lineNumber + 1 };
};
const agg = (key) => {
  const m = new Map();
  for (const [id, us] of selfUs) {
    const k = key(label(byId.get(id)));
    m.set(k, (m.get(k) ?? 0) + us);
  }
  return [...m].sort((a, b) => b[1] - a[1]);
};
const pct = (us) => ((100 * us) / totalUs).toFixed(1).padStart(5) + '%';
console.log(`total sampled ${(totalUs / 1000).toFixed(0)} ms`);
console.log('\nself time by function');
for (const [k, us] of agg((l) => `${l.fn}  ${l.file}:${l.line}`).slice(0, top)) console.log(pct(us), (us / 1000).toFixed(0).padStart(6), 'ms ', k);
console.log('\nself time by file');
for (const [k, us] of agg((l) => l.file).slice(0, top)) console.log(pct(us), (us / 1000).toFixed(0).padStart(6), 'ms ', k);
for (const name of focus) {
  // inclusive: samples whose stack contains a frame of this name (counted once per sample)
  let us = 0;
  for (let i = 0; i < prof.samples.length; i++) {
    for (let id = prof.samples[i]; id !== undefined; id = parent.get(id)) {
      if (byId.get(id).callFrame.functionName === name) {
        us += dt[i] ?? 0;
        break;
      }
    }
  }
  console.log(`\ninclusive ${name}: ${pct(us)} ${(us / 1000).toFixed(0)} ms`);
}

// Stretches of at least --stall-ms without an idle sample: what held the event loop.
const stallMs = Number(opt('--stall-ms', 0));
if (stallMs > 0) {
  const idleIds = new Set(prof.nodes.filter((n) => n.callFrame.functionName === '(idle)').map((n) => n.id));
  const stretches = [];
  let start = -1;
  let t = prof.startTime;
  const times = prof.samples.map((_, i) => (t += dt[i]));
  for (let i = 0; i <= prof.samples.length; i++) {
    const idle = i === prof.samples.length || idleIds.has(prof.samples[i]);
    if (!idle && start < 0) start = i;
    if (idle && start >= 0) {
      const ms = (times[i - 1] - times[start]) / 1000;
      if (ms >= stallMs) {
        const m = new Map();
        for (let k = start; k < i; k++) {
          // attribute each sample to the outermost frame of ours (dist/), else its leaf
          let name = null;
          for (let id = prof.samples[k]; id !== undefined; id = parent.get(id)) {
            const l = label(byId.get(id));
            if (l.file.startsWith('dist/') || l.fn === '(garbage collector)') name = `${l.fn} ${l.file}`;
          }
          name ??= label(byId.get(prof.samples[k])).fn;
          m.set(name, (m.get(name) ?? 0) + dt[k]);
        }
        const top = [...m].sort((a, b) => b[1] - a[1]).slice(0, 4).map(([k, us]) => `${k} ${(us / 1000).toFixed(1)}`);
        stretches.push({ atMs: Math.round((times[start] - prof.startTime) / 1000), ms: Math.round(ms), top });
      }
      start = -1;
    }
  }
  console.log(`\n${stretches.length} busy stretches of ${stallMs} ms or more (outermost own frame, ms)`);
  for (const s of stretches) console.log(String(s.atMs).padStart(7), String(s.ms).padStart(5), 'ms ', s.top.join(' | '));
}

// Who calls a function (by name): its samples grouped by the nearest own (dist/ or src/) caller chain.
const callers = opt('--callers', null);
if (callers) {
  const m = new Map();
  for (let i = 0; i < prof.samples.length; i++) {
    let id = prof.samples[i];
    if (byId.get(id).callFrame.functionName !== callers) continue;
    const chain = [];
    for (; id !== undefined; id = parent.get(id)) {
      const l = label(byId.get(id));
      if (l.file.startsWith('dist/') || l.file.startsWith('src/')) chain.push(`${l.fn}:${l.line}`);
      if (chain.length === 4) break;
    }
    const k = chain.join(' < ') || '(no own frame)';
    m.set(k, (m.get(k) ?? 0) + (dt[i] ?? 0));
  }
  console.log(`\ncallers of ${callers}`);
  for (const [k, us] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(pct(us), (us / 1000).toFixed(0).padStart(6), 'ms ', k);
}
