import type { ConnectionView, EndpointView } from '../track/connection';
import { LIT_PAD, NUMBER_MAX, lit as bytes, writeLit, writeNumber, type Lit } from './json-bytes';
import { EVENT_TYPES, type ConnectionEvent, type TcpEvent } from './types';

/**
 * The wire form of one event for the /ws stream (protocol 3), written field by field from the
 * event instead of through JSON.stringify: the same text JSON.stringify gives for every event type
 * but `connection`, in a fraction of the time (BENCHMARKS.md, the live path per connection).
 *
 * A `connection` event carries a summary of the connection (see ConnectionSummary), not the whole
 * Connection: at ~850-940 bytes the whole one made the two connection events of a short
 * connection half of its stream. The rest is one request away (GET /api/connections/:id).
 *
 * Strings the tracker takes from its own name lists (sides, states, phases, kinds, flag letters)
 * need no escaping; the others (ids, addresses, history, an anomaly's detail) go through
 * JSON.stringify when they hold anything that would need it.
 */
export function eventJson(e: TcpEvent): string {
  const head = `{"type":"${e.type}","connectionId":${str(e.connectionId)},"ts":${num(e.ts)}`;
  switch (e.type) {
    case 'state': {
      const c = e.cause;
      const cause = c === null ? 'null' : `{"flags":"${c.flags}","seq":${c.seq},"ack":${c.ack},"len":${c.len}}`;
      return `${head},"side":"${e.side}","from":"${e.from}","to":"${e.to}","cause":${cause}}`;
    }
    case 'handshake': {
      let t = `${head},"phase":"${e.phase}"`;
      if (e.rttMs !== undefined) t += `,"rttMs":${num(e.rttMs)}`;
      if (e.synToSynAckMs !== undefined) t += `,"synToSynAckMs":${num(e.synToSynAckMs)}`;
      if (e.synAckToAckMs !== undefined) t += `,"synAckToAckMs":${num(e.synAckToAckMs)}`;
      return t + '}';
    }
    case 'teardown':
      return `${head},"phase":"${e.phase}","kind":"${e.kind}"${e.side === undefined ? '' : `,"side":"${e.side}"`}}`;
    case 'reset':
      return `${head},"side":"${e.side}"}`;
    case 'refused':
      return head + '}';
    case 'anomaly':
      return `${head},"kind":"${e.kind}","side":"${e.side}"${e.detail === undefined ? '' : `,"detail":${str(e.detail)}`}}`;
    case 'connection':
      return `${head},"phase":"${e.phase}"${e.connection === undefined ? '' : `,"connection":${summaryJson(e)}`}}`;
  }
}

/**
 * What a `connection` event says of its connection on the stream: where it runs and how it stands
 * after the event. Always: the endpoints (`ip`, `port`, `state`), `status`, `connState`, `history`,
 * `partial`, `rolesGuessed`, `captureGap`, `startedAt`; `closed` and `evicted` add how it ended:
 * `closedBy`, `closeKind`, `endedAt`, the handshake's `rttMs` and the `counts`. The field names
 * and meanings are the Connection's.
 */
export type ConnectionSummary = Pick<ConnectionView, 'status' | 'connState' | 'history' | 'partial' | 'rolesGuessed' | 'captureGap' | 'startedAt'> & {
  client: Pick<EndpointView, 'ip' | 'port' | 'state'>;
  server: Pick<EndpointView, 'ip' | 'port' | 'state'>;
} & Partial<Pick<ConnectionView, 'closedBy' | 'closeKind' | 'endedAt' | 'counts'> & { rttMs: number | null }>;

