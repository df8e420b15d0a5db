import type { ConnectionView, EndpointNotes } from '../../track/connection';
import { JsonBytes, textScratch, writeAscii, writeDigits, writeIPv4, writePadded, writeUint } from '../../events/json-bytes';
import { FL, N, type ConnFields } from '../../track/record';
import { CONN_STATES, TCP_STATES, type ConnState } from '../../track/states';
import { C, CLOSE_KINDS, CLOSED_BY } from '../../track/store';


const HEAD = ['START (UTC)', 'CLIENT', 'SERVER', 'CLIENT STATE', 'SERVER STATE', 'CONN', 'HISTORY', 'DURATION', 'RTT', 'PKTS c/s', 'BYTES c/s', 'CLOSE'];

/** The date and time of the last whole second clock() wrote: rows come in time order, mostly. */
let clockSecond = NaN;
let clockText = '';

function clock(ms: number): string {
  // Whole microseconds first, so the fraction rounds as the Zeek and JSON outputs do.
  const us = Math.round(ms * 1000);
  return clockPrefix(us) + String(us % 1e6).padStart(6, '0');
}

/** The date and time of the whole second of `us` (microseconds), up to its '.'. */
function clockPrefix(us: number): string {
  const second = Math.floor(us / 1e6);
  if (second !== clockSecond) {
    const iso = new Date(second * 1000).toISOString();
    clockText = `${iso.slice(0, 10)} ${iso.slice(11, 19)}.`;
    clockSecond = second;
  }
  return clockText;
}

/** When the connection was last seen, for its duration. */
function lastAt(c: ConnectionView): number {
  return c.lastSeenAt ?? c.endedAt ?? c.startedAt;
}

/** The CLOSE cell: how and by whom, partial or not, and the processes named. */
function closeText(c: ConnectionView): string {
  return closeCell(c.status !== 'open', c.closeKind, c.closedBy, c.partial) + owners(c);
}

/** The CLOSE cell but the processes: 'open', or how and by whom; ' (partial)' when it is. */
function closeCell(closed: boolean, kind: string | null, by: string | null, partial: boolean): string {
  const close = closed ? `${kind ?? '?'}${by ? ` by ${by}` : ''}` : 'open';
  return close + (partial ? ' (partial)' : '');
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
  return [
    clock(c.startedAt),
    endpoint(c.client.ip, c.client.port),
    endpoint(c.server.ip, c.server.port),
    c.client.state,
    c.server.state,
    c.connState,
    c.history || '-',
    duration(lastAt(c) - c.startedAt),
    c.handshake.rttMs === null ? '-' : duration(c.handshake.rttMs),
    `${c.counts.client.packets}/${c.counts.server.packets}`,
    `${c.counts.client.bytes}/${c.counts.server.bytes}`,
    closeText(c),
  ];
}

/** The processes named for the endpoints (from the file's packet comments), after the close. */
function owners(c: ConnectionView): string {
  return ownersOfNotes(c.client, c.server);
}

/**
 * Each column's width: wide enough for IPv4 endpoints and every state; a longer cell (an IPv6
 * endpoint, a long history) pushes the rest of its line, as `ss` and `ps` do, since rows are
 * written as connections finish, before the widest cell is known.
 */
const WIDTHS = [26, 21, 21, 12, 12, 6, 10, 9, 9, 11, 15];
const WIDTHS_COUNTS = WIDTHS[9] + WIDTHS[10] + 4;

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

/**
 * tableLine() written into `w`, cell by cell, with no cell built first but the durations (toFixed's
 * rounding) and the named processes: the clock's second, addresses, ports, names and counts go in
 * as they are. Padding counts UTF-16 units, as padEnd does.
 */
export function writeTableLine(w: JsonBytes, c: ConnectionView): void {
  w.room(ROW_ROOM + c.client.ip.length + c.server.ip.length + c.history.length);
  let p = clockCell(w.buf, w.pos, c.startedAt);
  p = endpointCell(w.buf, p, c.client.ip, c.client.port, WIDTHS[1]);
  p = endpointCell(w.buf, p, c.server.ip, c.server.port, WIDTHS[2]);
  p = textCell(w.buf, p, c.client.state, WIDTHS[3]);
  p = textCell(w.buf, p, c.server.state, WIDTHS[4]);
  p = textCell(w.buf, p, c.connState, WIDTHS[5]);
  p = textCell(w.buf, p, c.history || '-', WIDTHS[6]);
  w.pos = p;
  const rtt = c.handshake.rttMs;
  timeCells(w, lastAt(c) - c.startedAt, rtt === null ? NaN : rtt);
  const k = c.counts;
  countCells(w, k.client.packets, k.server.packets, k.client.bytes, k.server.bytes);
  cell(w, closeText(c));
  w.byte(0x0a);
}

