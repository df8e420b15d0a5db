import { execFileSync } from 'node:child_process';

// iproute2's ss reads the kernel's sock_diag netlink interface, which has what /proc/net/tcp lacks:
// a listener's backlog (its Send-Q) and tcp_info (the kernel's smoothed RTT, retransmits, cwnd).

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

export interface SsRow {
  inode: number;
  local: string;
  peer: string;
  /** For a listener: connections waiting for accept(), and the backlog. */
  recvQ: number;
  sendQ: number;
  info: TcpInfo | null;
}

/**
 * Parses `ss -H -t -n -e [-i]` output: a socket line (state, Recv-Q, Send-Q, local, peer, then
 * key:value words with ino:N), and with -i a tab-indented line of tcp_info after it.
 */
export function parseSs(text: string): SsRow[] {
  const out: SsRow[] = [];
  let last: SsRow | null = null;
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    if (line.charCodeAt(0) === 9 || line.charCodeAt(0) === 32) {
      if (last) last.info = parseInfo(line);
      continue;
    }
    const f = line.split(/\s+/);
    const ino = f.find((w) => w.startsWith('ino:'));
    const recvQ = Number(f[1]);
    const sendQ = Number(f[2]);
    if (f.length < 5 || !ino || !Number.isFinite(recvQ) || !Number.isFinite(sendQ)) {
      last = null;
      continue;
    }
    last = { inode: Number(ino.slice(4)), local: f[3], peer: f[4], recvQ, sendQ, info: null };
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

/**
 * Runs ss in the namespace of `nsPid` (null: our own) and parses it. null when ss is missing or
 * fails (then the fields it gives are unknown, nothing else is lost).
 */
export function runSs(args: string[], nsPid: number | null): SsRow[] | null {
  try {
    const text =
      nsPid === null
        ? execFileSync('ss', args, { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, stdio: ['ignore', 'pipe', 'ignore'] })
        : execFileSync('nsenter', [`--net=/proc/${nsPid}/ns/net`, 'ss', ...args], {
            encoding: 'utf8',
            maxBuffer: 256 * 1024 * 1024,
            stdio: ['ignore', 'pipe', 'ignore'],
          });
    return parseSs(text);
  } catch {
    return null;
  }
}
