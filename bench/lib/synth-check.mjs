#!/usr/bin/env node
// Reads a Zeek conn.log of bench/lib/synth-pcap.mjs's capture on stdin and checks that every one
// of its N connections was written exactly once, complete (SF). Prints one JSON line.
import readline from 'node:readline';

const args = process.argv.slice(2);
const N = Number(args[args.indexOf('--connections') + 1]);
const seen = new Uint8Array(N);
let rows = 0;
let sf = 0;
let bad = 0;
for await (const line of readline.createInterface({ input: process.stdin, crlfDelay: Infinity })) {
  if (line === '' || line[0] === '#') continue;
  rows++;
  const f = line.split('\t');
  const [, b1, b0, h] = f[2].split('.').map(Number);
  const i = (b1 * 256 + b0) * 50_000 + (Number(f[3]) - 10_000);
  if (i >= 0 && i < N && (i >> 8 & 127) + 1 === h && seen[i] < 255) seen[i]++;
  else bad++;
  if (f[11] === 'SF') sf++;
}
let once = 0;
let missing = 0;
let twice = 0;
for (let i = 0; i < N; i++) {
  if (seen[i] === 1) once++;
  else if (seen[i] === 0) missing++;
  else twice++;
}
console.log(JSON.stringify({ connections: N, rows, once, missing, moreThanOnce: twice, unknown: bad, sf }));
process.exitCode = once === N && rows === N && sf === N ? 0 : 1;
