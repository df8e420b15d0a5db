import type { ConnectionView } from '../../track/connection';
import { CONN_STATES, type ConnState } from '../../track/states';

const HEAD = ['START (UTC)', 'CLIENT', 'SERVER', 'CLIENT STATE', 'SERVER STATE', 'CONN', 'HISTORY', 'DURATION', 'RTT', 'PKTS c/s', 'BYTES c/s', 'CLOSE'];

function clock(ms: number): string {
  // Whole microseconds first, so the fraction rounds as the Zeek and JSON outputs do.
  const us = Math.round(ms * 1000);
  const iso = new Date(Math.floor(us / 1e6) * 1000).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}.${String(us % 1e6).padStart(6, '0')}`;
}

function endpoint(ip: string, port: number): string {
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
}

function duration(ms: number): string {
  if (ms < 1) return `${(ms * 1000).toFixed(0)}µs`;
  if (ms < 1000) return `${ms.toFixed(1)}ms`;
  return `${(ms / 1000).toFixed(2)}s`;
}

export function tableRow(c: ConnectionView): string[] {
  const last = c.lastSeenAt ?? c.endedAt ?? c.startedAt;
  const close = c.status === 'open' ? 'open' : `${c.closeKind ?? '?'}${c.closedBy ? ` by ${c.closedBy}` : ''}`;
  return [
    clock(c.startedAt),
    endpoint(c.client.ip, c.client.port),
    endpoint(c.server.ip, c.server.port),
    c.client.state,
    c.server.state,
    c.connState,
    c.history || '-',
    duration(last - c.startedAt),
    c.handshake.rttMs === null ? '-' : duration(c.handshake.rttMs),
    `${c.counts.client.packets}/${c.counts.server.packets}`,
    `${c.counts.client.bytes}/${c.counts.server.bytes}`,
    close + (c.partial ? ' (partial)' : ''),
  ];
}

/** Columns padded to their widest cell, for people reading a terminal. */
export function renderTable(rows: string[][]): string {
  const all = [HEAD, ...rows];
  const widths = HEAD.map((_, i) => Math.max(...all.map((r) => r[i].length)));
  return all.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]))).join('  ')).join('\n') + '\n';
}

/** Zeek's own one-line meanings of conn_state. */
const CONN_STATE_MEANING: Record<ConnState, string> = {
  S0: 'connection attempt seen, no reply',
  S1: 'established, not terminated',
  SF: 'normal establishment and termination',
  REJ: 'connection attempt rejected',
  S2: 'established, close attempt by originator seen (no reply)',
  S3: 'established, close attempt by responder seen (no reply)',
  RSTO: 'established, originator aborted (RST)',
  RSTR: 'responder sent a RST',
  RSTOS0: 'originator sent a SYN then a RST, no SYN+ACK seen',
  RSTRH: 'responder sent a SYN+ACK then a RST, no SYN seen',
  SH: 'originator sent a SYN then a FIN, no SYN+ACK seen',
  SHR: 'responder sent a SYN+ACK then a FIN, no SYN seen',
  OTH: 'no SYN seen, just midstream traffic',
};

/** The closing summary: totals and how many connections ended in each Zeek conn_state. */
export function tableSummary(conns: readonly ConnectionView[]): string {
  const by = new Map<ConnState, number>();
  let open = 0;
  for (const c of conns) {
    by.set(c.connState, (by.get(c.connState) ?? 0) + 1);
    if (c.status === 'open') open++;
  }
  let out = `\n${conns.length} connection${conns.length === 1 ? '' : 's'} (${open} open, ${conns.length - open} closed)\n`;
  const present = CONN_STATES.filter((s) => by.has(s));
  if (present.length) {
    const w = String(Math.max(...present.map((s) => by.get(s)!))).length;
    out += 'by conn_state:\n';
    for (const s of present) out += `  ${s.padEnd(6)} ${String(by.get(s)).padStart(w)}  ${CONN_STATE_MEANING[s]}\n`;
  }
  return out;
}