/** The summary as an object (what the stream's text parses to), for tests and other writers. */
export function connectionSummary(phase: ConnectionEvent['phase'], c: ConnectionView): ConnectionSummary {
  const s: ConnectionSummary = {
    client: { ip: c.client.ip, port: c.client.port, state: c.client.state },
    server: { ip: c.server.ip, port: c.server.port, state: c.server.state },
    status: c.status,
    connState: c.connState,
    history: c.history,
    partial: c.partial,
    rolesGuessed: c.rolesGuessed,
    captureGap: c.captureGap,
    startedAt: c.startedAt,
  };
  if (phase === 'opened') return s;
  return {
    ...s,
    closedBy: c.closedBy,
    closeKind: c.closeKind,
    endedAt: c.endedAt,
    rttMs: c.handshake.rttMs,
    counts: { client: { ...c.counts.client }, server: { ...c.counts.server } },
  };
}

function summaryJson(e: ConnectionEvent): string {
  const c = e.connection!;
  const a = c.client;
  const b = c.server;
  const t =
    `{"client":{"ip":${str(a.ip)},"port":${a.port},"state":"${a.state}"},"server":{"ip":${str(b.ip)},"port":${b.port},"state":"${b.state}"}` +
    `,"status":"${c.status}","connState":"${c.connState}","history":${str(c.history)},"partial":${c.partial},"rolesGuessed":${c.rolesGuessed},"captureGap":${c.captureGap},"startedAt":${num(c.startedAt)}`;
  if (e.phase === 'opened') return t + '}';
  const n = c.counts;
  return (
    t +
    `,"closedBy":${c.closedBy === null ? 'null' : `"${c.closedBy}"`}` +
    `,"closeKind":${c.closeKind === null ? 'null' : `"${c.closeKind}"`},"endedAt":${num(c.endedAt)},"rttMs":${num(c.handshake.rttMs)}` +
    `,"counts":{"client":{"packets":${n.client.packets},"bytes":${n.client.bytes}},"server":{"packets":${n.server.packets},"bytes":${n.server.bytes}}}}`
  );
}

/** A number as JSON writes it (NaN and ±Infinity become null). */
function num(n: number | null): string {
  return n !== null && Number.isFinite(n) ? String(n) : 'null';
}

/** A string as JSON writes it; plain ones (the usual ids, addresses, history letters) without a call. */
function str(s: string): string {
  for (let i = 0; i < s.length; i++) {
    const ch = s.charCodeAt(i);
    if (ch < 0x20 || ch === 0x22 || ch === 0x5c || ch > 0x7e) return JSON.stringify(s);
  }
  return `"${s}"`;
}

// ------------------------------------------------------------------------------------------------
// The same text, written as bytes straight into a buffer (the stream's ring, src/server/ws-ring.ts):
// no intermediate strings, not even for a fractional number (json-bytes writes its digits), so a
// busy stream makes next to no garbage. eventJson is the reference it is tested against.

/**
 * The text between an event's values at its longest (a closed connection's event with the longest
 * names is ~430 bytes), and how many numbers an event carries at most (the connection event's ten).
 */
const EVENT_TEXT_MAX = 480;
const EVENT_NUMBERS_MAX = 10;

/**
 * Bytes writeEvent may need for `e`: a bound, not the size: its text, every number at its longest,
 * the last word of a prepared text (LIT_PAD), and each string at six bytes a character (escaped).
 */
export function maxEventBytes(e: TcpEvent): number {
  let n = EVENT_TEXT_MAX + EVENT_NUMBERS_MAX * NUMBER_MAX + LIT_PAD + 6 * e.connectionId.length;
  if (e.type === 'anomaly' && e.detail !== undefined) n += 6 * e.detail.length;
  if (e.type === 'connection' && e.connection !== undefined) {
    const c = e.connection;
    n += 6 * (c.client.ip.length + c.server.ip.length + c.history.length);
  }
  return n;
}

let B: Buffer = Buffer.alloc(0);
/**
 * `B` as words, for the keys' text (writeLit); made again only when the buffer changes. `B` and the
 * view keep the last buffer written to (one ring chunk) until the next event: made per event, the
 * view would cost more than the chunk held.
 */
let DV = new DataView(B.buffer, 0, 0);
let DV_OF: Buffer | null = null;
let O = 0;

