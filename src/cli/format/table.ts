import type { ConnectionView } from '../../track/connection';
import type { JsonBytes } from '../../events/json-bytes';
import { CONN_STATES, type ConnState } from '../../track/states';

const HEAD = ['START (UTC)', 'CLIENT', 'SERVER', 'CLIENT STATE', 'SERVER STATE', 'CONN', 'HISTORY', 'DURATION', 'RTT', 'PKTS c/s', 'BYTES c/s', 'CLOSE'];

/** The date and time of the last whole second clock() wrote: rows come in time order, mostly. */
let clockSecond = NaN;
let clockText = '';

function clock(ms: number): string {
  // Whole microseconds first, so the fraction rounds as the Zeek and JSON outputs do.
  const us = Math.round(ms * 1000);
  const second = Math.floor(us / 1e6);
  if (second !== clockSecond) {
    const iso = new Date(second * 1000).toISOString();
    clockText = `${iso.slice(0, 10)} ${iso.slice(11, 19)}.`;
    clockSecond = second;
  }
  return clockText + String(us % 1e6).padStart(6, '0');
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
    close + (c.partial ? ' (partial)' : '') + owners(c),
  ];
}

/** The processes named for the endpoints (from the file's packet comments), after the close. */
function owners(c: ConnectionView): string {
  const name = (side: 'client' | 'server') => {
    const p = c[side].process;
    return p ? `${side} ${p.command || '?'} (pid ${p.pid})` : null;
  };
  const named = [name('client'), name('server')].filter((x) => x !== null);
  return named.length ? `  ${named.join(', ')}` : '';
}

/**
 * Each column's width: wide enough for IPv4 endpoints and every state; a longer cell (an IPv6
 * endpoint, a long history) pushes the rest of its line, as `ss` and `ps` do, since rows are
 * written as connections finish, before the widest cell is known.
 */
const WIDTHS = [26, 21, 21, 12, 12, 6, 10, 9, 9, 11, 15];

function line(cells: readonly string[]): string {
  let out = '';
  for (let i = 0; i < cells.length; i++) {
    if (i === cells.length - 1) return out + cells[i] + '\n';
    out += cells[i].padEnd(WIDTHS[i]) + '  ';
  }
  return out + '\n';
}

export function tableHeader(): string {
  return line(HEAD);
}

/** One connection's line, for people reading a terminal. */
export function tableLine(c: ConnectionView): string {
  return line(tableRow(c));
}

/** tableLine() written into `w`, cell by cell, with no line built first. */
export function writeTableLine(w: JsonBytes, c: ConnectionView): void {
  const cells = tableRow(c);
  const last = cells.length - 1;
  for (let i = 0; i < last; i++) {
    const s = cells[i];
    cell(w, s);
    // as padEnd pads: to the width in UTF-16 units, then the two spaces between columns
    const pad = Math.max(0, WIDTHS[i] - s.length) + 2;
    w.room(pad);
    for (let k = 0; k < pad; k++) w.buf[w.pos++] = 0x20;
  }
  cell(w, cells[last]);
  w.byte(0x0a);
}

/** A cell's text: ASCII as it is, anything else (µs, a command's name) through UTF-8. */
function cell(w: JsonBytes, s: string): void {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return w.text(s);
  w.ascii(s);
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
export class TableSummary {
  private readonly by = new Map<ConnState, number>();
  private total = 0;
  private open = 0;

  add(c: ConnectionView): void {
    this.by.set(c.connState, (this.by.get(c.connState) ?? 0) + 1);
    this.total++;
    if (c.status === 'open') this.open++;
  }

  text(): string {
    const { by, total, open } = this;
    let out = `\n${total} connection${total === 1 ? '' : 's'} (${open} open, ${total - open} closed)\n`;
    const present = CONN_STATES.filter((s) => by.has(s));
    if (present.length) {
      const w = String(Math.max(...present.map((s) => by.get(s)!))).length;
      out += 'by conn_state:\n';
      for (const s of present) out += `  ${s.padEnd(6)} ${String(by.get(s)).padStart(w)}  ${CONN_STATE_MEANING[s]}\n`;
    }
    return out;
  }
}
