#!/usr/bin/env node
// The tracker alone, per segment: every segment of a capture is read and decoded first, its header
// fields kept in typed arrays and its two addresses in one shared buffer; then each pass replays
// them into one reused Segment (as the decoder fills it) and through Tracker.process, with a new
// tracker per pass. Nothing is held per segment as a JavaScript object, so the collector has no
// big heap to mark and the figures are the tracker's own (a copy per segment, each with its own
// Buffer, made every collection mark 1 M objects and every key() read a cold buffer).
//
// Prints JSON: nsPerSegment (CPU ns per segment, refilling the Segment + Tracker.process, one per
// pass), refillNs (the same loop without the tracker: what the replay itself costs), and min/net
// (the best pass, and the best pass less refillNs: the tracker's own cost). CPU time of the whole
// process, so the compiler's and the collector's threads are in it. The first pass also pays for
// compiling the tracker (V8 runs it unoptimized until then); --chunks N adds firstPassChunks, that
// pass's ns per segment over each N segments, which shows how long that takes.
//
//   node bench/track-segments.mjs [FILE] [--passes 5] [--chunks 1000]   # FILE: .bench-data/loopback.pcapng
//   TCPSCOPE_DIST=path/to/dist node bench/track-segments.mjs   # another build (default: dist/)
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const distDir = process.env.TCPSCOPE_DIST ? path.resolve(process.env.TCPSCOPE_DIST) : path.join(root, 'dist');
const dist = (m) => require(path.join(distDir, m));
const args = process.argv.slice(2);
const file = args.find((a) => !a.startsWith('--') && !/^\d+$/.test(a)) ?? path.join(root, '.bench-data/loopback.pcapng');
const passes = args.includes('--passes') ? Number(args[args.indexOf('--passes') + 1]) : 5;
const chunk = args.includes('--chunks') ? Number(args[args.indexOf('--chunks') + 1]) : 0;

const { readCaptureFile } = dist('capture/file.js');
const { frameTimeMs } = dist('capture/frame.js');
const { decodeFrame } = dist('decode/decode.js');
const { Segment } = dist('decode/segment.js');
const { Tracker } = dist('track/tracker.js');

// What the tracker reads of a segment, one array per field.
let cap = 1 << 16;
let n = 0;
const F = {
  times: Float64Array, seq: Uint32Array, ack: Uint32Array, srcPort: Uint16Array, dstPort: Uint16Array,
  flags: Uint16Array, window: Uint16Array, payloadLen: Int32Array, capturedPayloadLen: Int32Array,
  mss: Int32Array, wscale: Int8Array, opts: Uint8Array, family: Uint8Array,
};
const cols = Object.fromEntries(Object.entries(F).map(([k, C]) => [k, new C(cap)]));
let addrs = Buffer.alloc(cap * 32); // source address at i * 32, destination at i * 32 + 16
const grow = () => {
  cap *= 2;
  for (const [k, C] of Object.entries(F)) {
    const a = new C(cap);
    a.set(cols[k]);
    cols[k] = a;
  }
  const b = Buffer.alloc(cap * 32);
  addrs.copy(b);
  addrs = b;
};

const seg = new Segment();
const res = await readCaptureFile(file, (f) => {
  if (decodeFrame(f.linkType, f.data, f.origLen, seg) !== 'ok') return;
  if (n === cap) grow();
  const w = seg.family === 4 ? 4 : 16;
  seg.buf.copy(addrs, n * 32, seg.srcOff, seg.srcOff + w);
  seg.buf.copy(addrs, n * 32 + 16, seg.dstOff, seg.dstOff + w);
  cols.times[n] = frameTimeMs(f);
  cols.seq[n] = seg.seq;
  cols.ack[n] = seg.ack;
  cols.srcPort[n] = seg.srcPort;
  cols.dstPort[n] = seg.dstPort;
  cols.flags[n] = seg.flags;
  cols.window[n] = seg.window;
  cols.payloadLen[n] = seg.payloadLen;
  cols.capturedPayloadLen[n] = seg.capturedPayloadLen;
  cols.mss[n] = seg.mss;
  cols.wscale[n] = seg.wscale;
  cols.opts[n] = (seg.sackPermitted ? 1 : 0) | (seg.hasTimestamps ? 2 : 0);
  cols.family[n] = seg.family;
  n++;
});
if (res.error) throw new Error(res.error.message);

const { times, seq, ack, srcPort, dstPort, flags, window, payloadLen, capturedPayloadLen, mss, wscale, opts, family } = cols;
const one = new Segment();
one.buf = addrs;
/** Fills `one` with segment i, as the decoder would. */
function fill(i) {
  one.family = family[i];
  one.srcOff = i * 32;
  one.dstOff = i * 32 + 16;
  one.srcPort = srcPort[i];
  one.dstPort = dstPort[i];
  one.seq = seq[i];
  one.ack = ack[i];
  one.flags = flags[i];
  one.window = window[i];
  one.payloadLen = payloadLen[i];
  one.capturedPayloadLen = capturedPayloadLen[i];
  one.mss = mss[i];
  one.wscale = wscale[i];
  one.sackPermitted = (opts[i] & 1) !== 0;
  one.hasTimestamps = (opts[i] & 2) !== 0;
}

const cpuNs = (c0) => {
  const c = process.cpuUsage(c0);
  return (c.user + c.system) * 1000;
};

let sink = 0;
let refill = Infinity;
for (let p = 0; p < 3; p++) {
  const c0 = process.cpuUsage();
  for (let i = 0; i < n; i++) {
    fill(i);
    sink += one.seq & 1;
  }
  refill = Math.min(refill, Math.round(cpuNs(c0) / n));
}

const nsPerSegment = [];
const firstPassChunks = [];
for (let p = 0; p < passes; p++) {
  const t = new Tracker({ maxConnections: 1_000_000 });
  const c0 = process.cpuUsage();
  const step = p === 0 && chunk > 0 ? chunk : n;
  for (let k = 0; k < n; k += step) {
    const ck = process.cpuUsage();
    const end = Math.min(n, k + step);
    for (let i = k; i < end; i++) {
      fill(i);
      t.process(one, times[i]);
    }
    if (step < n) firstPassChunks.push(Math.round(cpuNs(ck) / (end - k)));
  }
  nsPerSegment.push(Math.round(cpuNs(c0) / n));
}
const min = Math.min(...nsPerSegment);
console.log(JSON.stringify({
  file: path.relative(root, file), segments: n, passes, nsPerSegment, refillNs: refill, min, net: min - refill, sink: sink > 0,
  ...(chunk > 0 ? { chunk, firstPassChunks } : {}),
}));