/**
 * Writes eventJson(e)'s text into `buf` at `off` (which must have maxEventBytes(e) free) and
 * returns the offset after it. The keys' text is copied in 8-byte words, so up to LIT_PAD (json-bytes)
 * bytes after the text's end may be written too (spaces), within the bound.
 */
export function writeEvent(e: TcpEvent, buf: Buffer, off: number): number {
  B = buf;
  if (buf !== DV_OF) {
    DV_OF = buf;
    DV = new DataView(buf.buffer, buf.byteOffset, buf.length);
  }
  O = off;
  lit(TYPE_HEAD[e.type]);
  wstr(e.connectionId);
  lit(TS);
  // digits straight into the buffer (no string per packet)
  ONE[0] = e.ts;
  O = writeNumber(B, O, ONE, 0);
  switch (e.type) {
    case 'state': {
      lit(SIDE);
      ascii(e.side);
      lit(FROM);
      ascii(e.from);
      lit(TO);
      ascii(e.to);
      const c = e.cause;
      if (c === null) lit(CAUSE_NULL);
      else {
        lit(CAUSE_FLAGS);
        ascii(c.flags);
        lit(CAUSE_SEQ);
        wnum(c.seq);
        lit(CAUSE_ACK);
        wnum(c.ack);
        lit(CAUSE_LEN);
        wnum(c.len);
        B[O++] = 0x7d;
      }
      break;
    }
    case 'handshake':
      quoted(PHASE, e.phase);
      if (e.rttMs !== undefined) {
        lit(RTT);
        wnum(e.rttMs);
      }
      if (e.synToSynAckMs !== undefined) {
        lit(SYN_SYNACK);
        wnum(e.synToSynAckMs);
      }
      if (e.synAckToAckMs !== undefined) {
        lit(SYNACK_ACK);
        wnum(e.synAckToAckMs);
      }
      break;
    case 'teardown':
      quoted(PHASE, e.phase);
      quoted(KIND, e.kind);
      if (e.side !== undefined) {
        quoted(SIDE, e.side);
      }
      break;
    case 'reset':
      quoted(SIDE, e.side);
      break;
    case 'refused':
      break;
    case 'anomaly':
      quoted(KIND, e.kind);
      quoted(SIDE, e.side);
      if (e.detail !== undefined) {
        lit(DETAIL);
        wstr(e.detail);
      }
      break;
    case 'connection':
      quoted(PHASE, e.phase);
      if (e.connection !== undefined) summary(e);
      break;
  }
  B[O++] = 0x7d;
  return O;
}

function summary(e: ConnectionEvent): void {
  const c = e.connection!;
  lit(S_CLIENT_IP);
  wstr(c.client.ip);
  lit(S_PORT);
  wnum(c.client.port);
  lit(S_STATE);
  ascii(c.client.state);
  lit(S_SERVER_IP);
  wstr(c.server.ip);
  lit(S_PORT);
  wnum(c.server.port);
  lit(S_STATE);
  ascii(c.server.state);
  lit(S_STATUS);
  ascii(c.status);
  lit(S_CONNSTATE);
  ascii(c.connState);
  lit(S_HISTORY);
  wstr(c.history);
  lit(S_PARTIAL);
  bool(c.partial);
  lit(S_ROLES);
  bool(c.rolesGuessed);
  lit(S_GAP);
  bool(c.captureGap);
  lit(S_STARTED);
  wnum(c.startedAt);
  if (e.phase !== 'opened') {
    lit(S_CLOSEDBY);
    nameOrNull(c.closedBy);
    lit(S_CLOSEKIND);
    nameOrNull(c.closeKind);
    lit(S_ENDED);
    wnum(c.endedAt);
    lit(RTT);
    wnum(c.handshake.rttMs);
    const n = c.counts;
    lit(S_COUNTS_C);
    wnum(n.client.packets);
    lit(S_BYTES);
    wnum(n.client.bytes);
    lit(S_COUNTS_S);
    wnum(n.server.packets);
    lit(S_BYTES);
    wnum(n.server.bytes);
    lit(S_COUNTS_END);
  }
  B[O++] = 0x7d;
}


