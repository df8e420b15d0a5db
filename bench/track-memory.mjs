#!/usr/bin/env node
// Memory per tracked connection: feeds N short synthetic connections (8 segments each: handshake,
// one request, its ACK, FIN+ACK, FIN+ACK, ACK) into one Tracker and reports what stays allocated.
//
//   npm run build && node --expose-gc bench/track-memory.mjs [--connections 1000000]
//
// The tracker keeps its state in typed arrays, whose contents V8 counts as `arrayBuffers`, not as
// `heapUsed`; both are reported, and their sum is the number that matters.
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const dist = process.env.TCPSCOPE_DIST ?? path.resolve(here, '..', 'dist');
const require = createRequire(import.meta.url);
const { Tracker } = require(path.join(dist, 'track/tracker.js'));
const { Segment } = require(path.join(dist, 'decode/segment.js'));

const args = process.argv.slice(2);
const N = Number(args.includes('--connections') ? args[args.indexOf('--connections') + 1] : 1_000_000);
if (typeof globalThis.gc !== 'function') {
  console.error('run with node --expose-gc');
  process.exit(2);
}

const settle = () => {
  for (let i = 0; i < 3; i++) globalThis.gc();
  return process.memoryUsage();
};

const before = settle();
const tracker = new Tracker({ maxConnections: N });
const seg = new Segment();
const buf = Buffer.alloc(8);
seg.buf = buf;
seg.family = 4;
seg.window = 65535;
let clientPort = 0;
let ts = 1_700_000_000_000;

function send(fromServer, flags, seq, ack, len) {
  seg.srcOff = fromServer ? 4 : 0;
  seg.dstOff = fromServer ? 0 : 4;
  seg.srcPort = fromServer ? 80 : clientPort;
  seg.dstPort = fromServer ? clientPort : 80;
  seg.flags = flags;
  seg.seq = seq >>> 0;
  seg.ack = ack >>> 0;
  seg.payloadLen = len;
  seg.capturedPayloadLen = len;
  tracker.process(seg, ts);
  ts += 0.01;
}

const cpu0 = process.cpuUsage();
for (let i = 0; i < N; i++) {
  // a distinct 4-tuple per connection: client 10.a.b.c, ports 1024..65023
  const host = Math.floor(i / 64000);
  buf.writeUInt32BE((0x0a000000 + host) >>> 0, 0);
  buf.writeUInt32BE(0xc0a80001, 4);
  clientPort = 1024 + (i % 64000);
  const x = Math.imul(i, 2654435761) >>> 0;
  const y = Math.imul(i, 40503) >>> 0;
  send(false, 0x02, x, 0, 0); // S
  send(true, 0x12, y, x + 1, 0); // SA
  send(false, 0x10, x + 1, y + 1, 0); // A
  send(false, 0x18, x + 1, y + 1, 100); // PA
  send(true, 0x10, y + 1, x + 101, 0); // A
  send(false, 0x11, x + 101, y + 1, 0); // FA
  send(true, 0x11, y + 1, x + 102, 0); // FA
  send(false, 0x10, x + 102, y + 2, 0); // A
}
const cpu = process.cpuUsage(cpu0);
const after = settle();

const stats = tracker.stats();
if (stats.tracked !== N || stats.byConnState.SF !== N) {
  console.error('unexpected tracker state', { tracked: stats.tracked, SF: stats.byConnState.SF });
  process.exit(1);
}
const per = (v) => (v / N).toFixed(1);
const heap = after.heapUsed - before.heapUsed;
const buffers = after.arrayBuffers - before.arrayBuffers;
const cpuMs = (cpu.user + cpu.system) / 1000;
console.log(`connections           ${N} (8 segments each, all retained in TIME_WAIT)`);
console.log(`heapUsed / conn       ${per(heap)} B`);
console.log(`arrayBuffers / conn   ${per(buffers)} B`);
console.log(`total / conn          ${per(heap + buffers)} B`);
console.log(`typed arrays / conn   ${per(tracker.memoryBytes())} B (capacity, as allocated)`);
console.log(`rss                   ${(after.rss / 2 ** 20).toFixed(0)} MiB`);
console.log(`cpu                   ${cpuMs.toFixed(0)} ms, ${((cpuMs * 1000) / (N * 8)).toFixed(3)} µs/segment`);
