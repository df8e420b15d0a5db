#!/usr/bin/env node
// Live load: short loopback connections as fast as this machine allows (or at --rate) plus a few bulk
// transfers, watched by `tcpscope live -p PORT --msl 1` (the built CLI) with a WebSocket client
// reading everything like the dashboard and a REST client listing connections every second.
//
//   node bench/load.mjs [--runs 3] [--seconds 10] [--concurrency 100] [--rate CONN_PER_S] [--bulk 2] [--bulk-mib 200]
//                       [--hog N] [--in-process] [--tcpscope '--buffer 64'] [--cpu-prof DIR (both processes)]
//                       [--node '--trace-gc' --stdout FILE] [--diag] [--strace SECONDS] [--json] [--no-rest] [--sockets-poll]
//
// --rate 0 makes no connections at all (give --bulk 0 too): tcpscope, its WebSocket client and its
// REST client for --seconds with nothing to capture, so that what it costs a second whatever the
// traffic shows alone (read `cpu.msPerS` and --diag's `allCpuMsPerS`; per 1 000 connections is null).
// --no-rest leaves the REST client out, so that what its listing costs the live process shows as
// the difference with a run that has it.
// --sockets-poll adds what the dashboard's listeners panel asks: /api/listeners and /api/diagnoses
// every 2 s (off by default, so that runs stay comparable with those made before it).
// --hog N runs `stress-ng --cpu N` for the whole run (a CPU hog competing for the cores).
// --in-process captures on tcpscope's main thread (TCPSCOPE_CAPTURE=in-process), as before the
// capture process, for comparison.
//
// Reports per run, against what the traffic process itself completed and what tcpdump (256 MiB
// buffer) saw on the same port: packets captured and lost, connections seen whole (handshake and
// FIN teardown both seen), connections flagged as spanning a capture hole, CPU time of all tcpscope
// processes together (the CLI and its capture process, /proc/PID/stat) per 1 000 connections, event
// latency from capture to the WebSocket client (p50/p99), the REST listing's time, and how long the
// machine itself held up a process at the capture process's priority (bench/lib/stall-monitor.mjs).
// --diag adds where the CPU went over the middle of the traffic (bench/lib/diag.mjs): per thread of
// the main and the capture process, CPU and wakeups a second; the `ss` runs' CPU (forked, or through
// the helper shell); hand-over
// reads, stream passes and messages, socket readings, `ss` runs and fd scans a second; and all
// tcpscope processes' CPU per 1 000 connections over that window ("window"), the steady state
// without the run's first 1.5 s (while V8 is still optimising the code) and its end; and `phases`,
// the run's CPU and wall time between the marks taken along it: the start until ready (outside the
// whole-run figure, which is read from ready on; with the main process's threads and the capture
// process apart), ready to the window's start (the traffic's first 1.5 s), the window (its first
// readings, taken after its start mark, included), strace's seconds (with --strace), the window's
// (or strace's) end to the traffic's end, and the traffic's end to the run's last reading (a 2.5 s
// wait, the stall monitor's report and the pollers' requests then in flight, whose waits between
// requests are cut short: 2.5 s or a little more). A phase whose marks came out of order
// (the window or strace ending after the traffic, on a loaded machine) has a negative wall time and
// is named under `outOfOrder`. --strace S adds the system calls a second of each process
// (strace -c -f) over S seconds after that window.
// tcpscope runs with --max-connections 1000000 unless --tcpscope gives one, so that its table,
// listed at the end, holds every connection of the run. Needs root; stops by itself.
import { fork, spawn } from 'node:child_process';
import { openSync } from 'node:fs';
import path from 'node:path';
import { buildOnce, ROOT } from './lib/build.mjs';
import { readFileSync } from 'node:fs';
import { childPids, cpuMs, loadAverage, round, rssBytes, sleep, sleepUnless, treeCpuMs, treeRssBytes } from './lib/proc.mjs';
import { startTcpdump } from './lib/tcpdump.mjs';
import { getJson, startTcpscope } from './lib/tcpscope.mjs';
import { startTraffic, startWsObserver } from './lib/children.mjs';
import { openWindow, straceCounts, threadTotals } from './lib/diag.mjs';

