#!/usr/bin/env node
// How many packets the live capture ring holds, and how many a burst loses, by kernel buffer size.
//
//   node bench/ring.mjs [--sizes 2,8,32,128] [--connections 1000] [--stall-ms 3000] [--snaplen 512,65535]
//
// For each buffer size (MiB): a traffic process makes short loopback connections while this
// process's JavaScript thread is held still (Atomics.wait) for --stall-ms, as a long garbage
// collection or a slow request would. Only the kernel ring can hold packets meanwhile, so the
// packets delivered afterwards count its slots. tcpdump (256 MiB buffer, snap length 128) on the
// same port counts what was on the wire; libpcap's own count of what the kernel dropped is kept too
// (`dropped`, when the build reports it). Each size is tried at each --snaplen (default: openLive's).
// Needs root and dist/ (built when stale).
import { fork } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { buildOnce, ROOT, TARGET } from './lib/build.mjs';
import { loadAverage, sleep } from './lib/proc.mjs';
import { startTcpdump } from './lib/tcpdump.mjs';

const args = process.argv.slice(2);
const opt = (n, d) => (args.includes(n) ? args[args.indexOf(n) + 1] : d);
const sizes = opt('--sizes', '2,8,32,128').split(',').map(Number);
const connections = Number(opt('--connections', 1000));
const stallMs = Number(opt('--stall-ms', 3000));
const snaps = opt('--snaplen', null)?.split(',').map(Number) ?? [undefined];

await buildOnce();
const require = createRequire(import.meta.url);
const { openLive } = require(path.join(TARGET, 'dist/capture/live.js'));

const child = fork(path.join(ROOT, 'bench/lib/traffic-child.mjs'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
const port = await new Promise((r) => child.once('message', (m) => r(m.ready)));
const done = () => new Promise((r) => child.once('message', (m) => r(m.result)));

const rows = [];
for (const mib of sizes) for (const snapLength of snaps) {
  const ref = await startTcpdump(`tcp port ${port}`);
  let frames = 0;
  const r = openLive({ ports: [port], bufferSize: mib * 1024 * 1024, snapLength, filter: opt('--filter', undefined) }, () => frames++);
  if (!r.ok) throw new Error(r.error.message);
  const finished = done();
  child.send({ cmd: 'short', count: connections, concurrency: 20 });
  await sleep(5); // let the message leave before the thread stops
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, stallMs);
  const traffic = await finished;
  await sleep(500);
  const dropped = r.capture.stats().dropped;
  r.capture.stop();
  const wire = await ref.stop();
  rows.push({ bufferMiB: mib, snapLength: snapLength ?? 'default', connections: traffic.completed, trafficMs: Math.round(traffic.ms), onWire: wire.captured, tcpdumpDropped: wire.dropped, delivered: frames, lost: wire.captured - frames, dropped });
  console.error(JSON.stringify(rows.at(-1)));
}
child.send({ cmd: 'exit' });
console.log(JSON.stringify({ stallMs, loadAverage: loadAverage(), rows }, null, 1));
