import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { TcpState } from '../track/states';
import type { KernelSocket } from './proc-tcp';

// iproute2's ss reads the kernel's sock_diag netlink interface, which filters in the kernel (a
// port filter costs the kernel only the matching sockets, where /proc/net/tcp prints every one)
// and has what /proc/net/tcp lacks: a listener's backlog (its Send-Q) and tcp_info.

/** Kernel tcp_info of one connected socket, as `ss -ti` prints it. */
export interface TcpInfo {
  /** Smoothed RTT and its variance, ms. */
  srttMs: number | null;
  rttVarMs: number | null;
  /** Segments retransmitted now / in all. */
  retrans: number;
  retransTotal: number;
  cwnd: number | null;
}

export interface SsRow extends KernelSocket {
  /** Recv-Q and Send-Q; for a listener, connections waiting for accept() and the backlog. */
  recvQ: number;
  sendQ: number;
  info: TcpInfo | null;
}

const SS_STATES: Record<string, TcpState> = {
  ESTAB: 'ESTABLISHED',
  'SYN-SENT': 'SYN_SENT',
  'SYN-RECV': 'SYN_RECEIVED',
  'FIN-WAIT-1': 'FIN_WAIT_1',
  'FIN-WAIT-2': 'FIN_WAIT_2',
  'TIME-WAIT': 'TIME_WAIT',
  CLOSE: 'CLOSED',
  UNCONN: 'CLOSED',
  'CLOSE-WAIT': 'CLOSE_WAIT',
  'LAST-ACK': 'LAST_ACK',
  LISTEN: 'LISTEN',
  CLOSING: 'CLOSING',
};

/** `127.0.0.1:80`, `[::1]:80`, `[fe80::1]%lo:22`, `*:80`, `0.0.0.0:*` */
function hostPort(t: string): { ip: string; port: number; family: 4 | 6 } | null {
  const colon = t.lastIndexOf(':');
  if (colon < 0) return null;
  const p = t.slice(colon + 1);
  const port = p === '*' ? 0 : Number(p);
  if (!Number.isInteger(port)) return null;
  let ip = t.slice(0, colon);
  const pct = ip.indexOf('%');
  if (pct >= 0) ip = ip.slice(0, pct);
  if (ip.startsWith('[')) return { ip: ip.slice(1, ip.indexOf(']')), port, family: 6 };
  if (ip === '*') return { ip: '0.0.0.0', port, family: 4 };
  return { ip, port, family: ip.includes(':') ? 6 : 4 };
}

/**
 * Parses `ss -H -t -a -n -e [-i]` output: a socket line (state, Recv-Q, Send-Q, local, peer, then
 * words such as uid:N ino:N), and with -i a tab-indented line of tcp_info after it. Lines of
 * another shape are skipped.
 */
export function parseSs(text: string, onlyState?: TcpState): SsRow[] {
  const out: SsRow[] = [];
  let last: SsRow | null = null;
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    if (line.charCodeAt(0) === 9 || line.charCodeAt(0) === 32) {
      if (last) last.info = parseInfo(line);
      continue;
    }
    last = null;
    const f = line.split(/\s+/);
    // asked for one state (`state time-wait`), ss leaves the State column out
    if (onlyState) f.unshift('');
    const state = onlyState ?? SS_STATES[f[0]];
    const recvQ = Number(f[1]);
    const sendQ = Number(f[2]);
    const local = hostPort(f[3] ?? '');
    const peer = hostPort(f[4] ?? '');
    if (!state || !local || !peer || !Number.isFinite(recvQ) || !Number.isFinite(sendQ)) continue;
    let inode = 0;
    let uid = 0;
    for (let i = 5; i < f.length; i++) {
      if (f[i].startsWith('ino:')) inode = Number(f[i].slice(4)) || 0;
      else if (f[i].startsWith('uid:')) uid = Number(f[i].slice(4)) || 0;
    }
    last = {
      family: local.family,
      localIp: local.ip,
      localPort: local.port,
      remoteIp: peer.ip,
      remotePort: peer.port,
      state,
      txQueue: state === 'LISTEN' ? 0 : sendQ,
      rxQueue: recvQ,
      uid,
      inode,
      recvQ,
      sendQ,
      info: null,
    };
    out.push(last);
  }
  return out;
}

function parseInfo(line: string): TcpInfo {
  const rtt = /\brtt:([\d.]+)\/([\d.]+)/.exec(line);
  const retrans = /\bretrans:(\d+)\/(\d+)/.exec(line);
  const cwnd = /\bcwnd:(\d+)/.exec(line);
  return {
    srttMs: rtt ? Number(rtt[1]) : null,
    rttVarMs: rtt ? Number(rtt[2]) : null,
    retrans: retrans ? Number(retrans[1]) : 0,
    retransTotal: retrans ? Number(retrans[2]) : 0,
    cwnd: cwnd ? Number(cwnd[1]) : null,
  };
}

/** ss's filter for sockets with one of these ports on either end; null (everything) for too many to spell. */
export function portFilter(ports: readonly number[]): string[] | null {
  if (ports.length === 0 || ports.length > 64) return null;
  return ['(', ports.map((p) => `sport = :${p} or dport = :${p}`).join(' or '), ')'];
}

/**
 * Runs ss in the namespace of `nsPid` (null: our own) and parses it. null when ss is missing or
 * fails (then the caller reads /proc instead).
 */
export function runSs(args: string[], nsPid: number | null, onlyState?: TcpState, nice = true): SsRow[] | null {
  const cmd = nsPid === null ? ['ss', ...args] : ['nsenter', `--net=/proc/${nsPid}/ns/net`, 'ss', ...args];
  if (nice && niced) {
    const rows = run(['nice', '-n', '19', ...cmd], onlyState);
    if (rows !== 'missing') return rows;
    niced = false;
  }
  const rows = run(cmd, onlyState);
  return rows === 'missing' ? null : rows;
}

