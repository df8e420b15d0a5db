#!/usr/bin/env node
// The cost of reading the kernel's socket tables: `tcpscope live -p PORT` with and without
// --no-sockets, side by side in one run, under short loopback connections at a fixed rate and as
// fast as the generator goes, first on the machine as it is and then with N more sockets held open
// on another port (they are not captured, but every fd scan reads them).
//
//   node bench/sockets.mjs [--seconds 10] [--rates 1000,max] [--hold 10000] [--before DIR] [--json]
//   node bench/sockets.mjs --fork-cost [--mib 300] [--runs 50]
//
// --before DIR also measures the build in DIR (a checkout built with npm run build) beside this
// one, row by row in the same run, to compare a change with what it replaces.
//
// CPU is that of all tcpscope processes: the CLI with its threads, its capture process, and the ss
// processes it ran (treeCpuMs, bench/lib/proc.mjs). Owners: of the endpoints tcpscope looked up,
// how many got a process, through their own socket or through their port's listener. Needs root;
// stops by itself.
//
// --fork-cost: what one `ss` run costs the process that starts it, with a heap the size of
// tcpscope's at a few thousand connections a second (--mib of typed arrays and 300 000 small
// objects, one byte in every 64 KiB of the arrays written 20 times a second, as the tracker and
// the collector keep writing): --runs runs of `ss -Htne state listening` ten a second, started
// as tcpscope started them before (runSs: execFileSync, libuv forks the whole process) and through
// the scanning thread's helper shell (SsHelper), and none, for the baseline, after a warm-up of
// as many rounds without ss, not reported. Reports this process's CPU and minor page faults a
// run beyond the baseline, and the ss runs' own CPU.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { buildOnce, TARGET } from './lib/build.mjs';
import { loadAverage, round, sleep, treeCpuMs } from './lib/proc.mjs';
import { getJson, startTcpscope } from './lib/tcpscope.mjs';
import { startTraffic } from './lib/children.mjs';

const args = process.argv.slice(2);
const opt = (n, d) => (args.includes(n) ? args[args.indexOf(n) + 1] : d);
const seconds = Number(opt('--seconds', 10));
const rates = opt('--rates', '1000,max').split(',').map((r) => (r === 'max' ? Infinity : Number(r)));
const hold = Number(opt('--hold', 10000));
const before = opt('--before', null) && path.resolve(opt('--before', null));

await buildOnce();
if (args.includes('--fork-cost')) {
  await forkCost(Number(opt('--mib', 300)), Number(opt('--runs', 50)));
  process.exit(0);
}

async function forkCost(mib, runs) {
  const { runSs, SsHelper, reapedCpuMs } = createRequire(import.meta.url)(path.join(TARGET, 'dist/sockets/ss.js'));
  const bufs = [];
  for (let i = 0; i < Math.ceil(mib / 10); i++) bufs.push(new Uint8Array(10 << 20).fill(1));
  const objs = Array.from({ length: 300_000 }, (_, i) => ({ a: i, b: String(i), c: [i] }));
  const writer = setInterval(() => {
    for (const b of bufs) for (let p = 0; p < b.length; p += 65536) b[p]++;
  }, 50);
  const usage = () => {
    const r = process.resourceUsage();
    return { cpu: (r.userCPUTime + r.systemCPUTime) / 1000, faults: r.minorPageFault };
  };
  const args = ['-Htne', 'state', 'listening'];
  const out = {};
  for (const mode of ['warmup', 'spawn', 'helper', 'none']) {
    const helper = mode === 'helper' ? SsHelper.start() : null;
    if (helper) await helper.run(args);
    const u0 = usage();
    const c0 = reapedCpuMs('self') + (helper ? reapedCpuMs(helper.pid) : 0);
    for (let i = 0; i < runs; i++) {
      if (mode === 'spawn') runSs(args, null, 'LISTEN', true);
      else if (helper) await helper.run(args);
      await sleep(100);
    }
    const u1 = usage();
    const ssMs = reapedCpuMs('self') + (helper ? reapedCpuMs(helper.pid) : 0) - c0;
    await helper?.close();
    if (mode !== 'warmup') out[mode] = { cpuMs: u1.cpu - u0.cpu, faults: u1.faults - u0.faults, ssMs };
  }
  clearInterval(writer);
  const base = { cpuMs: (out.none.cpuMs) / runs, faults: out.none.faults / runs };
  console.log(`# ${runs} runs of ss ${args.join(' ')}, 10 a second; this process ${round(process.memoryUsage().rss / 2 ** 20, 0)} MiB resident (${objs.length} objects) [load ${loadAverage().join(' ')}]`);
  for (const mode of ['spawn', 'helper']) {
    const o = out[mode];
    console.log(`${mode.padEnd(7)} this process ${round(o.cpuMs / runs - base.cpuMs, 2)} ms of CPU and ${round(o.faults / runs - base.faults, 0)} minor page faults a run beyond none; ss ${round(o.ssMs / runs, 2)} ms a run`);
  }
}

