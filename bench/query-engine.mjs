#!/usr/bin/env node
// ENGINE ONLY (no HTTP, no JSON): what one list query costs the tracker, with the connections of a
// capture held — the `select()` behind GET /api/connections, timed in this process. bench/rest.mjs
// measures the same queries as users make them; this one separates the query from the server and
// from whatever else the machine runs (its `min` is the closest to an idle machine).
//
// Then a page of 1 000 connections as the list endpoint answers it: the select alone (the views),
// the body JSON.stringify made of it (what res.json sent), the body src/server/json.ts writes from
// the views, and (builds that have it) the body it writes from the store's cursor with no view built,
// one of each in turn (CPU: user + system of the process, its GC threads included), with the
// garbage collections that started during each.
//
//   node bench/query-engine.mjs [--file .bench-data/held-1000000.pcap] [--reps 40] [--no-index]
// (make the file with `node bench/rest.mjs --sizes 1000000`, or bench/lib/held-conns-pcap.mjs)
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { constants, PerformanceObserver } from 'node:perf_hooks';
import { buildOnce, TARGET } from './lib/build.mjs';
import { loadAverage, percentile, round } from './lib/proc.mjs';

const args = process.argv.slice(2);
const opt = (n, d) => (args.includes(n) ? args[args.indexOf(n) + 1] : d);
const file = opt('--file', '.bench-data/held-1000000.pcap');
const reps = Number(opt('--reps', 40));
await buildOnce();
const require = createRequire(import.meta.url);
const { readCaptureFile } = require(path.join(TARGET, 'dist/capture/file.js'));
// builds from before the ingest folder keep the engine at dist/engine.js
const { Engine } = require(
  [path.join(TARGET, 'dist/ingest/engine.js'), path.join(TARGET, 'dist/engine.js')].find((p) => existsSync(p)) ?? path.join(TARGET, 'dist/ingest/engine.js'),
);

const engine = new Engine({ maxConnections: 50_000_000 });
// the query index a server keeps (track/queryindex.ts); --no-index answers from the columns alone
const indexed = !args.includes('--no-index');
if (indexed) engine.tracker.enableQueryIndex?.();
const t0 = performance.now();
await readCaptureFile(file, (f) => engine.onFrame(f));
const t = engine.tracker;
const held = t.stats().tracked;
console.log(`${file}: ${held} connections held (query index ${indexed ? 'on' : 'off'}) after ${round((performance.now() - t0) / 1000, 1)} s; load ${loadAverage().join(' ')}`);
const q = (o) => ({ status: 'all', state: null, port: null, host: null, afterId: 0, limit: 100, ...o });
const queries = {
  'first page, open': q({ status: 'open' }),
  'cursor page, all, middle': q({ afterId: held >> 1 }),
  'status=closed': q({ status: 'closed' }),
  'state=CLOSE_WAIT': q({ state: 'CLOSE_WAIT' }),
  'port=443': q({ port: 443 }),
  'port=1 (none)': q({ port: 1 }),
  'host (one client)': q({ host: '10.0.1.2' }),
  'port+host (125 000 of 1 M)': q({ port: 8080, host: '192.168.0.2' }),
  'port+host+state, open': q({ status: 'open', state: 'ESTABLISHED', port: 5432, host: '192.168.0.2' }),
};
console.log('| query | p50 ms | min ms | max ms | total |\n|---|---|---|---|---|');
for (const [name, sel] of Object.entries(queries)) {
  const ms = [];
  let total = 0;
  for (let i = 0; i < reps; i++) {
    const a = performance.now();
    total = t.select(sel).total;
    ms.push(performance.now() - a);
  }
  ms.sort((a, b) => a - b);
  console.log(`| ${name} | ${round(percentile(ms, 50))} | ${round(ms[0])} | ${round(ms.at(-1))} | ${total} |`);
}

// ---- a page of 1 000, to the bytes sent
const jsonPath = path.join(TARGET, 'dist/server/json.js');
const json = existsSync(jsonPath) ? require(jsonPath) : {};
// builds whose list endpoint writes the page from the store's cursor (Tracker.selectRecords), no view built
const pageJsonOf = json.pageJsonOf ?? null;
// the page written from the views: the build's own pageJson where it has one, else its writer fed
// the views through a ViewSource (what pageJson did before the list endpoint read the store)
const viewSourcePath = path.join(TARGET, 'dist/track/view-source.js');
const pageJson =
  json.pageJson ??
  (pageJsonOf && existsSync(viewSourcePath)
    ? (() => {
        const views = new (require(viewSourcePath).ViewSource)();
        return (connections, nextCursor, total) => pageJsonOf({ length: connections.length, at: (i) => views.of(connections[i]) }, nextCursor, total);
      })()
    : null);
const page = q({ limit: 1000 });
const bodies = {
  'select, limit 1000 (the views)': () => t.select(page),
  'select + JSON.stringify to bytes (res.json)': () => {
    const r = t.select(page);
    return Buffer.from(JSON.stringify({ connections: r.connections, nextCursor: 'x', total: r.total }));
  },
  ...(pageJson && { 'select + pageJson (src/server/json.ts)': () => pageJson(t.select(page).connections, 'x', 1) }),
  ...(pageJsonOf && t.selectRecords && { 'selectRecords + pageJsonOf (no views; the list endpoint)': () => pageJsonOf(t.selectRecords(page), 'x', 1) }),
};
// each in turn, one call each per round, so that the load falls on them alike; each garbage
// collection is put down to the call it started in
const names = Object.keys(bodies);
const wall = names.map(() => []);
const cpu = names.map(() => 0);
const windows = names.map(() => []);
const gcs = [];
const observer = new PerformanceObserver((list) => gcs.push(...list.getEntries()));
observer.observe({ entryTypes: ['gc'] });
for (let i = 0; i < reps; i++) {
  names.forEach((name, k) => {
    const c0 = process.cpuUsage();
    const a = performance.now();
    bodies[name]();
    const b = performance.now();
    wall[k].push(b - a);
    windows[k].push([a, b]);
    const c = process.cpuUsage(c0);
    cpu[k] += c.user + c.system;
  });
}
await new Promise((r) => setTimeout(r, 100));
observer.disconnect();
const gcOf = (k) => gcs.filter((g) => windows[k].some(([a, b]) => g.startTime >= a && g.startTime <= b));
console.log('\n| a page of 1 000 | p50 ms | min ms | max ms | CPU ms each | collections (young; other) | in collection, ms |\n|---|---|---|---|---|---|---|');
names.forEach((name, k) => {
  const ms = wall[k].sort((a, b) => a - b);
  const g = gcOf(k);
  const young = g.filter((e) => e.detail?.kind === constants.NODE_PERFORMANCE_GC_MINOR).length;
  const inGc = g.reduce((sum, e) => sum + e.duration, 0);
  console.log(`| ${name} | ${round(percentile(ms, 50))} | ${round(ms[0])} | ${round(ms.at(-1))} | ${round(cpu[k] / 1000 / reps)} | ${young}; ${g.length - young} | ${round(inGc, 1)} |`);
});
console.log(`load after ${loadAverage().join(' ')}`);