/**
 * ss runs at the lowest priority (nice 19), so its walk of the kernel's tables takes only what
 * the capture process, tcpscope's main thread and the programs being watched leave over. The
 * process that starts it keeps its own priority: a fork holds the lock of tcpscope's whole memory
 * map while it copies it, and a thread at nice 19 holding it could stall the main thread on a busy
 * machine. Without `nice` on the PATH, ss runs at tcpscope's priority.
 */
let niced = true;

function run(argv: string[], onlyState?: TcpState): SsRow[] | null | 'missing' {
  try {
    // only PATH: copying the whole environment for each run costs more than the run's own setup
    const text = execFileSync(argv[0], argv.slice(1), { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, stdio: ['ignore', 'pipe', 'ignore'], env: { PATH: process.env.PATH } });
    return parseSs(text, onlyState);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ENOENT' && argv[0] === 'nice' ? 'missing' : null;
  }
}

/** What one `ss` run gave: its output (null when it failed), and its CPU time, ms (in clock ticks of 10 ms). */
export interface SsOutput {
  text: string | null;
  cpuMs: number;
}

/** The line the helper writes after each run: `@@ STATUS`. ss never starts a line with `@`. */
const END = /\n@@ (\d+)\n$/;

/**
 * A small shell, started once at nice 19, that runs `ss` for the scanning thread. Started from
 * tcpscope, every `ss` run is a fork of the whole Node process (libuv's spawn forks; a few hundred
 * MiB resident under load): the copy of its page tables, then a page fault in tcpscope's threads
 * for each page they write again — measured (`node bench/sockets.mjs --fork-cost`, a 421 MiB
 * process) at 10.7 ms of its CPU and 4 881 page faults a run against 1.4 ms and 7 through a shell
 * (BENCHMARKS.md, "The socket tables at fixed rates (2026-12-07)"). The shell's forks
 * are small, and its ss children inherit its priority. It reads its commands from a pipe: when
 * tcpscope ends, however it ends, the pipe closes and the shell exits.
 */
export class SsHelper {
  private readonly child: ChildProcess;
  private buf = '';
  private waiting: ((status: number | null) => void) | null = null;
  /** false once it failed to start or ended: the caller runs ss itself. */
  alive = true;

  private constructor(argv: string[]) {
    this.child = spawn(argv[0], argv.slice(1), { stdio: ['pipe', 'pipe', 'ignore'], env: { PATH: process.env.PATH } });
    const end = () => {
      this.alive = false;
      this.waiting?.(null);
      this.waiting = null;
    };
    this.child.on('error', end);
    this.child.on('exit', end);
    this.child.stdin?.on('error', end);
    this.child.stdout?.setEncoding('utf8');
    this.child.stdout?.on('data', (d: string) => {
      this.buf += d;
      // the end line is the last thing a run writes: only the tail is looked at
      const tail = this.buf.slice(-24);
      const m = END.exec(tail);
      if (m && this.waiting) {
        const w = this.waiting;
        this.waiting = null;
        this.buf = this.buf.slice(0, this.buf.length - tail.length + m.index + 1);
        w(Number(m[1]));
      }
    });
  }

  /** The shell's pid (undefined when it could not be started). */
  get pid(): number | undefined {
    return this.child.pid;
  }

  /** A helper at nice 19 (at tcpscope's priority without `nice` on the PATH). */
  static start(): SsHelper {
    return new SsHelper(['sh', '-c', 'if command -v nice >/dev/null 2>&1; then exec nice -n 19 sh; else exec sh; fi']);
  }

  /** Runs ss with these arguments (in our own namespace). */
  async run(args: readonly string[]): Promise<SsOutput> {
    if (!this.alive || this.waiting) return { text: null, cpuMs: 0 };
    const pid = this.child.pid;
    const before = pid === undefined ? 0 : reapedCpuMs(pid);
    this.buf = '';
    const status = await new Promise<number | null>((resolve) => {
      this.waiting = resolve;
      // the arguments are tcpscope's own (states, ports, filter words): quoted whole for the shell
      this.child.stdin?.write(`ss ${args.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ')} </dev/null 2>/dev/null; printf '\\n@@ %d\\n' $?\n`);
    });
    const text = status === 0 ? this.buf : null;
    this.buf = '';
    return { text, cpuMs: pid === undefined ? 0 : Math.max(0, reapedCpuMs(pid) - before) };
  }

  /** Ends the shell; resolves once it has exited (at most 5 s: a killed shell exits at once, its exit is seen when this thread's loop runs). */
  async close(): Promise<void> {
    this.alive = false;
    if (this.child.exitCode !== null || this.child.signalCode !== null || this.child.pid === undefined) return;
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, 5000);
      this.child.once('exit', () => {
        clearTimeout(t);
        resolve();
      });
      this.child.stdin?.end();
      this.child.kill();
    });
  }
}

/** CPU time of the children a process has waited for (cutime + cstime of /proc/PID/stat), ms. */
export function reapedCpuMs(pid: number | 'self', root = '/proc'): number {
  let t: string;
  try {
    t = readFileSync(`${root}/${pid}/stat`, 'latin1');
  } catch {
    return 0;
  }
  const f = t.slice(t.lastIndexOf(')') + 2).split(' ');
  // fields 16 and 17 (cutime, cstime); f[0] is field 3
  const ticks = Number(f[13]) + Number(f[14]);
  return Number.isFinite(ticks) ? ticks * 10 : 0;
}
