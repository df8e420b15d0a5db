#!/usr/bin/env node
// Mutation fuzzing of the capture-file readers (pcap, pcap-ns, pcapng, gzip), the decoder and the
// tracker, from real captures: the public traces in test/fixtures/zeek/traces and a fresh
// tcpdump of loopback traffic (also converted to nanosecond pcap, pcapng and gzip).
//
//   node bench/fuzz.mjs [--seed N] [--files 100000] [--packets 1000000] [--flows 1000000]
//                       [--case-ms 5000] [--no-capture | --fresh-seeds]
//
// File cases: 1-4 mutations (bit flips, length fields set to extremes, cuts, splices, byte runs,
// trailing garbage), sometimes gzipped or damaged inside the gzip stream, fed in 1-5 chunks.
// Packet cases: 1-3 mutations of a real frame (header lengths and offsets, random option lists,
// random flags, random seq/ack, cut short, wrong wire length, another link type), decoded and fed
// to the tracker. Flow cases: segments with weighted-random flags and near-or-random seq/ack on
// eight 4-tuples sharing a table of four (eviction and reuse all the time), timers moved at random. Properties: see test/support/fuzz/engine.mjs. Cases run in a worker thread; one that
// runs past --case-ms is a hang: the worker is stopped and the input kept. Every finding is
// written to test/fixtures/regressions/ (a capture file) with a .json note beside it.
import { execFileSync, fork } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { gzipSync } from 'node:zlib';
import { buildOnce, ROOT, TARGET } from './lib/build.mjs';
import { loadAverage, round, sleep } from './lib/proc.mjs';
import { startTcpdump } from './lib/tcpdump.mjs';
// The fuzz engine is a test utility (test/fuzz runs it on every test run); this bench drives it longer.
import { loadCorpus } from '../test/support/fuzz/corpus.mjs';
import { builtDeps, createFuzzer, framePcap } from '../test/support/fuzz/engine.mjs';

const args = process.argv.slice(2);
const opt = (n, d) => (args.includes(n) ? args[args.indexOf(n) + 1] : d);
const seed = Number(opt('--seed', Math.floor(Math.random() * 2 ** 31)));
const nFiles = Number(opt('--files', 100_000));
const nPackets = Number(opt('--packets', 1_000_000));
const nFlows = Number(opt('--flows', 1_000_000));
const caseMs = Number(opt('--case-ms', 5000));
const dist = path.join(TARGET, 'dist');
const regressions = path.join(ROOT, 'test/fixtures/regressions');

await buildOnce();

