// Where a live run's CPU goes, per process and per thread, over a window of the traffic: CPU time
// and context switches of every thread of tcpscope's main process and of its capture process
// (/proc/PID/task/TID/stat and status; a voluntary switch is a sleep, so they count wakeups), CPU of
// the children the main process reaped meanwhile and its live children but the capture process (the
// socket scans' `ss`, forked or run through the helper shell), and, with `strace`, the
// system calls each process made in a shorter window (strace -c -f: it slows the traced process, so
// its counts are read as counts, not its CPU).
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { TICK_MS, childPids, cpuWithReapedMs, round, statFields } from './proc.mjs';

/** The socket scans' thread's name (src/sockets/scan-thread.ts THREAD_NAME). */
const SCAN_THREAD = 'tcpscope-scan';

function threads(pid) {
  const out = new Map();
  let tids = [];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tids) {
    try {
      const { comm, f } = statFields(`/proc/${pid}/task/${tid}/stat`);
      const status = readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8');
      const vol = Number(/voluntary_ctxt_switches:\s+(\d+)/.exec(status)?.[1] ?? 0);
      const invol = Number(/nonvoluntary_ctxt_switches:\s+(\d+)/.exec(status)?.[1] ?? 0);
      out.set(tid, { comm: tid === String(pid) ? `${comm} (main thread)` : comm, user: Number(f[11]) * TICK_MS, system: Number(f[12]) * TICK_MS, vol, invol, cutime: Number(f[13]) * TICK_MS, cstime: Number(f[14]) * TICK_MS });
    } catch {
      // ended meanwhile
    }
  }
  return out;
}

/**
 * Per thread (Node names its worker threads and V8's alike, so the main thread, and each other
 * thread by its id): CPU ms a second, user/system, wakeups a second; threads that did nothing left out.
 */
function delta(a, b, seconds) {
  const by = new Map();
  for (const [tid, t1] of b) {
    const t0 = a.get(tid) ?? { user: 0, system: 0, vol: 0, invol: 0 };
    const name = t1.comm.endsWith('(main thread)') ? t1.comm : `${t1.comm} ${tid}`;
    const k = by.get(name) ?? { threads: 0, user: 0, system: 0, vol: 0, invol: 0 };
    k.threads++;
    k.user += t1.user - t0.user;
    k.system += t1.system - t0.system;
    k.vol += t1.vol - t0.vol;
    k.invol += t1.invol - t0.invol;
    by.set(name, k);
  }
  const rows = [...by].map(([name, k]) => ({
    thread: name,
    cpuMsPerS: round((k.user + k.system) / seconds, 1),
    userMsPerS: round(k.user / seconds, 1),
    systemMsPerS: round(k.system / seconds, 1),
    wakeupsPerS: round(k.vol / seconds, 0),
    preemptedPerS: round(k.invol / seconds, 0),
  }));
  return rows.filter((r) => r.cpuMsPerS > 0 || r.wakeupsPerS > 0).sort((x, y) => y.cpuMsPerS - x.cpuMsPerS);
}

/** CPU ms of the main process's live children but the capture process, with the children they reaped (the ss helper shell and its ss runs). */
function otherChildrenCpuMs(pids) {
  const out = new Map();
  for (const c of childPids(pids.main)) {
    if (c === pids.capture) continue;
    try {
      const k = cpuWithReapedMs(c);
      out.set(c, k.user + k.system);
    } catch {
      // ended meanwhile
    }
  }
  return out;
}

/**
 * CPU ms each thread of `pid` has used since it started, summed by kind: the main thread, the socket
 * scans' thread, and the rest (V8's and libuv's): what the start cost each, read at ready.
 */
export function threadTotals(pid) {
  const out = { mainThread: 0, scanThread: 0, otherThreads: 0 };
  for (const [tid, t] of threads(pid)) {
    const ms = t.user + t.system;
    if (tid === String(pid)) out.mainThread += ms;
    else if (t.comm === SCAN_THREAD) out.scanThread += ms;
    else out.otherThreads += ms;
  }
  return out;
}