/** The START cell: the second's text (clock()), then the microseconds; clock() itself out of range. */
function clockCell(b: Uint8Array, p: number, startedAt: number): number {
  const us = Math.round(startedAt * 1000);
  if (us >= 0 && us <= Number.MAX_SAFE_INTEGER) {
    const prefix = clockPrefix(us);
    p = writePadded(b, writeAscii(b, p, prefix), us % 1e6, 6);
    return spaces(b, p, WIDTHS[0] - prefix.length - 6);
  }
  return textCell(b, p, clock(startedAt), WIDTHS[0]);
}

/** The DURATION and RTT cells, at `w.pos` (`rttMs`: NaN for none). */
function timeCells(w: JsonBytes, durationMs: number, rttMs: number): void {
  w.room(2 * DURATION_ROOM);
  const b = w.buf;
  const p = writeDuration(b, w.pos, durationMs, WIDTHS[7]);
  w.pos = Number.isNaN(rttMs) ? textCell(b, p, '-', WIDTHS[8]) : writeDuration(b, p, rttMs, WIDTHS[8]);
}

/** The PKTS and BYTES cells (client/server), at `w.pos`. */
function countCells(w: JsonBytes, packets0: number, packets1: number, bytes0: number, bytes1: number): void {
  w.room(COUNTS_ROOM);
  const b = w.buf;
  let p = w.pos;
  const q = p;
  p = writeDigits(b, p, packets0);
  b[p++] = 0x2f;
  p = writeDigits(b, p, packets1);
  p = spaces(b, p, WIDTHS[9] - (p - q));
  const r = p;
  p = writeDigits(b, p, bytes0);
  b[p++] = 0x2f;
  p = writeDigits(b, p, bytes1);
  w.pos = spaces(b, p, WIDTHS[10] - (p - r));
}

/** The largest closeKind code the store's field holds; those past CLOSE_KINDS' end stand for null, as in the views. */
const KIND_MAX = C.KIND_MASK >>> C.KIND_SHIFT;

/**
 * closeCell() by (closed, closedBy, closeKind, partial) codes (closeCode()), for every
 * combination, made once.
 */
const CLOSE_CELLS: readonly string[] = [false, true].flatMap((closed) =>
  CLOSED_BY.flatMap((by) =>
    Array.from({ length: KIND_MAX + 1 }, (_, k) => k).flatMap((k) => [false, true].map((partial) => closeCell(closed, CLOSE_KINDS[k] ?? null, by, partial))),
  ),
);

function closeCode(f: ConnFields): number {
  const closed = (f.flags & FL.CLOSED) !== 0 ? 1 : 0;
  return ((closed * CLOSED_BY.length + f.closedBy) * (KIND_MAX + 1) + (f.closeKind & KIND_MAX)) * 2 + ((f.flags & FL.PARTIAL) !== 0 ? 1 : 0);
}

/** The processes named in the endpoints' notes, as owners() writes them. */
function ownersOfNotes(client: EndpointNotes | null, server: EndpointNotes | null): string {
  const c = client?.process;
  const s = server?.process;
  if (!c && !s) return '';
  const named: string[] = [];
  if (c) named.push(`client ${c.command || '?'} (pid ${c.pid})`);
  if (s) named.push(`server ${s.command || '?'} (pid ${s.pid})`);
  return `  ${named.join(', ')}`;
}

/**
 * writeTableLine() of the connection whose fields are `f` (ConnFields, as the tracker's store fills
 * them): the same bytes, with no view built. Addresses, states, names, history letters and counts
 * go in from the fields; only the durations (toFixed's rounding), an address that is not IPv4 and
 * named processes are made as text.
 */
export function writeTableFields(w: JsonBytes, f: ConnFields): void {
  const ip0 = f.ip4[0] < 0 ? f.ipText[0] : null;
  const ip1 = f.ip4[1] < 0 ? f.ipText[1] : null;
  w.room(ROW_ROOM + (ip0 === null ? 15 : ip0.length) + (ip1 === null ? 15 : ip1.length) + f.histLen);
  const n = f.num;
  const b = w.buf;
  const startedAt = n[N.startedAt];
  let p = clockCell(b, w.pos, startedAt);
  p = fieldsEndpointCell(b, p, f, 0, ip0, WIDTHS[1]);
  p = fieldsEndpointCell(b, p, f, 1, ip1, WIDTHS[2]);
  p = textCell(b, p, TCP_STATES[f.state[0]], WIDTHS[3]);
  p = textCell(b, p, TCP_STATES[f.state[1]], WIDTHS[4]);
  p = textCell(b, p, CONN_STATES[f.connState], WIDTHS[5]);
  if (f.histLen === 0) p = textCell(b, p, '-', WIDTHS[6]);
  else {
    const h = f.hist;
    for (let i = 0; i < f.histLen; i++) b[p++] = h[i];
    p = spaces(b, p, WIDTHS[6] - f.histLen);
  }
  w.pos = p;
  timeCells(w, n[N.lastSeenAt] - startedAt, n[N.rttMs]);
  countCells(w, n[N.packets0], n[N.packets1], n[N.bytes0], n[N.bytes1]);
  w.ascii(CLOSE_CELLS[closeCode(f)]);
  if (f.notes[0] !== null || f.notes[1] !== null) cell(w, ownersOfNotes(f.notes[0], f.notes[1]));
  w.byte(0x0a);
}