const args = process.argv.slice(2);
const opt = (n, d) => (args.includes(n) ? args[args.indexOf(n) + 1] : d);
const runs = Number(opt('--runs', 1));
const seconds = Number(opt('--seconds', 10));
const concurrency = Number(opt('--concurrency', 100));
const bulk = Number(opt('--bulk', 2));
const bulkMiB = Number(opt('--bulk-mib', 200));
// A fixed offered load makes runs comparable on a shared machine; the default is as fast as it goes.
const rate = Number(opt('--rate', Infinity));
const hog = Number(opt('--hog', 0));
const inProcess = args.includes('--in-process');
const extra = opt('--tcpscope', '').split(' ').filter(Boolean);
/** The table's size unless --tcpscope gives one: room for every connection of a run. */
const TABLE = 1_000_000;
const cpuProf = opt('--cpu-prof', null);
const diag = args.includes('--diag') || args.includes('--strace');
const straceS = Number(opt('--strace', 0));
const restClient = !args.includes('--no-rest');
const socketsPoll = args.includes('--sockets-poll');
const localAddresses = Array.from({ length: 16 }, (_, i) => `127.0.0.${i + 1}`);

await buildOnce();

async function once() {
  const traffic = await startTraffic();
  const port = traffic.port;

  const ref = await startTcpdump(`tcp port ${port}`);
  // the capture process runs with tcpscope's node options: it is profiled too (a file each)
  const nodeArgs = [...(cpuProf ? ['--cpu-prof', '--cpu-prof-dir', cpuProf] : []), ...opt('--node', '').split(' ').filter(Boolean)];
  const stdout = opt('--stdout', null) ? openSync(opt('--stdout', null), 'w') : 'ignore';
  const env = inProcess ? { TCPSCOPE_CAPTURE: 'in-process' } : {};
  // The connections are counted from the table at the end, so it must hold them all: flat out this
  // machine makes over 100 000 (the default table) in 10 s, and the oldest would be evicted.
  const table = extra.includes('--max-connections') ? [] : ['--max-connections', String(TABLE)];
  const ts = await startTcpscope(['live', '-p', String(port), '--msl', '1', '--listen', '127.0.0.1:0', ...table, ...extra], { nodeArgs, stdout, env });
  const observer = await startWsObserver(ts.url.replace(/^http/, 'ws') + 'ws');
  const monitor = fork(path.join(ROOT, 'bench/lib/stall-monitor.mjs'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const stress = hog > 0 ? spawn('stress-ng', ['--cpu', String(hog), '--quiet'], { stdio: 'ignore' }) : null;
  await sleep(500);

  // The REST client: one page of connections every second, as a dashboard's list or a script would.
  const rest = { calls: 0, ms: [] };
  // both pollers stop waiting between requests when the traffic is over (stopPolls.abort below)
  const stopPolls = new AbortController();
  let polling = restClient;
  const poller = (async () => {
    while (polling) {
      const t = performance.now();
      const r = await getJson(`${ts.url}api/connections?status=all&limit=1000`).catch(() => null);
      if (r) {
        rest.calls++;
        rest.ms.push(r.ms);
      }
      await sleepUnless(Math.max(0, 1000 - (performance.now() - t)), stopPolls.signal);
    }
  })();

  // --sockets-poll: the dashboard's listeners and diagnoses, every 2 s (web/js/sockets.js)
  let socketsPolling = socketsPoll;
  const socketsPoller = (async () => {
    while (socketsPolling) {
      const t = performance.now();
      await Promise.all([getJson(`${ts.url}api/listeners`), getJson(`${ts.url}api/diagnoses`)]).catch(() => null);
      await sleepUnless(Math.max(0, 2000 - (performance.now() - t)), stopPolls.signal);
    }
  })();

  // the capture process alone (the CLI's other children are the socket scans' short-lived ss)
  const capturePid = childPids(ts.pid).find((p) => {
    try {
      return readFileSync(`/proc/${p}/cmdline`, 'utf8').includes('live-process-main');
    } catch {
      return false;
    }
  });
  const capCpu = () => {
    try {
      return capturePid ? cpuMs(capturePid) : null;
    } catch {
      return null;
    }
  };
  const cpu0 = treeCpuMs(ts.pid);
  const cap0 = capCpu();
  // --diag: all tcpscope processes' CPU and the wall time at each mark along the run (phasesOf)
  const mark = () => ({ cpuMs: treeCpuMs(ts.pid).total, wallMs: performance.now() });
  const marks = { ready: { cpuMs: cpu0.total, wallMs: performance.now() }, readyCapture: cap0?.total ?? null, startupWallMs: ts.startupWallMs, readyThreads: diag ? threadTotals(ts.pid) : null };
  const rss0 = treeRssBytes(ts.pid);
  let rssMax = rss0;
  const sampler = setInterval(() => (rssMax = Math.max(rssMax, treeRssBytes(ts.pid))), 500);
  const t0 = performance.now();
  const trafficStartMs = performance.timeOrigin + t0;
  // --diag: a window over the middle of the traffic (and strace after it, apart)
  const diagDone = diag
    ? (async () => {
        const windowS = Math.max(1, seconds - 3 - straceS);
        await sleep(1500);
        marks.windowOpen = mark();
        const close = await openWindow({ main: ts.pid, capture: capturePid }, async () => (await getJson(`${ts.url}api/stats`)).body);
        await sleep(windowS * 1000);
        const out = await close();
        marks.windowClose = mark();
        if (straceS > 0) {
          const [main, capture] = await Promise.all([straceCounts(ts.pid, straceS), capturePid ? straceCounts(capturePid, straceS) : null]);
          out.syscallsPerS = { main, capture };
          marks.straceEnd = mark();
        }
        return out;
      })()
    : null;
  const idle = { started: 0, completed: 0, failed: 0, errors: {}, ms: seconds * 1000 };
  const [short, bulkRes] = await Promise.all([
    rate === 0 ? sleep(seconds * 1000).then(() => idle) : traffic.run({ cmd: 'short', concurrency, durationMs: seconds * 1000, localAddresses, ...(Number.isFinite(rate) ? { rate } : {}) }),
    bulk > 0 ? traffic.run({ cmd: 'bulk', n: bulk, bytes: bulkMiB * 1024 * 1024 }) : { transfers: 0, completed: 0, bytes: 0 },
  ]);
  marks.trafficEnd = mark();
  const diagnosis = diagDone ? await diagDone : undefined;
  stress?.kill('SIGTERM');
  const stalls = await new Promise((r) => {
    monitor.once('message', (m) => r(m.report));
    monitor.send('report');
  });
  await sleep(2500); // let tcpscope and the WebSocket catch up; TIME_WAIT (2×MSL) ends
  polling = false;
  socketsPolling = false;
  // the pollers' waits end now: the readings below are not put off by up to 2 s
  stopPolls.abort();
  await poller;
  await socketsPoller;
  const cpu1 = treeCpuMs(ts.pid);
  marks.end = { cpuMs: cpu1.total, wallMs: performance.now() };
  const cpuWallMs = performance.now() - t0;
  const cap1 = capCpu();
  clearInterval(sampler);
  const wire = await ref.stop();

  const stats = (await getJson(`${ts.url}api/stats`)).body;
  let cursor = null;
  const conns = [];
  let listMs = 0;
  do {
    const r = await getJson(`${ts.url}api/connections?status=all&port=${port}&limit=1000${cursor ? `&cursor=${cursor}` : ''}`);
    listMs += r.ms;
    conns.push(...r.body.connections);
    cursor = r.body.nextCursor;
  } while (cursor);
  // Seen whole: SYN, SYN+ACK and ACK seen, and closed by FINs.
  const full = conns.filter((c) => !c.partial && c.handshake.synAt !== null && c.handshake.synAckAt !== null && c.handshake.ackAt !== null && c.status === 'closed' && c.closeKind === 'fin');
  const wholeSet = new Set(full);
  const ws = await observer.report();
  const rssEnd = treeRssBytes(ts.pid);
  await ts.stop();
  traffic.exit();

  const generated = short.completed + bulkRes.completed;
  const cpuTotal = cpu1.total - cpu0.total;
  const restSorted = rest.ms.sort((a, b) => a - b);
  return {
    params: {
      seconds, concurrency, rate: Number.isFinite(rate) ? rate : 'max', bulk, bulkMiB, hog,
      capture: inProcess ? 'in-process' : 'process', tcpscope: extra.join(' ') || '(defaults)',
    },
    loadAverage: loadAverage(),
    // how late a process at the capture process's priority woke during the traffic (ms)
    machineStalls: stalls,
    generator: { shortCompleted: short.completed, shortFailed: short.failed, errors: short.errors, perSecond: round(short.completed / (short.ms / 1000), 0), bulk: bulkRes },
    packets: {
      onWire: wire.captured,
      tcpdumpDropped: wire.dropped,
      tcpscope: stats.capture.packets,
      lost: wire.captured - stats.capture.packets,
      lostPct: round((100 * (wire.captured - stats.capture.packets)) / wire.captured, 2),
    },
    connections: {
      generated,
      seen: conns.length,
      seenWhole: full.length,
      partial: conns.filter((c) => c.partial).length,
      captureGap: conns.filter((c) => c.captureGap).length,
      // not seen whole, and nothing says so (neither partial nor flagged as spanning a capture hole)
      silentlyWrong: conns.filter((c) => !wholeSet.has(c) && !c.partial && !c.captureGap).length,
      stillOpen: conns.filter((c) => c.status === 'open').length,
      statsTotal: stats.connections.total,
      lossEvidence: stats.capture.lossEvidence,
      captureProcess: stats.capture.process ? { restarts: stats.capture.process.restarts, faults: stats.capture.process.faults } : null,
      // when each hole began, in seconds after the traffic started
      holesAtS: (stats.capture.process?.holes ?? []).map((h) => round((h.fromMs - trafficStartMs) / 1000, 2)),
    },
    cpu: {
      ms: cpuTotal, user: cpu1.user - cpu0.user, system: cpu1.system - cpu0.system,
      main: { ms: cpu1.total - cpu1.children - (cpu0.total - cpu0.children) },
      // every child: the capture process and the socket scans' ss
      children: { ms: cpu1.children - cpu0.children, user: cpu1.childrenUser - cpu0.childrenUser, system: cpu1.childrenSystem - cpu0.childrenSystem },
      captureProcess: cap0 && cap1 ? { ms: cap1.total - cap0.total, user: cap1.user - cap0.user, system: cap1.system - cap0.system } : null,
      msPer1000Connections: generated > 0 ? round((cpuTotal / generated) * 1000, 1) : null,
      // all tcpscope processes a second, over the run (the fixed cost, with --rate 0)
      msPerS: round(cpuTotal / (cpuWallMs / 1000), 1),
      mainUsPerConnection: generated > 0 ? round(((cpu1.total - cpu1.children - (cpu0.total - cpu0.children)) / generated) * 1000, 1) : null,
      busyPct: round((100 * cpuTotal) / cpuWallMs, 1),
    },
    ws: { events: ws.events, eventsPerConnection: generated > 0 ? round(ws.events / generated, 1) : null, bytesPerConnection: generated > 0 ? round(ws.bytes / generated, 0) : null, messages: ws.messages, bytes: ws.bytes, clientCpuPct: round(ws.client.cpuPct, 1), lagged: ws.lagged, laggedDropped: ws.laggedDropped, gaps: ws.gaps, latencyMs: Object.fromEntries(Object.entries(ws.latencyMs).map(([k, v]) => [k, round(v, 2)])), latencyByKind: ws.latencyByKind },
    // the server's side of the stream: resynchronisations, passes held by the in-flight allowance
    wsServer: { lagged: stats.ws.lagged, heldUnconfirmed: stats.ws.heldUnconfirmed },
    rest: { calls: rest.calls, p50Ms: round(restSorted[Math.floor(restSorted.length / 2)] ?? null, 1), maxMs: round(restSorted.at(-1) ?? null, 1) },
    rssMiB: { start: round(rss0 / 2 ** 20, 1), max: round(rssMax / 2 ** 20, 1), end: round(rssEnd / 2 ** 20, 1) },
    restListMs: round(listMs, 0),
    // what the socket tables did over the run (null with --no-sockets)
    sockets: stats.sockets
      ? { scans: stats.sockets.scans, ssRuns: stats.sockets.ssRuns, fdScans: stats.sockets.fdScans, settledWithoutReading: stats.sockets.settledWithoutReading, owners: stats.sockets.owners, crossCheck: { ...stats.sockets.crossCheck, recent: stats.sockets.crossCheck.recent.length } }
      : null,
    ...(diagnosis ? { diag: diagnosis, phases: phasesOf(marks, generated) } : {}),
  };
}

/**
 * The run's CPU (all tcpscope processes) and wall time by phase, ms, between consecutive marks: the
 * start until ready (from the process's birth: loading, the first socket readings, the capture
 * process's start; outside the whole-run figure, which is read from ready on; its split by process
 * and thread beside it), ready to the window's start, the window, strace's seconds (--strace), the
 * window's or strace's end to the traffic's end, and the traffic's end to the run's last reading;
 * with each phase's CPU per 1 000 connections. Phases with a negative wall time (marks out of order)
 * are named in `outOfOrder`: their CPU belongs to the phase before.
 */
function phasesOf(m, generated) {
  const order = [
    ['readyToWindow', m.ready, m.windowOpen],
    ['window', m.windowOpen, m.windowClose],
    ...(m.straceEnd ? [['strace', m.windowClose, m.straceEnd]] : []),
    ['toTrafficEnd', m.straceEnd ?? m.windowClose, m.trafficEnd],
    ['afterTraffic', m.trafficEnd, m.end],
  ];
  const ms = { startToReady: m.ready.cpuMs };
  const wallMs = { startToReady: round(m.startupWallMs ?? null, 0) };
  for (const [k, a, b] of order) {
    ms[k] = round(b.cpuMs - a.cpuMs, 0);
    wallMs[k] = round(b.wallMs - a.wallMs, 0);
  }
  const per1000 = Object.fromEntries(Object.entries(ms).map(([k, v]) => [k, generated > 0 ? round((v / generated) * 1000, 1) : null]));
  const outOfOrder = Object.keys(wallMs).filter((k) => wallMs[k] < 0);
  return { ms, wallMs, per1000, outOfOrder, captureAtReadyMs: m.readyCapture, mainAtReadyMs: m.readyThreads };
}

const results = [];
for (let i = 0; i < runs; i++) {
  const r = await once();
  results.push(r);
  console.log(JSON.stringify(r, null, args.includes('--json') ? 0 : 1));
}
if (results.length > 0) {
  // One line per run, as BENCHMARKS.md tables them.
  for (const r of results) {
    const c = r.connections;
    console.error(
      `${r.params.capture}${r.params.hog ? ` hog ${r.params.hog}` : ''} | load ${r.loadAverage[0]} | stalls max ${r.machineStalls.maxMs} ms, ${r.machineStalls.over100} > 100 ms | ${r.generator.perSecond} conn/s | ` +
        `${c.seenWhole} / ${c.generated} whole | lost ${r.packets.lost} pkts | evidence ${c.lossEvidence.gaps}/${c.lossEvidence.acksOfUnseen}/${c.lossEvidence.midstreamStarts} | ` +
        `handover lost ${c.lossEvidence.handoverLost ?? "-"} ring full ${c.lossEvidence.ringFull ?? "-"} kernel dropped ${c.lossEvidence.kernelDropped ?? "-"} holes ${c.lossEvidence.captureHoles ?? "-"} flagged ${c.captureGap} silently wrong ${c.silentlyWrong} | ${r.cpu.msPer1000Connections} ms/1000, ${r.cpu.msPerS} ms/s (${r.cpu.busyPct} %; main ${r.cpu.main.ms}, capture ${r.cpu.captureProcess?.ms ?? '-'}, all children ${r.cpu.children.ms} ms) | ` +
        `main ${r.cpu.mainUsPerConnection} µs/conn | ${r.diag ? `window ${r.diag.msPer1000Connections} ms/1000, ${r.diag.allCpuMsPerS} ms/s (main thread ${r.diag.mainThreadMsPerS}, ${r.diag.mainThreadWakeupsPerS} wakeups; other threads ${r.diag.mainOtherThreadsMsPerS}; capture ${r.diag.captureMsPerS}; ss ${Math.round(((r.diag.reapedChildrenCpuMsPerS ?? 0) + (r.diag.otherChildrenCpuMsPerS ?? 0)) * 10) / 10} ms/s) | ` : ''}${r.phases ? `phases CPU/wall ms ${Object.keys(r.phases.ms).map((k) => `${k} ${r.phases.ms[k]}/${r.phases.wallMs[k]}`).join(', ')}${r.phases.outOfOrder.length > 0 ? ` (OUT OF ORDER: ${r.phases.outOfOrder.join(', ')})` : ''} | ` : ''}WS ${r.ws.eventsPerConnection} events, ${r.ws.bytesPerConnection} B /conn, p50/p99 ${r.ws.latencyMs.p50}/${r.ws.latencyMs.p99} ms lagged ${r.ws.lagged} (server: held unconfirmed ${r.wsServer.heldUnconfirmed ?? '-'}) | REST p50/max ${r.rest.p50Ms}/${r.rest.maxMs} ms`,
    );
  }
}
process.exit(0);