/** Starts a window on processes `pids` ({ main, capture }) and `stats()` (tcpscope's /api/stats). */
export async function openWindow(pids, stats) {
  const t0 = performance.now();
  const other0 = otherChildrenCpuMs(pids);
  const main0 = threads(pids.main);
  const cap0 = pids.capture ? threads(pids.capture) : new Map();
  const s0 = await stats();
  return async () => {
    const s1 = await stats();
    const main1 = threads(pids.main);
    const cap1 = pids.capture ? threads(pids.capture) : new Map();
    const other1 = otherChildrenCpuMs(pids);
    let otherMs = 0;
    for (const [c, ms] of other1) otherMs += ms - (other0.get(c) ?? 0);
    const seconds = (performance.now() - t0) / 1000;
    const m0 = main0.get(String(pids.main));
    const m1 = main1.get(String(pids.main));
    const per = (x) => round(x / seconds, 1);
    const sock = (k) => (s1.sockets && s0.sockets ? per(s1.sockets[k] - s0.sockets[k]) : null);
    const main = delta(main0, main1, seconds);
    const capture = delta(cap0, cap1, seconds);
    const reaped = m0 && m1 ? per(m1.cutime + m1.cstime - m0.cutime - m0.cstime) : null;
    const connectionsPerS = per(s1.connections.total - s0.connections.total);
    // every thread of both processes, the children reaped and the live ss helper: all tcpscope processes, in the window
    const sum = (rows) => rows.reduce((a, r) => a + r.cpuMsPerS, 0);
    const allMsPerS = sum(main) + sum(capture) + (reaped ?? 0) + per(otherMs);
    // the main process's threads: its main thread, the socket scans' thread (named by builds that name it), the rest
    const isMain = (r) => r.thread.endsWith('(main thread)');
    const scanRows = main.filter((r) => r.thread.startsWith(`${SCAN_THREAD} `));
    const named = scanRows.length > 0;
    return {
      seconds: round(seconds, 2),
      main,
      capture,
      // children the main process reaped in the window: `ss` runs forked from it (and a restarted capture process)
      reapedChildrenCpuMsPerS: reaped,
      // live children but the capture process, with what they reaped: the ss helper shell and its ss runs
      otherChildrenCpuMsPerS: per(otherMs),
      // all tcpscope processes over the window, a second and per 1 000 connections: the steady state,
      // without the run's start (code not yet optimised) and end
      allCpuMsPerS: round(allMsPerS, 1),
      msPer1000Connections: connectionsPerS > 0 ? round((allMsPerS / connectionsPerS) * 1000, 1) : null,
      mainThreadMsPerS: main.find(isMain)?.cpuMsPerS ?? null,
      mainOtherThreadsMsPerS: round(sum(main.filter((r) => !isMain(r))), 1),
      // of those, the socket scans' thread (named tcpscope-scan by builds that name it; null before)
      // and the rest: V8's own (garbage collection, compilation) and libuv's
      scanThreadCpuMsPerS: named ? round(sum(scanRows), 1) : null,
      v8ThreadsMsPerS: named ? round(sum(main.filter((r) => !isMain(r) && !scanRows.includes(r))), 1) : null,
      mainThreadWakeupsPerS: main.find(isMain)?.wakeupsPerS ?? null,
      captureMsPerS: round(sum(capture), 1),
      packetsPerS: per(s1.capture.packets - s0.capture.packets),
      connectionsPerS,
      handover: s1.capture.process?.handover && s0.capture.process?.handover ? { readsPerS: per(s1.capture.process.handover.reads - s0.capture.process.handover.reads), bytesPerRead: round((s1.capture.process.handover.bytes - s0.capture.process.handover.bytes) / Math.max(1, s1.capture.process.handover.reads - s0.capture.process.handover.reads), 0) } : null,
      wsPassesPerS: s1.ws.passes !== undefined ? per(s1.ws.passes - s0.ws.passes) : null,
      wsMessagesPerS: s1.ws.messages !== undefined ? per(s1.ws.messages - s0.ws.messages) : null,
      sockets: s1.sockets ? { readingsPerS: sock('scans'), ssRunsPerS: sock('ssRuns'), fdScansPerS: sock('fdScans'), scanThreadMsPerS: sock('scanMsTotal') } : null,
    };
  };
}

/** `strace -c -f` on `pid` for `seconds`: calls a second by system call, most first. */
export function straceCounts(pid, seconds) {
  return new Promise((resolve) => {
    const p = spawn('timeout', ['-s', 'INT', String(seconds), 'strace', '-c', '-f', '-q', '-p', String(pid)], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.on('data', (d) => (err += d));
    p.on('close', () => {
      const rows = [];
      for (const line of err.split('\n')) {
        const m = /^\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)\s+(?:\d+\s+)?(\w+)\s*$/.exec(line);
        if (m && m[2] !== 'total') rows.push([m[2], round(Number(m[1]) / seconds, 0)]);
      }
      rows.sort((a, b) => b[1] - a[1]);
      resolve(Object.fromEntries(rows.slice(0, 12)));
    });
  });
}