/** A fresh loopback capture in four container formats. */
async function loopbackSeeds() {
  const dir = path.join(ROOT, '.bench-data/fuzz-seeds');
  mkdirSync(dir, { recursive: true });
  const pcap = path.join(dir, 'loopback.pcap');
  const gen = fork(path.join(ROOT, 'bench/lib/traffic-child.mjs'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const port = await new Promise((r) => gen.once('message', (m) => r(m.ready)));
  const ref = await startTcpdump(`tcp port ${port}`, { file: pcap, snaplen: 262144 });
  const run = (m) => new Promise((r) => (gen.once('message', (x) => r(x.result)), gen.send(m)));
  await run({ cmd: 'short', count: 300, concurrency: 10 });
  await run({ cmd: 'bulk', n: 1, bytes: 1 << 20 });
  await sleep(300);
  await ref.stop();
  gen.send({ cmd: 'exit' });
  const ns = path.join(dir, 'loopback-ns.pcap');
  execFileSync('tcpdump', ['-r', pcap, '--time-stamp-precision=nano', '-w', ns], { stdio: 'ignore' });
  const ng = path.join(dir, 'loopback.pcapng');
  execFileSync('editcap', ['-F', 'pcapng', pcap, ng], { stdio: 'ignore' });
  const gz = path.join(dir, 'loopback.pcap.gz');
  writeFileSync(gz, gzipSync(readFileSync(pcap)));
  return [pcap, ns, ng, gz];
}

// The loopback seeds are made once and kept (.bench-data/fuzz-seeds/), so that a seed number
// names the same run later; --fresh-seeds records them again.
const seedFiles = ['loopback.pcap', 'loopback-ns.pcap', 'loopback.pcapng', 'loopback.pcap.gz'].map((f) => path.join(ROOT, '.bench-data/fuzz-seeds', f));
const extra = args.includes('--no-capture')
  ? []
  : seedFiles.every((f) => existsSync(f)) && !args.includes('--fresh-seeds')
    ? seedFiles
    : await loopbackSeeds();
const deps = builtDeps(dist);
// The main thread's own copy of the fuzzer, to regenerate the input of a finding.
const corpus = await loadCorpus(deps.readCaptureFile, { extra });
const replica = createFuzzer(deps, corpus, { seed });

const findings = [];
function keep(kind, i, message) {
  mkdirSync(regressions, { recursive: true });
  const name = `fuzz-${kind}-${seed}-${i}`;
  if (kind === 'flow') {
    // a flow finding depends on the cases before it: its seed and number reproduce it
    writeFileSync(path.join(regressions, name + '.json'), JSON.stringify({ kind, seed, case: i, message }, null, 1) + '\n');
    findings.push({ kind, i, message: message.split('\n')[0] });
    console.error(`finding: flow case ${i}: ${message.split('\n')[0]}`);
    return;
  }
  const input = kind === 'file' ? replica.fileInput(i) : replica.packetInput(i);
  const bytes = kind === 'file' ? input.bytes : framePcap(input);
  const ext = kind === 'file' && input.gzip !== 'none' ? '.pcap.gz' : '.pcap';
  writeFileSync(path.join(regressions, name + ext), bytes);
  writeFileSync(path.join(regressions, name + '.json'), JSON.stringify({ kind, seed, case: i, message, ops: input.ops, from: input.name ?? null }, null, 1) + '\n');
  findings.push({ kind, i, message: message.split('\n')[0] });
  console.error(`finding: ${kind} case ${i}: ${message.split('\n')[0]} → test/fixtures/regressions/${name}${ext}`);
}

/** Runs cases [from, to) of one kind, restarting past a hang. */
async function runKind(kind, total) {
  const t0 = performance.now();
  let from = 0;
  let tally = null;
  let memory = { peakHeapMiB: 0, peakRssMiB: 0 };
  while (from < total) {
    const progress = new SharedArrayBuffer(4);
    const p = new Int32Array(progress);
    p[0] = from;
    const w = new Worker(path.join(ROOT, 'test/support/fuzz/worker.mjs'), { workerData: { dist, seed, kind, from, to: total, extra, progress } });
    const ended = new Promise((resolve) => {
      w.on('message', (m) => {
        if (m.finding) keep(m.finding.kind, m.finding.i, m.finding.message);
        if (m.done) {
          tally = m.done;
          memory = { peakHeapMiB: Math.max(memory.peakHeapMiB, m.memory.peakHeapMiB), peakRssMiB: Math.max(memory.peakRssMiB, m.memory.peakRssMiB) };
          resolve('done');
        }
      });
      w.on('error', (e) => resolve(`error: ${e?.stack ?? e}`));
      w.on('exit', () => resolve('exit'));
    });
    // Watchdog: the case number must move within caseMs (corpus loading gets a head start).
    let last = -1;
    let since = performance.now() + 30_000;
    let outcome;
    for (;;) {
      outcome = await Promise.race([ended, sleep(250).then(() => null)]);
      if (outcome) break;
      const cur = Atomics.load(p, 0);
      if (cur !== last) {
        last = cur;
        since = Math.max(since, performance.now());
      } else if (performance.now() - since > caseMs) {
        outcome = 'hang';
        break;
      }
    }
    if (outcome === 'done') break;
    const at = Atomics.load(p, 0);
    await w.terminate();
    keep(kind, at, outcome === 'hang' ? `no progress for ${caseMs} ms (hang)` : `worker ended: ${outcome}`);
    from = at + 1;
  }
  return { cases: total, seconds: round((performance.now() - t0) / 1000, 1), tally, memory };
}

const started = new Date().toISOString();
const files = await runKind('file', nFiles);
const packets = await runKind('packet', nPackets);
const flows = await runKind('flow', nFlows);
console.log(
  JSON.stringify(
    {
      seed,
      started,
      corpus: { files: corpus.files.length, frames: corpus.frames.length, extra: extra.map((e) => path.relative(ROOT, e)) },
      files: { cases: files.cases, seconds: files.seconds, perSecond: round(files.cases / files.seconds, 0), framesDelivered: files.tally?.frames, errorsByCode: files.tally?.fileErrors, memory: files.memory },
      packets: { cases: packets.cases, seconds: packets.seconds, perSecond: round(packets.cases / packets.seconds, 0), decodeByStatus: packets.tally?.decodeByStatus, trackerSegments: packets.tally?.trackerSegments, memory: packets.memory },
      flows: { cases: flows.cases, seconds: flows.seconds, perSecond: round(flows.cases / flows.seconds, 0), memory: flows.memory },
      findings,
      loadAverage: loadAverage(),
    },
    null,
    1,
  ),
);
process.exit(findings.length > 0 ? 1 : 0);