/** writeTableFields()'s row as text (for a row the record thread cannot take packed). */
export function tableFieldsText(f: ConnFields): string {
  return textScratch.textOf(writeTableFields, f);
}

/**
 * duration()'s text as a padded cell: the integer nearest to the value scaled as toFixed scales it
 * (×1000 then 0 decimals, 1 decimal, or ÷1000 then 2), written as digits. Computed below 2^51, the
 * scaled value is within 0.125 of its exact value (toFixed's); when it is also within 0.25 of an
 * integer, that integer is toFixed's. Anything else (ties, huge or negative values, NaN) goes through
 * duration() itself. Its padding counts UTF-16 units, as padEnd does: 'µs' is two, its bytes three.
 */
function writeDuration(b: Uint8Array, p: number, ms: number, width: number): number {
  if (ms >= 0) {
    if (ms < 1) {
      const y = ms * 1000;
      const n = Math.round(y);
      if (Math.abs(y - n) < 0.25) {
        const q = p;
        p = writeUint(b, p, n);
        const chars = p - q + 2;
        b[p++] = 0xc2; // µ
        b[p++] = 0xb5;
        b[p++] = 0x73; // s
        return spaces(b, p, width - chars);
      }
    } else if (ms < 1000) {
      const y = ms * 10;
      const n = Math.round(y);
      if (Math.abs(y - n) < 0.25) {
        const q = p;
        const whole = (n / 10) | 0;
        p = writeUint(b, p, whole);
        b[p++] = 0x2e;
        b[p++] = 0x30 + (n - 10 * whole);
        b[p++] = 0x6d; // ms
        b[p++] = 0x73;
        return spaces(b, p, width - (p - q));
      }
    } else {
      const y = (ms / 1000) * 100;
      const n = Math.round(y);
      if (y < 2 ** 51 && Math.abs(y - n) < 0.25) {
        const q = p;
        const whole = Math.floor(n / 100);
        p = writeDigits(b, p, whole);
        b[p++] = 0x2e;
        p = writePadded(b, p, n - 100 * whole, 2);
        b[p++] = 0x73; // s
        return spaces(b, p, width - (p - q));
      }
    }
  }
  const t = duration(ms);
  for (let i = 0; i < t.length; i++) {
    const ch = t.charCodeAt(i);
    if (ch === 0xb5) {
      b[p++] = 0xc2;
      b[p++] = 0xb5;
    } else b[p++] = ch;
  }
  return spaces(b, p, width - t.length);
}

/** endpointCell() of one side's address and port in `f` (`text`: its address when not IPv4). */
function fieldsEndpointCell(b: Uint8Array, p: number, f: ConnFields, side: 0 | 1, text: string | null, width: number): number {
  if (text !== null) return endpointCell(b, p, text, f.num[side === 0 ? N.port0 : N.port1], width);
  const q = p;
  p = writeIPv4(b, p, f.ip4[side]);
  b[p++] = 0x3a;
  p = writeUint(b, p, f.num[side === 0 ? N.port0 : N.port1]);
  return spaces(b, p, width - (p - q));
}

/** Room for a row's first seven cells but its addresses and history: their widths, a clock, the spaces. */
const ROW_ROOM = 192;
/** Room for a duration's cell: toFixed's text below 1e21 (22 digits, a point, 2 decimals, a unit of 3 bytes) and its padding. */
const DURATION_ROOM = 28 + 9 + 2;
/** Room for the counts' cells: four counts below 2^53, two slashes, the padding. */
const COUNTS_ROOM = 4 * 16 + 2 + WIDTHS_COUNTS;

/** Pads to `width` and adds the two spaces between columns. */
function spaces(b: Uint8Array, p: number, short: number): number {
  const n = Math.max(0, short) + 2;
  for (let i = 0; i < n; i++) b[p++] = 0x20;
  return p;
}

/** ASCII text (addresses, states, names, Zeek's letters) as a padded cell. */
function textCell(b: Uint8Array, p: number, s: string, width: number): number {
  return spaces(b, writeAscii(b, p, s), width - s.length);
}

/** ip:port, or [ip]:port for IPv6, as a padded cell. */
function endpointCell(b: Uint8Array, p: number, ip: string, port: number, width: number): number {
  const q = p;
  const v6 = ip.includes(':');
  if (v6) b[p++] = 0x5b;
  p = writeAscii(b, p, ip);
  if (v6) b[p++] = 0x5d;
  b[p++] = 0x3a;
  p = writeUint(b, p, port);
  return spaces(b, p, width - (p - q));
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

  add(c: Pick<ConnectionView, 'connState' | 'status'>): void {
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
