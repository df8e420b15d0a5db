#!/usr/bin/env node
// CPU of the table's end of file, in-process: the bench capture read into a tracker configured as
// analyze configures it, then every connection removed (removeAll) with the table's sinks: rows
// written into one output buffer, the summary and the diagnoses fed, either from views (the
// tracker builds one per connection) or from the store's fields through one FieldsView. Each way
// reads the file again; only the removal is timed. Median of --runs (default 3) per way.
//
//   node bench/table-end-cost.mjs [.bench-data/loopback.pcapng] [--runs 3]
//   TCPSCOPE_DIST=.bench-data/rev-9608f1a/dist node bench/table-end-cost.mjs   # views only, another build
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { analyzeOptions } from './lib/track-loop.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = process.env.TCPSCOPE_DIST ? path.resolve(process.env.TCPSCOPE_DIST) : path.join(root, 'dist');
const require = createRequire(import.meta.url);
const { Engine } = require(path.join(dist, 'ingest/engine.js'));
const { readCaptureFile } = require(path.join(dist, 'capture/file.js'));
const table = require(path.join(dist, 'cli/format/table.js'));
const { FileDiagnoser } = require(path.join(dist, 'sockets/diagnose-file.js'));
const { JsonBytes } = require(path.join(dist, 'events/json-bytes.js'));
const { ConnFields } = require(path.join(dist, 'track/record.js'));

const args = process.argv.slice(2);
const runs = args.includes('--runs') ? Number(args[args.indexOf('--runs') + 1]) : 3;
const file = args.find((a) => !a.startsWith('--') && a !== String(runs)) ?? path.join(root, '.bench-data/loopback.pcapng');
const options = { timeouts: { closedRetention: 60_000 }, ...analyzeOptions() };

async function once(way) {
  const e = new Engine(options);
  const out = new JsonBytes(1 << 17);
  const summary = new table.TableSummary();
  const wrote = () => {
    if (out.pos >= 1 << 16) out.pos = 0;
  };
  if (way === 'views') {
    new FileDiagnoser(e.tracker, () => e.lastTs, 60_000);
    e.tracker.onRemove((c) => {
      table.writeTableLine(out, c);
      wrote();
      summary.add(c);
    });
  } else {
    let sink = null;
    const t = Object.create(e.tracker);
    t.onRemove = (s) => (sink = s);
    new FileDiagnoser(t, () => e.lastTs, 60_000);
    const f = new ConnFields();
    const v = new table.FieldsView(f);
    e.tracker.onRemoveRecord((r) => {
      r.fill(f);
      table.writeTableFields(out, f);
      wrote();
      summary.add(v);
      sink(v);
    });
  }
  await readCaptureFile(file, e.onFrame);
  const c0 = process.cpuUsage();
  const n = e.tracker.removeAll();
  const c = process.cpuUsage(c0);
  return { n, us: c.user + c.system };
}

const ways = table.writeTableFields ? ['views', 'fields'] : ['views'];
const got = Object.fromEntries(ways.map((w) => [w, []]));
let n = 0;
for (let i = 0; i < runs; i++) for (const w of ways) {
  const r = await once(w);
  n = r.n;
  got[w].push(r.us);
}
const med = (a) => [...a].sort((x, y) => x - y)[a.length >> 1];
console.log(`${n} connections removed at the end of ${path.relative(root, file)}; CPU of the removal, median of ${runs}`);
for (const w of ways) console.log(`${w.padEnd(7)} ${(med(got[w]) / 1e6).toFixed(3)} s  ${(med(got[w]) / n).toFixed(2)} µs a connection  [${got[w].map((u) => (u / 1e6).toFixed(3)).join(' ')}]`);
