import type { DiagnoseOptions } from '../sockets/diagnose';
import { isIP } from 'node:net';
import { InvalidArgumentError } from 'commander';
import { DEFAULT_LISTEN, parseListen, type ListenAddress } from '../server/address';

/** Options every command shares. */
export interface CommonOptions {
  msl?: number;
  maxConnections?: number;
}

export interface ServeOptions {
  listen: ListenAddress;
  server: boolean;
  token?: string;
}

/**
 * Whether a file is read, parsed and decoded in a thread of its own while this one tracks, at
 * --speed max (paced replays wait on the clock anyway): `on` always, `auto` for files of 4 MiB or
 * more, other than uncompressed pcapng, when there is a second core.
 */
export const READ_THREAD_MODES = ['auto', 'on', 'off'] as const;
export type ReadThreadMode = (typeof READ_THREAD_MODES)[number];

/**
 * Whether analyze formats and encodes its records in a thread of its own while this one tracks:
 * `on` always, `auto` for the table and jsonl of files of 4 MiB or more (and standard input) with
 * three cores or more.
 */
export const WRITE_THREAD_MODES = READ_THREAD_MODES;
export type WriteThreadMode = (typeof WRITE_THREAD_MODES)[number];

/** What `analyze --format` writes: the table, one JSON line per connection, or Zeek's conn.log. */
export const ANALYZE_FORMATS = ['table', 'jsonl', 'zeek'] as const;
export type AnalyzeFormat = (typeof ANALYZE_FORMATS)[number];

export type Speed = { kind: 'max' } | { kind: 'factor'; factor: number };

export function parseMsl(v: string): number {
  const n = Number(v);
  if (!/^\d+(\.\d+)?$/.test(v.trim()) || !(n > 0) || n > 86_400) {
    throw new InvalidArgumentError('give the maximum segment lifetime in seconds, e.g. --msl 30 (TIME_WAIT lasts 2×MSL)');
  }
  return n;
}

export function parseMaxConnections(v: string): number {
  const n = Number(v);
  if (!/^\d+$/.test(v.trim()) || n < 1 || n > 50_000_000) {
    throw new InvalidArgumentError('give a whole number of connections from 1 to 50000000, e.g. --max-connections 100000');
  }
  return n;
}

/** `--buffer`: the kernel capture buffer in MiB, as a byte count. */
export function parseBufferMiB(v: string): number {
  const n = Number(v);
  if (!/^\d+$/.test(v.trim()) || n < 1 || n > 2047) {
    throw new InvalidArgumentError('give the capture buffer in MiB, a whole number from 1 to 2047, e.g. --buffer 64');
  }
  return n * 1024 * 1024;
}

/** --snaplen: bytes of each packet kept, 64 to 65535; 0 means whole packets (65535), as tcpdump's -s 0. */
export function parseSnapLength(v: string): number {
  const n = Number(v);
  if (!/^\d+$/.test(v.trim()) || (n !== 0 && (n < 64 || n > 65535))) {
    throw new InvalidArgumentError('give the snap length in bytes, a whole number from 64 to 65535 (0: whole packets), e.g. --snaplen 512');
  }
  return n === 0 ? 65535 : n;
}

export function collectPort(v: string, prev: number[] = []): number[] {
  const n = Number(v);
  if (!/^\d{1,5}$/.test(v.trim()) || n < 1 || n > 65535) {
    throw new InvalidArgumentError('give a TCP port 1..65535, e.g. -p 3000 (repeat -p for more ports)');
  }
  return [...prev, n];
}

export function collectHost(v: string, prev: string[] = []): string[] {
  if (isIP(v.trim()) === 0) throw new InvalidArgumentError('give an IPv4 or IPv6 address, e.g. --host 127.0.0.1 (repeat for more)');
  return [...prev, v.trim()];
}

export function parseListenOption(v: string): ListenAddress {
  const r = parseListen(v);
  if (typeof r === 'string') throw new InvalidArgumentError(`${r}; e.g. --listen ${DEFAULT_LISTEN.host}:${DEFAULT_LISTEN.port}`);
  return r;
}

export function parseSpeed(v: string): Speed {
  const t = v.trim().toLowerCase();
  if (t === 'max') return { kind: 'max' };
  if (t === 'realtime') return { kind: 'factor', factor: 1 };
  const n = Number(t.replace(/x$/, ''));
  if (/^\d+(\.\d+)?x?$/.test(t) && n > 0 && n <= 1_000_000) return { kind: 'factor', factor: n };
  throw new InvalidArgumentError("give 'max', 'realtime' or a speed-up factor such as 10 (ten times real time) or 0.5");
}

export function speedText(s: Speed): string {
  return s.kind === 'max' ? 'max' : s.factor === 1 ? 'realtime' : `${s.factor}x`;
}

export function parseEvery(v: string): number {
  const n = Number(v);
  if (!/^\d+(\.\d+)?$/.test(v.trim()) || !(n >= 0.5 && n <= 3600)) {
    throw new InvalidArgumentError('give seconds between 0.5 and 3600, e.g. --every 3');
  }
  return n;
}

/** A duration in seconds, 0.1 to one day. */
export function parseSeconds(v: string): number {
  const n = Number(v);
  if (!/^\d+(\.\d+)?$/.test(v.trim()) || !(n >= 0.1 && n <= 86_400)) {
    throw new InvalidArgumentError('give seconds from 0.1 to 86400, e.g. --close-wait-after 30');
  }
  return n;
}

export function collectPid(v: string, prev: number[] = []): number[] {
  const n = Number(v);
  if (!/^\d{1,10}$/.test(v.trim()) || n < 1 || n > 4_194_304) throw new InvalidArgumentError('give a process id, e.g. --pid 4242 (repeat for more)');
  return [...prev, n];
}

export function collectCommand(v: string, prev: string[] = []): string[] {
  const t = v.trim();
  if (t === '' || t.length > 255 || t.includes('/')) throw new InvalidArgumentError('give a command name as ps shows it, e.g. --command nginx (repeat for more)');
  return [...prev, t];
}

/** Half-open connections to one port at which a SYN flood is diagnosed. */
export function parseSynFlood(v: string): number {
  const n = Number(v);
  if (!/^\d{1,9}$/.test(v.trim()) || n < 1) throw new InvalidArgumentError('give a number of half-open connections, e.g. --syn-flood 100');
  return n;
}

/** The share of the ephemeral port range in TIME_WAIT (one client to one server) at which a pile-up is diagnosed. */
export function parseShare(v: string): number {
  const n = Number(v);
  if (!/^\d*(\.\d+)?$/.test(v.trim()) || !(n > 0 && n <= 1)) throw new InvalidArgumentError('give a share of the ephemeral port range above 0 and at most 1, e.g. --time-wait-pileup 0.5');
  return n;
}

/** The diagnoses' thresholds the command line gives (the rest keep their defaults). */
export function diagnoseThresholds(o: { closeWaitAfter?: number; synFlood?: number; timeWaitPileup?: number }): Partial<DiagnoseOptions> {
  return {
    ...(o.closeWaitAfter !== undefined ? { closeWaitMs: o.closeWaitAfter * 1000 } : {}),
    ...(o.synFlood !== undefined ? { synFlood: o.synFlood } : {}),
    ...(o.timeWaitPileup !== undefined ? { timeWaitShare: o.timeWaitPileup } : {}),
  };
}
