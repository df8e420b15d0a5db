#!/usr/bin/env node
// Side-by-side benchmark of tcpscope's stages and its peers on one real loopback capture.
//
//   npm run bench                      # all cases, 3 runs each, median reported
//   node bench/run.mjs --runs 1 --only track-pcap,node-pcap
//   node bench/run.mjs --case track-pcapng .bench-data/loopback.pcapng   # one run, JSON
//
// Seconds are wall time from loading tcpscope's modules to the end of the file; CPU seconds (user +
// system, V8's compiler and GC threads included) vary less when other work shares the cores.
// The track- cases register no event listener, as the bare engine has none; sink-pcapng adds one,
// as every CLI mode does, so event objects are built.
// Each case runs in its own process (so peak RSS is its own) over .bench-data/loopback.pcap(.pcapng),
// made by bench/make-capture.mjs when missing. tcpscope is measured from dist/ (npm run build), or
// from the build named by TCPSCOPE_DIST (to compare two builds side by side).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const require = createRequire(import.meta.url);
const args = process.argv.slice(2);
const opt = (n, d) => (args.includes(n) ? args[args.indexOf(n) + 1] : d);
const base = path.join(root, '.bench-data/loopback');
const PCAP = `${base}.pcap`;
const PCAPNG = `${base}.pcapng`;

// ---------------------------------------------------------------- one case, in a child process
async function runCase(name, file) {
  const distDir = process.env.TCPSCOPE_DIST ? path.resolve(process.env.TCPSCOPE_DIST) : path.join(root, 'dist');
  const dist = (m) => require(path.join(distDir, m));
  const t0 = process.hrtime.bigint();
  const cpu0 = process.cpuUsage();
  let packets = 0;
  let segments = 0;
  let connections = null;
  let events = null;
  if (name === 'pcap-parser') {
    const parser = require('pcap-parser').parse(file);
    parser.on('packet', () => packets++);
    await new Promise((r) => parser.on('end', r));
  } else if (name.startsWith('read-')) {
    const { readCaptureFile } = dist('capture/file.js');
    const res = await readCaptureFile(file, () => {
      packets++;
    });
    if (res.error) throw new Error(res.error.message);
  } else if (name.startsWith('decode-')) {
    const { readCaptureFile } = dist('capture/file.js');
    const { decodeFrame } = dist('decode/decode.js');
    const { Segment } = dist('decode/segment.js');
    const seg = new Segment();
    const res = await readCaptureFile(file, (f) => {
      packets++;
      if (decodeFrame(f.linkType, f.data, f.origLen, seg) === 'ok') segments++;
    });
    if (res.error) throw new Error(res.error.message);
  } else if (name.startsWith('track-') || name.startsWith('sink-')) {
    const { readCaptureFile } = dist('capture/file.js');
    const { Engine } = dist('engine.js');
    const engine = new Engine({ maxConnections: 1_000_000 });
    // The CLI always listens to events (it fans them out); the bare engine builds none.
    if (name.startsWith('sink-')) {
      events = 0;
      engine.tracker.onEvent(() => {
        events++;
      });
    }
    // -thread: the file is read, parsed and decoded in a second thread, as `analyze` and
    // `replay --speed max` do with big files; tracking stays on this one.
    const res = name.endsWith('-thread')
      ? await dist('reader-thread.js').readDecodedThreaded(file, engine.onDecoded)
      : await readCaptureFile(file, engine.onFrame);
    if (res.error) throw new Error(res.error.message);
    engine.tracker.expire(engine.lastTs);
    packets = engine.frames;
    segments = engine.decode.ok;
    connections = engine.tracker.stats().connectionsTotal;
  } else if (name === 'node-pcap') {
    const pcap = require(path.join(here, 'node_modules/pcap'));
    const tracker = new pcap.TCPTracker();
    tracker.on('session', () => connections++);
    connections = 0;
    const session = pcap.createOfflineSession(file, { filter: '' });
    session.on('packet', (raw) => {
      packets++;
      tracker.track_packet(pcap.decode.packet(raw));
    });
    await new Promise((r) => session.on('complete', r));
  } else throw new Error(`unknown case ${name}`);
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  // CPU time is steadier than wall time on a shared machine; it includes V8's helper threads.
  const cpu = process.cpuUsage(cpu0);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  return { packets, segments, connections, events, seconds: s, cpuSeconds, maxRssMiB: process.resourceUsage().maxRSS / 1024 };
}

if (args[0] === '--case') {
  const r = await runCase(args[1], args[2]);
  process.stdout.write(JSON.stringify(r) + '\n');
  process.exit(0);
}