function lit(k: Lit): void {
  O = writeLit(B, DV, O, k);
}

/** A key whose text ends in an opening quote, then a name from the tracker's lists, then the closing quote. */
function quoted(k: Lit, s: string): void {
  lit(k);
  ascii(s);
  B[O++] = 0x22;
}

/** A string known to need no escaping (a name from the tracker's lists, a number's digits). */
function ascii(s: string): void {
  const buf = B;
  const o = O;
  for (let i = 0; i < s.length; i++) buf[o + i] = s.charCodeAt(i);
  O = o + s.length;
}

/** Any string, quoted; escaped through JSON.stringify when it holds anything plain ASCII does not. */
function wstr(s: string): void {
  for (let i = 0; i < s.length; i++) {
    const ch = s.charCodeAt(i);
    if (ch < 0x20 || ch === 0x22 || ch === 0x5c || ch > 0x7e) {
      O += B.write(JSON.stringify(s), O, 'utf8');
      return;
    }
  }
  B[O++] = 0x22;
  ascii(s);
  B[O++] = 0x22;
}

function nameOrNull(s: string | null): void {
  if (s === null) lit(NULL);
  else {
    B[O++] = 0x22;
    ascii(s);
    B[O++] = 0x22;
  }
}

function bool(b: boolean): void {
  lit(b ? TRUE : FALSE);
}

/** One number for writeNumber, which reads it from an array (a double passed to it would be boxed). */
const ONE = new Float64Array(1);

/**
 * A number as JSON writes it (NaN and ±Infinity as null), digit by digit (json-bytes): times with
 * microseconds in the fraction and their differences too, without a string for them.
 */
function wnum(n: number | null): void {
  ONE[0] = n ?? NaN;
  O = writeNumber(B, O, ONE, 0);
}

const TYPE_HEAD = Object.fromEntries(
  EVENT_TYPES.map((t) => [t, bytes(`{"type":"${t}","connectionId":`)]),
) as Record<TcpEvent['type'], Lit>;
const TS = bytes(',"ts":');
const SIDE = bytes(',"side":"');
const FROM = bytes('","from":"');
const TO = bytes('","to":"');
const CAUSE_NULL = bytes('","cause":null');
const CAUSE_FLAGS = bytes('","cause":{"flags":"');
const CAUSE_SEQ = bytes('","seq":');
const CAUSE_ACK = bytes(',"ack":');
const CAUSE_LEN = bytes(',"len":');
const PHASE = bytes(',"phase":"');
const KIND = bytes(',"kind":"');
const RTT = bytes(',"rttMs":');
const SYN_SYNACK = bytes(',"synToSynAckMs":');
const SYNACK_ACK = bytes(',"synAckToAckMs":');
const DETAIL = bytes(',"detail":');
const NULL = bytes('null');
const TRUE = bytes('true');
const FALSE = bytes('false');
const S_CLIENT_IP = bytes(',"connection":{"client":{"ip":');
const S_SERVER_IP = bytes('"},"server":{"ip":');
const S_PORT = bytes(',"port":');
const S_STATE = bytes(',"state":"');
const S_STATUS = bytes('"},"status":"');
const S_CONNSTATE = bytes('","connState":"');
const S_HISTORY = bytes('","history":');
const S_PARTIAL = bytes(',"partial":');
const S_ROLES = bytes(',"rolesGuessed":');
const S_GAP = bytes(',"captureGap":');
const S_STARTED = bytes(',"startedAt":');
const S_CLOSEDBY = bytes(',"closedBy":');
const S_CLOSEKIND = bytes(',"closeKind":');
const S_ENDED = bytes(',"endedAt":');
const S_COUNTS_C = bytes(',"counts":{"client":{"packets":');
const S_BYTES = bytes(',"bytes":');
const S_COUNTS_S = bytes('},"server":{"packets":');
const S_COUNTS_END = bytes('}}');
