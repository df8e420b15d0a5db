import type { ConnectionView, EndpointView } from '../track/connection';
import { ConnFields, FL, N } from '../track/record';
import { CONN_STATES, TCP_STATES } from '../track/states';
import { CLOSE_KINDS, CLOSED_BY } from '../track/store';
import { LIT_PAD, NUMBER_MAX, lit as bytes, writeAscii, writeLit, writeIPv4, writeNumber, type Lit } from './json-bytes';
import { ObjectRecord } from './object-record';
import { EVENT_TYPES, type ConnectionEvent, type EventRecord, type TcpEvent } from './types';

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
 * names is ~430 bytes), and how many numbers an event carries at most (the connection event's ten,
 * and its id).
 */
const EVENT_TEXT_MAX = 480;
const EVENT_NUMBERS_MAX = 11;
/** An IPv4 address's text at its longest. */
const IPV4_MAX = 15;

/**
 * Bytes writeRecord may need for `e`: a bound, not the size: its text, every number at its longest,
 * the last word of a prepared text (LIT_PAD), and each string at six bytes a character (escaped).
 * A connection event's fields are read here (and kept by the record for writeRecord).
 */
export function maxRecordBytes(e: EventRecord): number {
  let n = EVENT_TEXT_MAX + EVENT_NUMBERS_MAX * NUMBER_MAX + LIT_PAD;
  if (e.idNumber < 0) n += 6 * e.connectionId.length;
  if (e.detail !== undefined) n += 6 * e.detail.length;
  const f = e.connection();
  if (f !== null) {
    for (let side = 0; side < 2; side++) n += f.ip4[side] >= 0 ? IPV4_MAX : 6 * f.ipText[side].length;
    n += 6 * f.histLen;
  }
  return n;
}

/** An event object, read as a record by the writers (events published as objects, tests). */
const OBJECT = new ObjectRecord();

/** maxRecordBytes of an event object. */
export function maxEventBytes(e: TcpEvent): number {
  return maxRecordBytes(OBJECT.of(e));
}

/** writeRecord of an event object. */
export function writeEvent(e: TcpEvent, buf: Buffer, off: number): number {
  return writeRecord(OBJECT.of(e), buf, off);
}

let B: Buffer = Buffer.alloc(0);
/**
 * `B` as words, for the keys' text (writeLit); made again only when the buffer changes. `B` and the
 * view keep the last buffer written to (one ring chunk) until the next event: made per event, the
 * view would cost more than the chunk held.
 */
let DV = new DataView(B.buffer, 0, 0);
let O = 0;

/**
 * Writes eventJson's text of the event `e` stands for into `buf` at `off` (which must have
 * maxRecordBytes(e) free) and returns the offset after it, reading the record's fields (and a
 * connection event's connection fields) without an object or a string made for them. The keys'
 * text is copied in 8-byte words, so up to LIT_PAD (json-bytes) bytes after the text's end may be
 * written too (spaces), within the bound.
 */
export function writeRecord(e: EventRecord, buf: Buffer, off: number): number {
  if (buf !== B) {
    B = buf;
    DV = new DataView(buf.buffer, buf.byteOffset, buf.length);
  }
  O = off;
  lit(TYPE_HEAD[e.type]);
  const id = e.idNumber;
  if (id >= 0) {
    // the id's digits are its text: no string made for it
    B[O++] = 0x22;
    ONE[0] = id;
    O = writeNumber(B, O, ONE, 0);
    B[O++] = 0x22;
  } else wstr(e.connectionId);
  lit(TS);
  // digits straight into the buffer (no string per packet)
  ONE[0] = e.ts;
  O = writeNumber(B, O, ONE, 0);
  switch (e.type) {
    case 'state': {
      lit(SIDE);
      ascii(e.side!);
      lit(FROM);
      ascii(e.from!);
      lit(TO);
      ascii(e.to!);
      if (!e.hasCause) lit(CAUSE_NULL);
      else {
        // (numbers through ONE, as everywhere here: a double passed to a call is boxed)
        lit(CAUSE_FLAGS);
        ascii(e.causeFlags);
        lit(CAUSE_SEQ);
        ONE[0] = e.causeSeq;
        O = writeNumber(B, O, ONE, 0);
        lit(CAUSE_ACK);
        ONE[0] = e.causeAck;
        O = writeNumber(B, O, ONE, 0);
        lit(CAUSE_LEN);
        ONE[0] = e.causeLen;
        O = writeNumber(B, O, ONE, 0);
        B[O++] = 0x7d;
      }
      break;
    }
    case 'handshake': {
      quoted(PHASE, e.phase!);
      const rtt = e.rttMs;
      if (rtt !== undefined) {
        lit(RTT);
        ONE[0] = rtt;
        O = writeNumber(B, O, ONE, 0);
      }
      const synSynAck = e.synToSynAckMs;
      if (synSynAck !== undefined) {
        lit(SYN_SYNACK);
        ONE[0] = synSynAck;
        O = writeNumber(B, O, ONE, 0);
      }
      const synAckAck = e.synAckToAckMs;
      if (synAckAck !== undefined) {
        lit(SYNACK_ACK);
        ONE[0] = synAckAck;
        O = writeNumber(B, O, ONE, 0);
      }
      break;
    }
    case 'teardown':
      quoted(PHASE, e.phase!);
      quoted(KIND, e.kind!);
      if (e.side !== undefined) {
        quoted(SIDE, e.side);
      }
      break;
    case 'reset':
      quoted(SIDE, e.side!);
      break;
    case 'refused':
      break;
    case 'anomaly':
      quoted(KIND, e.kind!);
      quoted(SIDE, e.side!);
      if (e.detail !== undefined) {
        lit(DETAIL);
        wstr(e.detail);
      }
      break;
    case 'connection': {
      quoted(PHASE, e.phase!);
      const f = e.connection();
      if (f !== null) summary(f, e.phase !== 'opened');
      break;
    }
  }
  B[O++] = 0x7d;
  return O;
}