const traffic = await startTraffic();
const port = traffic.port;
const localAddresses = Array.from({ length: 16 }, (_, i) => `127.0.0.${i + 1}`);

async function measure(label, extra, rate, root = undefined) {
  const ts = await startTcpscope(['live', '-p', String(port), '--listen', '127.0.0.1:0', ...extra], root ? { root } : {});
  await sleep(1500);
  const c0 = treeCpuMs(ts.pid).total;
  const t0 = performance.now();
  const load0 = loadAverage();
  let short = { completed: 0 };
  if (rate === 0) await sleep(seconds * 1000);
  else short = await traffic.run({ cmd: 'short', concurrency: 60, durationMs: seconds * 1000, localAddresses, ...(Number.isFinite(rate) ? { rate } : {}) });
  const wall = performance.now() - t0;
  await sleep(1500);
  const c1 = treeCpuMs(ts.pid).total;
  const stats = (await getJson(`${ts.url}api/stats`)).body;
  await ts.stop();
  const s = stats.sockets;
  const row = {
    label,
    rate: rate === 0 ? 'idle' : Number.isFinite(rate) ? rate : 'max',
    connPerS: round(short.completed / (wall / 1000), 0),
    connections: short.completed,
    cpuMsPerS: round((c1 - c0) / ((wall + 1500) / 1000), 1),
    cpuMsPer1000Conn: short.completed ? round(((c1 - c0) / short.completed) * 1000, 1) : null,
    load: load0,
    ...(s
      ? {
          owners: s.owners,
          ownedShare: s.owners.endpoints ? round(s.owners.owned / s.owners.endpoints, 3) : null,
          scans: s.scans,
          meanScanMs: round(s.scanMsTotal / Math.max(1, s.scans), 2),
          fdScans: s.fdScans,
          idleSkips: s.idleSkips ?? null,
          ssRuns: s.ssRuns ?? null,
          crossCheck: { compared: s.crossCheck.compared, agreed: s.crossCheck.agreed, disagreements: s.crossCheck.disagreements },
        }
      : {}),
  };
  if (!args.includes('--json')) {
    const o = row.owners;
    console.log(
      `${label.padEnd(34)} ${String(row.rate).padStart(5)} conn/s offered, ${String(row.connPerS).padStart(6)} done: CPU ${String(row.cpuMsPerS).padStart(6)} ms/s` +
        (row.cpuMsPer1000Conn !== null ? `, ${row.cpuMsPer1000Conn} ms per 1000 conn` : '') +
        (o ? `; owners ${o.owned}/${o.endpoints} (socket ${o.viaSocket}, listener ${o.viaListener}, gone ${o.byReason.gone}); ${row.scans} scans, ${row.meanScanMs} ms each, ${row.fdScans} fd scans${row.idleSkips != null ? `, ${row.idleSkips} left out idle` : ""}${row.ssRuns != null ? `, ${row.ssRuns} ss runs` : ""}; cross-check ${row.crossCheck.compared} compared, ${row.crossCheck.disagreements} disagreements` : '') +
        `  [load ${row.load.join(' ')}]`,
    );
  }
  return row;
}

const rows = [];
const sockets = () => Number(readFileSync('/proc/net/sockstat', 'utf8').match(/TCP: inuse (\d+).*tw (\d+)/s)?.slice(1).reduce((a, b) => a + Number(b), 0));
for (const phase of ['as is', `+${hold} held`]) {
  let other = null;
  if (phase !== 'as is') {
    other = await startTraffic();
    await other.run({ cmd: 'hold', n: hold / 2 });
  }
  console.log(`# ${phase}: ${sockets()} TCP sockets on the machine (in use + TIME_WAIT, /proc/net/sockstat)`);
  for (const rate of [0, ...rates]) {
    rows.push({ phase, ...(await measure('live -p PORT --no-sockets', ['--no-sockets'], rate)) });
    rows.push({ phase, ...(await measure('live -p PORT (owners, cross-check)', [], rate)) });
    if (before) rows.push({ phase, ...(await measure(`  the same, build in ${before}`, [], rate, before)) });
  }
  if (other) {
    await other.run({ cmd: 'release' });
    other.stop();
  }
}
traffic.stop();
if (args.includes('--json')) console.log(JSON.stringify(rows, null, 2));
process.exit(0);
