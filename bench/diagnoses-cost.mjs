#!/usr/bin/env node
// ENGINE ONLY (no HTTP): what one diagnoses() costs the main thread with the connections of a
// capture held — the walk the socket watch makes every 2 s for GET /api/diagnoses and the
// dashboard (sockets/watch.ts diagnoses(): every connection's fields read from the store and
// handed to sockets/diagnose.ts; builds without the store's walk hand it tracker.list()'s views).
// No socket reading (index null): the listeners' part of a diagnosis costs nothing here.
// Wall time of each call in this process, after `--warm` calls; p50, min and max of `--reps`.
//
//   node bench/diagnoses-cost.mjs [--file .bench-data/held-600000.pcap] [--reps 10] [--warm 3] [--all] [--history]
// (the file is made on demand by bench/lib/held-conns-pcap.mjs: 600 000 is what 300 s of closed
// retention holds at 2 000 connections a second); TCPSCOPE_ROOT=.bench-data/rev-2860a91 for an
// older build.
import path from 'node:path';
import { ROOT, TARGET } from './lib/build.mjs';
import { holdCapture } from './lib/held-engine.mjs';
import { loadAverage, percentile, round } from './lib/proc.mjs';

const args = process.argv.slice(2);
const opt = (n, d) => (args.includes(n) ? args[args.indexOf(n) + 1] : d);
const file = path.resolve(ROOT, opt('--file', '.bench-data/held-600000.pcap'));
const reps = Number(opt('--reps', 10));
const warm = Number(opt('--warm', 3));
const { engine, load } = await holdCapture(file, { maxConnections: 50_000_000 });
const { diagnose, DIAGNOSED } = load('sockets/diagnose.js');
const record = load('track/record.js');
const t = engine.tracker;
const held = t.stats().tracked;
const fromStore = typeof t.eachRecord === 'function' && record.ConnFields;
const f = fromStore ? new record.ConnFields() : null;
// --history: each fill reads the history letters too, as the watch did before it asked for none
const history = args.includes('--history');
// --all: every connection filled, as the watch walked before it read only those a diagnosis can name
const filtered = DIAGNOSED !== undefined && typeof t.eachRecordOf === 'function' && !args.includes('--all');
const input = () => ({
  now: Date.now(),
  connections: fromStore
    ? (visit) => {
        const each = (r) => {
          r.fill(f, history);
          visit(f);
        };
        if (filtered) t.eachRecordOf(DIAGNOSED, each);
        else t.eachRecord(each);
      }
    : t.list(),
  index: null,
  closeWaitSince: { client: new Map(), server: new Map() },
  counterRise: {},
  disagreements: [],
});
const ms = [];
let found = 0;
for (let i = 0; i < warm + reps; i++) {
  const a = performance.now();
  found = diagnose(input()).length;
  if (i >= warm) ms.push(performance.now() - a);
}
ms.sort((a, b) => a - b);
console.log(
  JSON.stringify({
    build: path.relative(ROOT, TARGET) || '.',
    file: path.relative(ROOT, file),
    held,
    path: fromStore ? `store (${filtered ? 'eachRecordOf(DIAGNOSED)' : 'eachRecord'} + fill${history ? ' with history' : ''})` : 'views (tracker.list())',
    diagnoses: found,
    reps,
    p50Ms: round(percentile(ms, 50), 1),
    minMs: round(ms[0], 1),
    maxMs: round(ms.at(-1), 1),
    load: loadAverage(),
  }),
);
