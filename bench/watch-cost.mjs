#!/usr/bin/env node
// What the socket watch (src/sockets/watch.ts) costs tcpscope's process per connection, apart
// from capture, `ss` and the kernel: the engine of a built tcpscope (decode, track, the event bus)
// fed in real time with synthetic eight-packet loopback connections (SYN, SYN+ACK, ACK, request,
// answer, FIN, FIN, ACK) at --rate a second, with the socket watch following the bus as `live`
// has it, or without it (--no-watch). The watch's readings are answered by a stand-in for the scan
// thread (after --scan-ms, as the thread answers; `ss` costs --ss-cpu-ms a run to its budget):
// one listener on the server port owned by this process, no connected sockets (a client socket of
// a connection that lasts a millisecond is gone before any reading), and every TIME_WAIT pair asked
// for found in no state. What is measured, over --seconds after --warmup seconds: CPU of this
// process's main thread and of its other threads (V8's: garbage collection, compilation) from
// /proc/self/task, and the collections by kind (perf_hooks), a second and per connection.
//
//   node bench/watch-cost.mjs [--dist DIR] [--rate 2000] [--seconds 10] [--warmup 3] [--no-watch]
//                             [--scan-ms 20] [--ss-cpu-ms 12] [--json]
//
// Compare builds and with/without the watch in separate processes, alternated; the difference
// with and without is the watch's share.
import { readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { PerformanceObserver, constants } from 'node:perf_hooks';
import { ACK, FIN, PSH, SYN, tcpPacket } from './lib/packets.mjs';

const args = process.argv.slice(2);
const opt = (n, d) => (args.includes(n) ? args[args.indexOf(n) + 1] : d);
const dist = path.resolve(opt('--dist', path.join(import.meta.dirname, '..', 'dist')));
const rate = Number(opt('--rate', 2000));
const seconds = Number(opt('--seconds', 10));
const warmup = Number(opt('--warmup', 3));
const watchOn = !args.includes('--no-watch');
const scanMs = Number(opt('--scan-ms', 20));
const ssCpuMs = Number(opt('--ss-cpu-ms', 12));

const require = createRequire(import.meta.url);
const { Engine } = require(path.join(dist, 'ingest/engine.js'));
const { EventBus } = require(path.join(dist, 'events/bus.js'));
const { SocketWatch } = require(path.join(dist, 'sockets/watch.js'));
// builds with portPair take the pairs read as numbers, earlier ones as `local remote` text
const { portPair } = require(path.join(dist, 'sockets/attribute.js'));
const pairKey = portPair ?? ((local, remote) => `${local} ${remote}`);

// the tracker as `live -p PORT --msl 1 --max-connections 1000000` has it, with a server's query index
const engine = new Engine({ mslMs: 1000, maxConnections: 1_000_000 });
engine.tracker.enableQueryIndex?.();
const bus = new EventBus();
engine.tracker.onEventRecord(bus.publishRecord);

const SERVER = '127.0.0.1';
const PORT = 8080;
const me = { pid: process.pid, command: 'node', cmdline: 'node bench/watch-cost.mjs', user: 'root', uid: 0, netns: null, startTime: 1 };
const listener = { state: 'LISTEN', family: 4, localIp: SERVER, localPort: PORT, remoteIp: '0.0.0.0', remotePort: 0, rxQueue: 0, txQueue: 0, inode: 1, uid: 0, netns: 0, owners: [{ pid: process.pid, fd: 3 }], backlog: 511, info: null };
let scans = 0;
const scanner = {
  mode: 'thread',
  scan(ask) {
    scans++;
    const walk = ask.connected !== false;
    const tw = ask.timeWait ?? [];
    const result = {
      at: Date.now(),
      sockets: [listener],
      processes: [me],
      netstat: [],
      ownNetns: null,
      unreadable: 0,
      fdScan: false,
      badLines: 0,
      costMs: scanMs,
      timeWaitAsked: tw.map((p) => pairKey(p.local, p.remote)),
      tcpInfo: ask.tcpInfo,
      ssRuns: 1 + (walk ? 1 : 0) + (tw.length > 0 ? 1 : 0),
      ssCpuMs: walk || tw.length > 0 ? ssCpuMs : 2,
      ssViaHelper: 1 + (walk ? 1 : 0) + (tw.length > 0 ? 1 : 0),
      ssHelperRestarts: 0,
    };
    // the thread's answer comes through a message, structured-cloned
    return new Promise((resolve) => setTimeout(() => resolve(structuredClone(result)), scanMs));
  },
  async close() {},
};
const watch = watchOn ? new SocketWatch(scanner, engine.tracker, { ports: [PORT], packetClock: () => engine.lastTs }).start(bus) : null;

// one connection's eight frames, its client address and port written in for each
const tpl = [];
{
  const buf = Buffer.alloc(2048);
  const c = { src: '127.0.1.1', dst: SERVER, sport: 40000, dport: PORT };
  const s = { src: SERVER, dst: '127.0.1.1', sport: PORT, dport: 40000 };
  const pk = [
    [c, SYN, 1000, 0, 0, 65495],
    [s, SYN | ACK, 5000, 1001, 0, 65495],
    [c, ACK, 1001, 5001, 0, 0],
    [c, PSH | ACK, 1001, 5001, 100, 0],
    [s, PSH | ACK, 5001, 1101, 200, 0],
    [c, FIN | ACK, 1101, 5201, 0, 0],
    [s, FIN | ACK, 5201, 1102, 0, 0],
    [c, ACK, 1102, 5202, 0, 0],
  ];
  for (const [e, flags, seq, ack, payload, mss] of pk) {
    const n = tcpPacket(buf, 0, { ...e, flags, seq, ack, payload, mss });
    tpl.push({ data: Buffer.from(buf.subarray(0, n)), fromClient: e === c });
  }
}
const frame = { tsSec: 0, tsNsec: 0, linkType: 1, data: null, capLen: 0, origLen: 0 };
let made = 0;
function connection(nowMs) {
  const i = made++;
  // every connection its own client port (TIME_WAIT readings ask by port pair), 127.0.1.1 … on
  const cport = 10000 + (i % 50000);
  const cip = 0x7f000101 + (Math.floor(i / 50000) % 200);
  frame.tsSec = Math.floor(nowMs / 1000);
  frame.tsNsec = Math.round((nowMs % 1000) * 1e6);
  for (const t of tpl) {
    const d = t.data;
    // IPv4 source/destination at 26/30, TCP ports at 34/36 (the checksums are not checked)
    if (t.fromClient) {
      d.writeUInt32BE(cip, 26);
      d.writeUInt16BE(cport, 34);
    } else {
      d.writeUInt32BE(cip, 30);
      d.writeUInt16BE(cport, 36);
    }
    frame.data = d;
    frame.capLen = frame.origLen = d.length;
    engine.onFrame(frame);
  }
}

// CPU of each thread of this process (ms), by whether it is the main one
function threadsMs() {
  let main = 0;
  let other = 0;
  for (const t of readdirSync('/proc/self/task')) {
    try {
      const s = readFileSync(`/proc/self/task/${t}/stat`, 'utf8');
      const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
      const ms = (Number(f[11]) + Number(f[12])) * 10;
      if (Number(t) === process.pid) main += ms;
      else other += ms;
    } catch {
      // ended meanwhile
    }
  }
  return { main, other };
}

const gc = { minor: 0, major: 0, incremental: 0, weak: 0, ms: 0 };
const kinds = { [constants.NODE_PERFORMANCE_GC_MINOR]: 'minor', [constants.NODE_PERFORMANCE_GC_MAJOR]: 'major', [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental', [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weak' };
let measuring = false;
new PerformanceObserver((list) => {
  if (!measuring) return;
  for (const e of list.getEntries()) {
    gc[kinds[e.detail?.kind ?? e.kind] ?? 'minor']++;
    gc.ms += e.duration;
  }
}).observe({ entryTypes: ['gc'] });

const start = performance.now();
let done = 0;
let t0 = null;
let c0 = 0;
const tick = setInterval(() => {
  const now = performance.now();
  const due = Math.floor(((now - start) / 1000) * rate);
  const wall = Date.now();
  while (done < due) {
    connection(wall);
    done++;
  }
  if (t0 === null && now - start >= warmup * 1000) {
    t0 = { at: now, cpu: threadsMs(), conns: done, scans };
    measuring = true;
  }
}, 5);
const expire = setInterval(() => engine.tracker.expire(Date.now() - 100), 100);

setTimeout(
  async () => {
    const t1 = { at: performance.now(), cpu: threadsMs(), conns: done, scans };
    clearInterval(tick);
    clearInterval(expire);
    measuring = false;
    const secs = (t1.at - t0.at) / 1000;
    const conns = t1.conns - t0.conns;
    const main = t1.cpu.main - t0.cpu.main;
    const other = t1.cpu.other - t0.cpu.other;
    const r = {
      dist,
      watch: watchOn,
      rate,
      seconds: Math.round(secs * 100) / 100,
      connectionsPerS: Math.round(conns / secs),
      mainMsPerS: Math.round((main / secs) * 10) / 10,
      otherThreadsMsPerS: Math.round((other / secs) * 10) / 10,
      mainUsPerConnection: Math.round(((main * 1000) / conns) * 100) / 100,
      otherUsPerConnection: Math.round(((other * 1000) / conns) * 100) / 100,
      allUsPerConnection: Math.round((((main + other) * 1000) / conns) * 100) / 100,
      gc: { ...gc, ms: Math.round(gc.ms) },
      readings: t1.scans - t0.scans,
      heapUsedMiB: Math.round(process.memoryUsage().heapUsed / 1048576),
      watchedSlots: watch ? { hi: watch.t?.hi, size: watch.t?.size ?? watch.watched?.size, notes: engine.tracker.c?.notes?.size } : null,
      sockets: watch ? (({ owners, crossCheck, settledWithoutReading }) => ({ owners: { endpoints: owners.endpoints, owned: owners.owned, viaListener: owners.viaListener, gone: owners.byReason.gone }, settledWithoutReading, crossCheck: { compared: crossCheck.compared, disagreements: crossCheck.disagreements, notCompared: crossCheck.notCompared } }))(watch.stats()) : null,
    };
    await watch?.close();
    console.log(JSON.stringify(r, null, args.includes('--json') ? 0 : 1));
    process.exit(0);
  },
  (warmup + seconds) * 1000,
);