/** One side's address, port and state (0 client, 1 server), after its opening key. */
function endpoint(f: ConnFields, side: 0 | 1): void {
  ip(f, side);
  lit(S_PORT);
  O = writeNumber(B, O, f.num, side === 0 ? N.port0 : N.port1);
  lit(S_STATE);
  ascii(TCP_STATES[f.state[side]]);
}

/** The connection's summary (see ConnectionSummary) from its fields; how it ended when `ended`. */
function summary(f: ConnFields, ended: boolean): void {
  const n = f.num;
  lit(S_CLIENT_IP);
  endpoint(f, 0);
  lit(S_SERVER_IP);
  endpoint(f, 1);
  lit(S_STATUS);
  ascii((f.flags & FL.CLOSED) !== 0 ? 'closed' : 'open');
  lit(S_CONNSTATE);
  ascii(CONN_STATES[f.connState]);
  lit(S_HISTORY);
  history(f);
  lit(S_PARTIAL);
  bool((f.flags & FL.PARTIAL) !== 0);
  lit(S_ROLES);
  bool((f.flags & FL.ROLES_GUESSED) !== 0);
  lit(S_GAP);
  bool((f.flags & FL.CAPTURE_GAP) !== 0);
  lit(S_STARTED);
  O = writeNumber(B, O, n, N.startedAt);
  if (ended) {
    lit(S_CLOSEDBY);
    nameOrNull(CLOSED_BY[f.closedBy] ?? null);
    lit(S_CLOSEKIND);
    nameOrNull(CLOSE_KINDS[f.closeKind] ?? null);
    lit(S_ENDED);
    O = writeNumber(B, O, n, N.endedAt);
    lit(RTT);
    O = writeNumber(B, O, n, N.rttMs);
    lit(S_COUNTS_C);
    O = writeNumber(B, O, n, N.packets0);
    lit(S_BYTES);
    O = writeNumber(B, O, n, N.bytes0);
    lit(S_COUNTS_S);
    O = writeNumber(B, O, n, N.packets1);
    lit(S_BYTES);
    O = writeNumber(B, O, n, N.bytes1);
    lit(S_COUNTS_END);
  }
  B[O++] = 0x7d;
}

/** An endpoint's address, quoted: an IPv4 one's digits written from its number. */
function ip(f: ConnFields, side: 0 | 1): void {
  const v4 = f.ip4[side];
  if (v4 < 0) return wstr(f.ipText[side]);
  const b = B;
  let p = O;
  b[p++] = 0x22;
  p = writeIPv4(b, p, v4);
  b[p++] = 0x22;
  O = p;
}

/**
 * Zeek's history letters, quoted and copied as they are: the letters (and '^', a flip) are ASCII
 * without quotes or backslashes, so none needs escaping (the Connection writer, src/server/json.ts,
 * copies them the same way).
 */
function history(f: ConnFields): void {
  const h = f.hist;
  const len = f.histLen;
  const b = B;
  let p = O;
  b[p++] = 0x22;
  for (let i = 0; i < len; i++) b[p++] = h[i];
  b[p++] = 0x22;
  O = p;
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
  O = writeAscii(B, O, s);
}

/** A string known to need no escaping, quoted. */
function qascii(s: string): void {
  B[O++] = 0x22;
  ascii(s);
  B[O++] = 0x22;
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
  qascii(s);
}

function nameOrNull(s: string | null): void {
  if (s === null) lit(NULL);
  else qascii(s);
}

function bool(b: boolean): void {
  lit(b ? TRUE : FALSE);
}

/**
 * One number for writeNumber, which reads it from an array (a double passed to it would be boxed):
 * times with microseconds in the fraction and their differences too, digit by digit, no string.
 */
const ONE = new Float64Array(1);

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
