import { readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import type { OwnerReason } from '../track/connection';

// Reading one process's entries under /proc. Every reader returns null (or an error code) when the
// process is gone or not ours to read; nothing here throws.

/** The two reasons of OwnerReason a process's own entries can give (the rest are the socket's). */
export type ProcError = Extract<OwnerReason, 'gone' | 'no-permission'>;

function errCode(e: unknown): ProcError {
  const code = (e as NodeJS.ErrnoException).code;
  return code === 'EACCES' || code === 'EPERM' ? 'no-permission' : 'gone';
}

/** The pids under /proc, in the order the kernel lists them. */
export function listPids(root: string): number[] {
  const out: number[] = [];
  let names: string[];
  try {
    names = readdirSync(root);
  } catch {
    return out;
  }
  for (const n of names) {
    const c = n.charCodeAt(0);
    if (c >= 48 && c <= 57) out.push(Number(n));
  }
  return out;
}

export interface ProcStat {
  comm: string;
  /** Field 22: clock ticks after boot when the process started; with the pid, names it for good. */
  startTime: number;
}

/** /proc/PID/stat: the command name in parentheses may itself hold ') ', so fields start after the last one. */
export function parseStat(text: string): ProcStat | null {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return null;
  const rest = text.slice(close + 2).split(' ');
  // rest[0] is field 3 (state), so field 22 is rest[19]
  const startTime = Number(rest[19]);
  if (!Number.isFinite(startTime)) return null;
  return { comm: text.slice(open + 1, close), startTime };
}

export function readStat(root: string, pid: number): ProcStat | null {
  try {
    return parseStat(readFileSync(`${root}/${pid}/stat`, 'latin1'));
  } catch {
    return null;
  }
}

/** The command line with its arguments joined by spaces (empty for kernel threads and zombies). */
export function readCmdline(root: string, pid: number): string {
  try {
    const b = readFileSync(`${root}/${pid}/cmdline`);
    let end = b.length;
    while (end > 0 && b[end - 1] === 0) end--;
    return b.subarray(0, end).toString('utf8').replace(/\0/g, ' ');
  } catch {
    return '';
  }
}

export function readUid(root: string, pid: number): number | null {
  try {
    return statSync(`${root}/${pid}`).uid;
  } catch {
    return null;
  }
}

/** The inode of the process's network namespace (`net:[4026531840]`), null when unreadable. */
export function readNetns(root: string, pid: number | 'self'): number | null {
  try {
    const t = readlinkSync(`${root}/${pid}/ns/net`);
    const n = Number(t.slice(t.indexOf('[') + 1, -1));
    return Number.isInteger(n) ? n : null;
  } catch {
    return null;
  }
}

/** The socket inodes the process holds open, as fd → inode pairs (a flat array: fd, inode, fd, inode …). */
export function readSocketFds(root: string, pid: number): number[] | ProcError {
  const dir = `${root}/${pid}/fd`;
  let fds: string[];
  try {
    fds = readdirSync(dir);
  } catch (e) {
    return errCode(e);
  }
  const out: number[] = [];
  for (const fd of fds) {
    let t: string;
    try {
      t = readlinkSync(`${dir}/${fd}`);
    } catch {
      continue; // closed since the listing
    }
    // socket:[12345]
    if (t.charCodeAt(0) !== 115 || !t.startsWith('socket:[')) continue;
    out.push(Number(fd), Number(t.slice(8, -1)));
  }
  return out;
}

/** uid → user name from a passwd file. */
export function parsePasswd(text: string): Map<number, string> {
  const m = new Map<number, string>();
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f.length >= 3 && /^\d+$/.test(f[2])) m.set(Number(f[2]), f[0]);
  }
  return m;
}

export function readPasswd(path = '/etc/passwd'): Map<number, string> {
  try {
    return parsePasswd(readFileSync(path, 'utf8'));
  } catch {
    return new Map();
  }
}

/** The TcpExt counters of /proc/net/netstat (a header line of names, then a line of values). */
export function parseNetstat(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  const lines = text.split('\n');
  for (let i = 0; i + 1 < lines.length; i += 2) {
    const names = lines[i].split(' ');
    const values = lines[i + 1].split(' ');
    if (names[0] !== 'TcpExt:' || values[0] !== 'TcpExt:') continue;
    for (let k = 1; k < names.length && k < values.length; k++) {
      const v = Number(values[k]);
      if (Number.isFinite(v)) out[names[k]] = v;
    }
  }
  return out;
}
