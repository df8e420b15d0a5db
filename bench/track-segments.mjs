#!/usr/bin/env node
// The tracker alone: every segment of a capture is read and decoded first (into copies held in
// memory), then the copies are timed through Tracker.process, so the figure is ns per segment of
// tracking only, without reading or decoding. Several passes, each with a new tracker; prints JSON.
//
//   node bench/track-segments.mjs [FILE] [--passes 5]     # FILE: .bench-data/loopback.pcapng
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

const { readCaptureFile } = dist('capture/file.js');
const { frameTimeMs } = dist('capture/frame.js');
const { decodeFrame } = dist('decode/decode.js');
const { Segment } = dist('decode/segment.js');
const { Tracker } = dist('track/tracker.js');

const segs = [];
const times = [];
const seg = new Segment();
const res = await readCaptureFile(file, (f) => {
  if (decodeFrame(f.linkType, f.data, f.origLen, seg) !== 'ok') return;
  const c = Object.assign(new Segment(), seg);
  c.buf = Buffer.from(seg.buf); // the reader reuses its buffers
  segs.push(c);
  times.push(frameTimeMs(f));
});
if (res.error) throw new Error(res.error.message);

const nsPerSegment = [];
for (let p = 0; p < passes; p++) {
  const t = new Tracker({ maxConnections: 1_000_000 });
  const c0 = process.cpuUsage();
  for (let i = 0; i < segs.length; i++) t.process(segs[i], times[i]);
  const c = process.cpuUsage(c0);
  nsPerSegment.push(Math.round(((c.user + c.system) * 1000) / segs.length));
}
console.log(JSON.stringify({ file: path.relative(root, file), segments: segs.length, passes, nsPerSegment, min: Math.min(...nsPerSegment) }));
