#!/usr/bin/env node
// MEMORY of the list page's notes: the heap a tracker holds after its connections, with notes on
// both endpoints as the live socket watch gives them, have been listed as the dashboard lists
// them (pages of 1 000 through the list endpoint's writer, no HTTP), against the same table before
// any listing. The notes: the server side a listener's owner, one object for all its connections;
// the client side an owner of its own per connection (a connected socket's); then a kernel reading
// merged over each side (a new object per connection and side, as Queries.annotate merges it).
// What a writer keeps per connection after the listing shows as the difference. Heap after a full
// collection (node --expose-gc), in this process.
//
//   node --expose-gc bench/list-notes-heap.mjs [--file .bench-data/held-100000.pcap] [--list 50000] [--kernel 1]
// with TCPSCOPE_ROOT=.bench-data/rev-2860a91 (or another build) for the same on an older build.
import path from 'node:path';
import { TARGET } from './lib/build.mjs';
import { holdCapture } from './lib/held-engine.mjs';
import { round } from './lib/proc.mjs';

const args = process.argv.slice(2);
const opt = (n, d) => (args.includes(n) ? args[args.indexOf(n) + 1] : d);
const file = opt('--file', '.bench-data/held-100000.pcap');
const listN = Number(opt('--list', 50_000));
const kernel = opt('--kernel', '1') !== '0';
if (typeof globalThis.gc !== 'function') throw new Error('run with node --expose-gc');
const { engine, load } = await holdCapture(file);
const json = load('server/json.js');
const t = engine.tracker;
const ids = t.list().map((c) => c.id);

const listener = { process: { pid: 4100, command: 'node', cmdline: 'node bench/lib/traffic-server.mjs --port 8080 --lanes 100', user: 'root', netns: null, fd: 21, via: 'listener' } };
const clientProcess = { pid: 4200, command: 'node', cmdline: 'node bench/lib/traffic-client.mjs --port 8080 --concurrency 100 --duration 10000', user: 'root', netns: null, fd: 0, via: 'socket' };
const reading = (i) => ({ state: 'TIME_WAIT', agrees: true, at: 1.7e12 + i, rxQueue: 0, txQueue: 0, srttMs: 0.031 + i * 1e-6, retransTotal: 0, cwnd: 10 });
for (let i = 0; i < ids.length; i++) {
  t.annotate(ids[i], 'server', listener);
  t.annotate(ids[i], 'client', { process: { ...clientProcess, fd: 20 + (i % 1000) } });
  if (kernel) {
    t.annotate(ids[i], 'server', { kernel: reading(i) });
    t.annotate(ids[i], 'client', { kernel: reading(i + 1) });
  }
}

// a page as the build's list endpoint writes it: from the store where it can, else from the views
// (pageJson), else as res.json did
const writePage = t.selectRecords && json.pageJsonOf
  ? (q) => {
      const r = t.selectRecords(q);
      return [json.pageJsonOf(r, 'x', r.total), r.lastId, r.length];
    }
  : (q) => {
      const r = t.select(q);
      const last = r.connections.at(-1);
      const body = json.pageJson ? json.pageJson(r.connections, 'x', r.total) : Buffer.from(JSON.stringify(r));
      return [body, last ? Number(last.id) : -1, r.connections.length];
    };

const heapMB = () => {
  gc();
  gc();
  return process.memoryUsage().heapUsed / 1e6;
};
const listAll = () => {
  let after = 0;
  let listed = 0;
  let bytes = 0;
  const t0 = performance.now();
  while (listed < listN) {
    const [body, last, rows] = writePage({ status: 'all', state: null, port: null, host: null, afterId: after, limit: Math.min(1000, listN - listed) });
    if (last < 0) break;
    bytes += body.length;
    // the rows the page holds, not the rows asked for (a shorter last page)
    listed += rows;
    after = last;
  }
  return { listed, bytes, ms: performance.now() - t0 };
};

const before = heapMB();
const first = listAll();
const after1 = heapMB();
const second = listAll();
const after2 = heapMB();
console.log(
  JSON.stringify({
    build: path.relative(process.cwd(), TARGET) || '.',
    file,
    connections: ids.length,
    listed: first.listed,
    kernelReadings: kernel,
    pageBytesPerConnection: round(first.bytes / first.listed, 0),
    heapMB: { beforeListing: round(before, 1), afterListing: round(after1, 1), afterListingAgain: round(after2, 1) },
    retainedBytesPerConnectionListed: round(((after2 - before) * 1e6) / first.listed, 0),
    listMs: { first: round(first.ms, 0), again: round(second.ms, 0) },
  }),
);