// ---------------------------------------------------------------- driver
if (!existsSync(PCAP) || !existsSync(PCAPNG)) {
  console.error('bench: making the capture (real loopback traffic, needs root) …');
  execFileSync(process.execPath, [path.join(here, 'make-capture.mjs'), '--out', base], { stdio: 'inherit' });
}
if (!existsSync(path.join(here, 'node_modules/pcap'))) {
  console.error('bench: installing the peers (node_pcap) …');
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: here, stdio: 'inherit' });
}

const runs = Number(opt('--runs', 3));
const only = opt('--only', null)?.split(',');
const cases = [
  ['pcap-parser', PCAP, 'pcap-parser alone (raw ceiling), classic pcap'],
  ['read-pcap', PCAP, 'tcpscope read, classic pcap'],
  ['decode-pcap', PCAP, 'tcpscope read + decode, classic pcap'],
  ['track-pcap', PCAP, 'tcpscope read + decode + track, classic pcap, one thread'],
  ['track-pcap-thread', PCAP, 'tcpscope read + decode + track, classic pcap, reader thread (as analyze)'],
  ['read-pcapng', PCAPNG, 'tcpscope read, pcapng'],
  ['decode-pcapng', PCAPNG, 'tcpscope read + decode, pcapng'],
  ['track-pcapng', PCAPNG, 'tcpscope read + decode + track, pcapng, one thread'],
  ['track-pcapng-thread', PCAPNG, 'tcpscope read + decode + track, pcapng, reader thread (as analyze)'],
  ['sink-pcapng', PCAPNG, 'tcpscope read + decode + track + an event listener, pcapng'],
  ['node-pcap', PCAP, 'node_pcap offline session + decode + TCPTracker'],
].filter(([n]) => !only || only.includes(n));

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const results = {};
for (const [name, file, label] of cases) {
  const rs = [];
  for (let i = 0; i < runs; i++) {
    const p = spawnSync(process.execPath, ['--expose-gc', fileURLToPath(import.meta.url), '--case', name, file], {
      encoding: 'utf8',
      maxBuffer: 1 << 20,
    });
    if (p.status !== 0) {
      console.error(`bench: ${name} failed: ${p.stderr.trim().split('\n').slice(-3).join(' | ')}`);
      break;
    }
    rs.push(JSON.parse(p.stdout.trim().split('\n').pop()));
  }
  if (!rs.length) continue;
  const secs = median(rs.map((r) => r.seconds));
  const r = rs[0];
  const cpu = median(rs.map((x) => x.cpuSeconds));
  results[name] = { label, ...r, seconds: secs, cpu, pps: r.packets / secs, rss: median(rs.map((x) => x.maxRssMiB)) };
}

// tshark's own conversation table on the same file: wall time and connection count.
if (!only || only.includes('tshark')) {
  const t0 = process.hrtime.bigint();
  const p = spawnSync('tshark', ['-n', '-q', '-r', PCAP, '-z', 'conv,tcp'], { encoding: 'utf8', maxBuffer: 1 << 28 });
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  if (p.status === 0) {
    const conns = p.stdout.split('\n').filter((l) => /<->/.test(l)).length;
    results.tshark = { label: 'tshark -q -z conv,tcp (conversations)', packets: results['pcap-parser']?.packets ?? null, connections: conns, seconds: secs, pps: (results['pcap-parser']?.packets ?? 0) / secs, rss: null };
  }
}

const fmt = (n, d = 0) => (n == null ? '–' : Number(n).toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d }));
console.log(`\nmachine: ${os.cpus()[0].model}, ${os.cpus().length} cores, node ${process.version}; runs per case: ${runs} (median)`);
console.log(`capture: ${path.relative(root, PCAP)} / .pcapng\n`);
console.log(`load average at the end: ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}\n`);
console.log('| case | packets | seconds | CPU s | packets/s | segments | connections | events | peak RSS MiB |');
console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|');
for (const r of Object.values(results)) {
  console.log(
    `| ${r.label} | ${fmt(r.packets)} | ${fmt(r.seconds, 2)} | ${fmt(r.cpu, 2)} | ${fmt(r.pps)} | ${fmt(r.segments)} | ${fmt(r.connections)} | ${fmt(r.events)} | ${fmt(r.rss, 0)} |`,
  );
}
const ceil = results['pcap-parser']?.pps;
for (const c of ['track-pcap', 'track-pcap-thread']) {
  if (ceil && results[c]) console.log(`\n${c}: full tracking on classic pcap = ${fmt((100 * results[c].pps) / ceil, 1)} % of pcap-parser's raw rate`);
}
for (const c of ['track-pcapng', 'track-pcapng-thread']) {
  if (results[c]) console.log(`${c}: full tracking on pcapng = ${fmt(results[c].pps)} packets/s`);
}
