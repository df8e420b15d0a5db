// Readings of another process from /proc: CPU time and resident memory.
import { readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';

// USER_HZ is 100 on every Linux this runs on (sysconf(_SC_CLK_TCK)); Node cannot ask.
export const TICK_MS = 10;

/**
 * The fields of a /proc stat file after the command name, from field 3 on (f[11] is utime), and the
 * command name. The name may hold spaces and parentheses: the fields start after its last ')'.
 */
export function statFields(path) {
  const stat = readFileSync(path, 'utf8');
  return { comm: stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')), f: stat.slice(stat.lastIndexOf(')') + 2).split(' ') };
}

/** User and system CPU time of `pid` in milliseconds (utime + stime, fields 14 and 15). */
export function cpuMs(pid) {
  const { f } = statFields(`/proc/${pid}/stat`);
  return { user: Number(f[11]) * TICK_MS, system: Number(f[12]) * TICK_MS, total: (Number(f[11]) + Number(f[12])) * TICK_MS };
}

/** Resident set size of `pid` in bytes (VmRSS). */
export function rssBytes(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : null;
}

export function loadAverage() {
  return os.loadavg().map((x) => Math.round(x * 100) / 100);
}

export function percentile(sorted, p) {
  if (sorted.length === 0) return null;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

export function round(x, digits = 2) {
  if (x === null || x === undefined || !Number.isFinite(x)) return x ?? null;
  const k = 10 ** digits;
  return Math.round(x * k) / k;
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A sleep that ends early, without an error, when `signal` aborts. */
export const sleepUnless = (ms, signal) =>
  signal.aborted
    ? Promise.resolve()
    : new Promise((r) => {
        const done = () => {
          clearTimeout(timer);
          signal.removeEventListener('abort', done);
          r();
        };
        const timer = setTimeout(done, ms);
        signal.addEventListener('abort', done, { once: true });
      });

/** Processes whose parent is `pid` (one level), from /proc. */
export function childPids(pid) {
  const out = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid) out.push(Number(e));
    } catch {
      // ended meanwhile
    }
  }
  return out;
}

/**
 * CPU time of `pid` with that of the children it has reaped (utime + cutime, stime + cstime), ms:
 * for a live child of tcpscope, the ss helper shell with its ss runs.
 */
export function cpuWithReapedMs(pid) {
  const { f } = statFields(`/proc/${pid}/stat`);
  return { user: (Number(f[11]) + Number(f[13])) * TICK_MS, system: (Number(f[12]) + Number(f[14])) * TICK_MS };
}

/**
 * CPU time of `pid` and its children together: its own, that of children it has reaped (cutime,
 * cstime: a capture process that was restarted) and that of its live children.
 */
export function treeCpuMs(pid) {
  const { f } = statFields(`/proc/${pid}/stat`);
  let user = (Number(f[11]) + Number(f[13])) * TICK_MS;
  let system = (Number(f[12]) + Number(f[14])) * TICK_MS;
  let childrenUser = Number(f[13]) * TICK_MS;
  let childrenSystem = Number(f[14]) * TICK_MS;
  for (const c of childPids(pid)) {
    try {
      // a live child's own CPU and that of the children it reaped (tcpscope's ss helper shell runs ss)
      const k = cpuWithReapedMs(c);
      user += k.user;
      system += k.system;
      childrenUser += k.user;
      childrenSystem += k.system;
    } catch {
      // ended meanwhile
    }
  }
  return { user, system, total: user + system, children: childrenUser + childrenSystem, childrenUser, childrenSystem };
}

/** Resident memory of `pid` and its live children together, in bytes. */
export function treeRssBytes(pid) {
  let sum = rssBytes(pid) ?? 0;
  for (const c of childPids(pid)) {
    try {
      sum += rssBytes(c) ?? 0;
    } catch {
      // ended meanwhile
    }
  }
  return sum;
}
