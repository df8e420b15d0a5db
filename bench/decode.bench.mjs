#!/usr/bin/env node
// Decoder alone, no I/O: the frames of a real loopback capture are loaded into memory first, then
// decoded in a loop into one reused Segment. Reports the time per frame and the garbage
// collections that happened during the loop (none means the hot path allocates nothing).
//
//   node --expose-gc bench/decode.bench.mjs [--file .bench-data/loopback.pcap] [--frames 200000] [--rounds 20] [--dist dist]
//
// Reads classic pcap itself (a few lines) so the figure is the decoder's, not a reader's.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { PerformanceObserver } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const require = createRequire(import.meta.url);
const args = process.argv.slice(2);
const opt = (n, d) => (args.includes(n) ? args[args.indexOf(n) + 1] : d);
const file = path.resolve(root, opt('--file', '.bench-data/loopback.pcap'));
const maxFrames = Number(opt('--frames', 200_000));
const rounds = Number(opt('--rounds', 20));
const dist = path.resolve(root, opt('--dist', 'dist'));

const { decodeFrame, DecodeCounters } = require(path.join(dist, 'decode/decode.js'));
const { Segment } = require(path.join(dist, 'decode/segment.js'));

function loadPcap(p, limit) {
  const buf = readFileSync(p);
  const magic = buf.readUInt32LE(0);
  const le = magic === 0xa1b2c3d4 || magic === 0xa1b23c4d;
  if (!le && magic !== 0xd4c3b2a1 && magic !== 0x4d3cb2a1) throw new Error(`${p}: not a classic pcap file`);
  const u32 = (o) => (le ? buf.readUInt32LE(o) : buf.readUInt32BE(o));
  const linkType = u32(20) & 0xffff;
  const frames = [];
  for (let o = 24; o + 16 <= buf.length && frames.length < limit; ) {
    const cap = u32(o + 8);
    const orig = u32(o + 12);
    if (o + 16 + cap > buf.length) break;
    frames.push({ data: Buffer.from(buf.subarray(o + 16, o + 16 + cap)), origLen: orig });
    o += 16 + cap;
  }
  return { linkType, frames };
}

const { linkType, frames } = loadPcap(file, maxFrames);
const seg = new Segment();
const counters = new DecodeCounters();
for (const f of frames) counters.count(decodeFrame(linkType, f.data, f.origLen, seg));

// Warm up so the timed loop runs optimised code.
for (let r = 0; r < 3; r++) for (const f of frames) decodeFrame(linkType, f.data, f.origLen, seg);
globalThis.gc?.();

let gcs = 0;
const obs = new PerformanceObserver((list) => (gcs += list.getEntries().length));
obs.observe({ entryTypes: ['gc'] });
const heap0 = process.memoryUsage().heapUsed;
const t0 = process.hrtime.bigint();
let ok = 0;
for (let r = 0; r < rounds; r++) {
  for (let i = 0; i < frames.length; i++) {
    const f = frames[i];
    if (decodeFrame(linkType, f.data, f.origLen, seg) === 'ok') ok++;
  }
}
const ns = Number(process.hrtime.bigint() - t0);
const heap1 = process.memoryUsage().heapUsed;
await new Promise((r) => setImmediate(r)); // let the observer deliver
obs.disconnect();

const decoded = frames.length * rounds;
console.log(`file: ${path.relative(root, file)} (link type ${linkType}), ${frames.length.toLocaleString()} frames × ${rounds} rounds`);
console.log(`outcomes: ${JSON.stringify(Object.fromEntries(Object.entries(counters.byCode()).filter(([, n]) => n > 0)))}`);
console.log(`decode: ${(ns / decoded).toFixed(1)} ns/frame, ${((decoded / ns) * 1e3).toFixed(2)} M frames/s (${ok.toLocaleString()} ok)`);
console.log(`during the loop: ${gcs} garbage collections, heap ${((heap1 - heap0) / 1024).toFixed(0)} KiB larger`);
