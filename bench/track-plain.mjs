#!/usr/bin/env node
// The tracker's cost for the commonest segment, engine only: data and its ACK on established
// connections (64 of them in turn, sequence numbers above 2^31), one reused Segment, steady state
// (no connection is made, nothing grows). Prints CPU ns per segment for each of 5 rounds of 2 M
// segments; the first rounds include V8's warm-up.
//
//   node bench/track-plain.mjs                          # dist/
//   TCPSCOPE_DIST=path/to/dist node bench/track-plain.mjs   # another build
//   node bench/track-plain.mjs --one-path               # the plain path switched off (where a build has one)
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const distDir = process.env.TCPSCOPE_DIST ? path.resolve(process.env.TCPSCOPE_DIST) : path.join(root, 'dist');
const { Tracker } = require(path.join(distDir, 'track/tracker.js'));
const { Segment } = require(path.join(distDir, 'decode/segment.js'));

const N = 64;
const t = new Tracker();
if (process.argv.includes('--one-path')) {
  if (typeof t.machine?.usePlainPath !== 'function') throw new Error('this build has no plain path to switch off');
  t.machine.usePlainPath(false);
}
const seg = new Segment();
seg.buf = Buffer.from([10, 0, 0, 1, 10, 0, 0, 2]);
seg.family = 4;
seg.window = 1000;
const cSeq = new Float64Array(N);
const sSeq = new Float64Array(N);
const TS = 1_700_000_000_123.5;

function send(i, fromServer, flags, seq, ack, len) {
  seg.srcOff = fromServer ? 4 : 0;
  seg.dstOff = fromServer ? 0 : 4;
  seg.srcPort = fromServer ? 443 : 40000 + i;
  seg.dstPort = fromServer ? 40000 + i : 443;
  seg.flags = flags;
  seg.seq = seq;
  seg.ack = ack;
  seg.payloadLen = len;
  seg.capturedPayloadLen = len;
  t.process(seg, TS);
}

for (let i = 0; i < N; i++) {
  cSeq[i] = 0xf0000000 + i * 1000;
  sSeq[i] = 0x90000000 + i;
  send(i, false, 0x02, cSeq[i], 0, 0);
  send(i, true, 0x12, sSeq[i], cSeq[i] + 1, 0);
  cSeq[i]++;
  sSeq[i]++;
  send(i, false, 0x10, cSeq[i], sSeq[i], 0);
}

const rounds = [];
for (let r = 0; r < 5; r++) {
  const n = 1_000_000;
  const c0 = process.cpuUsage();
  for (let k = 0; k < n; k++) {
    const i = k % N;
    send(i, false, 0x18, cSeq[i], sSeq[i], 100);
    cSeq[i] = (cSeq[i] + 100) % 4294967296;
    send(i, true, 0x10, sSeq[i], cSeq[i], 0);
  }
  const c = process.cpuUsage(c0);
  rounds.push(Math.round(((c.user + c.system) * 1000) / (2 * n)));
}
const s = t.stats();
if (s.tracked !== N || s.byConnState.S1 !== N) throw new Error('the connections did not stay established');
console.log(JSON.stringify({ connections: N, nsPerSegment: rounds, min: Math.min(...rounds) }));
