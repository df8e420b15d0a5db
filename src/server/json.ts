import type { ConnectionView, EndpointNotes, EndpointView } from '../track/connection';
import { ConnFields, FL, N, OPT, type ConnectionSource, type SourcePage } from '../track/record';
import { CONN_STATES, TCP_STATES } from '../track/states';
import { CLOSE_KINDS, CLOSED_BY } from '../track/store';
import { ViewSource } from '../track/view-source';
import { JsonBytes, LIT_PAD, textScratch, NUMBER_MAX, lit, writeDigits, writeIPv4, writeLit, writeNumber, type Lit } from '../events/json-bytes';

// The Connection object's JSON, the one writer of it: the list endpoint's pages and
// analyze's jsonl records (from the tracker's store, src/track/record.ts) both write through
// writeConnection(), byte by byte into one buffer: the same text JSON.stringify makes of the view
// (test/server/json.test.ts and test/cli/format/jsonl.test.ts hold them equal). The shape is fixed
// and no string in it needs escaping (decimal ids, addresses, state names, Zeek's history letters:
// ASCII without quotes or backslashes); what comes from outside the packets (an endpoint's process,
// the kernel's view) goes through JSON.stringify.

/** Every field of a ConnectionView, in the order the tracker builds them; the writer below writes these. */
const WRITTEN = [
  'id',
  'family',
  'client',
  'server',
  'status',
  'connState',
  'history',
  'partial',
  'captureGap',
  'rolesGuessed',
  'startedAt',
  'endedAt',
  'lastSeenAt',
  'handshake',
  'closedBy',
  'closeKind',
  'counts',
  'options',
  'synRetransmits',
  'anomalies',
  'missedBytes',
] as const satisfies readonly (keyof ConnectionView)[];
/** A field added to ConnectionView and not to the writer fails to compile here. */
const everyField: Exclude<keyof ConnectionView, (typeof WRITTEN)[number]> extends never ? true : never = true;
void everyField;

/** Bytes of a connection's JSON, about (a buffer grows when a page needs more). */
const BYTES_PER_CONNECTION = 900;
/**
 * Room made before a connection is written: its keys and punctuation (under 700 bytes), every
 * number at its longest, two IPv4 addresses, the last word of a text prepared once. Its other strings (an id given as text, an IPv6
 * address, notes) make room for themselves; the history adds its length.
 */
const CONNECTION_ROOM = 700 + 22 * NUMBER_MAX + 2 * 15 + LIT_PAD;

const q = (v: string | null): string => (v === null ? 'null' : `"${v}"`);

/**
 * The text between the values, with the values that are names written in: prepared once for
 * every name (and combination of flags), so a connection is a few dozen copies and numbers.
 */
const L = {
  open: lit('{"id":"'),
  family: [4, 6].map((f) => lit(`","family":${f},"client":{"ip":"`)),
  port: lit('","port":'),
  state: TCP_STATES.map((st) => lit(`,"state":"${st}"`)),
  server: lit('},"server":{"ip":"'),
  /** by status (open 0, closed 1) × conn_state */
  status: [false, true].flatMap((closed) => CONN_STATES.map((z) => lit(`},"status":"${closed ? 'closed' : 'open'}","connState":"${z}","history":"`))),
  /** by FL.PARTIAL | FL.CAPTURE_GAP | FL.ROLES_GUESSED */
  flags: Array.from({ length: 8 }, (_, f) =>
    lit(`","partial":${(f & FL.PARTIAL) !== 0},"captureGap":${(f & FL.CAPTURE_GAP) !== 0},"rolesGuessed":${(f & FL.ROLES_GUESSED) !== 0},"startedAt":`),
  ),
  endedAt: lit(',"endedAt":'),
  lastSeenAt: lit(',"lastSeenAt":'),
  synAt: lit(',"handshake":{"synAt":'),
  synAckAt: lit(',"synAckAt":'),
  ackAt: lit(',"ackAt":'),
  rttMs: lit(',"rttMs":'),
  synToSynAckMs: lit(',"synToSynAckMs":'),
  synAckToAckMs: lit(',"synAckToAckMs":'),
  /** by closedBy × closeKind (8 codes: those past the list's end are null, as in the views) */
  close: CLOSED_BY.flatMap((by) =>
    Array.from({ length: 8 }, (_, k) => lit(`},"closedBy":${q(by)},"closeKind":${q(CLOSE_KINDS[k] ?? null)},"counts":{"client":{"packets":`)),
  ),
  bytes: lit(',"bytes":'),
  serverPackets: lit('},"server":{"packets":'),
  clientMss: lit('}},"options":{"client":{"mss":'),
  wscale: lit(',"wscale":'),
  /** by OPT bits */
  opts: Array.from({ length: 4 }, (_, f) => lit(`,"sackPermitted":${(f & OPT.SACK) !== 0},"timestamps":${(f & OPT.TS) !== 0}}`)),
  serverMss: lit(',"server":{"mss":'),
  synRetransmits: lit('},"synRetransmits":'),
  anomalies: lit(',"anomalies":'),
  missedBytes: lit(',"missedBytes":'),
  close1: lit('}'),
  page: lit('{"connections":['),
  comma: lit(','),
  nextCursor: lit('],"nextCursor":'),
  total: lit(',"total":'),
};

/**
 * The text of a note's object (an owner, the kernel's view), made once: each list page and record
 * writes it again, and an owner's command line makes it the longest part of a connection. A note
 * is replaced by a new object when it changes (Queries.annotate, the socket watch), never altered.
 */
const noteText = new WeakMap<object, string>();
function noteJson(v: object): string {
  let t = noteText.get(v);
  if (t === undefined) noteText.set(v, (t = JSON.stringify(v)));
  return t;
}

/**
 * The text of an endpoint's notes, joined once for each notes object that connections share: a
 * listener's owner, a no-owner note (the tracker's own objects, frozen and never altered:
 * Queries.annotate; the socket watch gives one object for all of a listener's connections, and one
 * per reason). Notes that hold a kernel reading, or an owner found through the endpoint's own
 * socket, belong to one connection (a reading is merged over its owner), so they are not kept
 * here: a joined copy would repeat the owner's text for every connection listed, as long as it
 * stays in the table; their pieces are written one after another from each note's own text instead.
 */
const sharedNotesText = new WeakMap<object, string>();

/** `,"key":` for each key of the notes (a few: EndpointNotes'). */
const keyText = new Map<string, string>();

/** A note's value as JSON: an object's text kept by object (noteJson), a name or null as it is. */
function valueJson(v: unknown): string {
  return typeof v === 'object' && v !== null ? noteJson(v) : JSON.stringify(v);
}

/**
 * The one walk of a note: each key but the address, port and state that holds a value, in the
 * notes' own order, handed to `visit` as its `,"key":` text and its value's JSON (kept texts both).
 */
function eachNote<C>(e: EndpointNotes, to: C, visit: (to: C, key: string, value: string) => void): void {
  for (const k of Object.keys(e) as (keyof EndpointView)[]) {
    const v = (e as EndpointView)[k];
    if (k === 'ip' || k === 'port' || k === 'state' || v === undefined) continue;
    let kt = keyText.get(k);
    if (kt === undefined) keyText.set(k, (kt = `,"${k}":`));
    visit(to, kt, valueJson(v));
  }
}

const joinPiece = (to: { t: string }, key: string, value: string): void => {
  to.t += key + value;
};
const writePiece = (w: JsonBytes, key: string, value: string): void => {
  w.ascii(key);
  w.text(value);
};

/** The notes' text, joined once. */
function notesJoined(e: EndpointNotes): string {
  const to = { t: '' };
  eachNote(e, to, joinPiece);
  return to.t;
}

/** The same text written piece by piece: each key's and each value's text as kept, no joined copy made. */
function writeNotes(w: JsonBytes, e: EndpointNotes): void {
  eachNote(e, w, writePiece);
}

/** What is known of an endpoint beyond the packets, in the notes' own key order; leaves the room made. */
function notes(w: JsonBytes, p: number, e: EndpointNotes, kept: boolean, room: number): number {
  w.pos = p;
  // kept says frozen, not shared: a note without a kernel reading and no owner of its own may still
  // be one connection's (an owner merged over a reason), and its joined text is then held until the
  // connection leaves the table or gets a new note (sharedNotesText is weak on the note)
  if (kept && e.kernel === undefined && (e.process == null || e.process.via === 'listener')) {
    let t = sharedNotesText.get(e);
    // one text for all of them: a write into the buffer costs more than joining a few short strings
    if (t === undefined) sharedNotesText.set(e, (t = notesJoined(e)));
    if (t.length > 0) w.text(t);
  } else writeNotes(w, e);
  w.room(room);
  return w.pos;
}

/** An endpoint's address, port and state at p (after the key of its address); leaves the room made. */
function endpoint(w: JsonBytes, p: number, f: ConnFields, side: 0 | 1, room: number): number {
  let b = w.buf;
  const v4 = f.ip4[side];
  if (v4 >= 0) p = writeIPv4(b, p, v4);
  else {
    w.pos = p;
    w.ascii(f.ipText[side]);
    w.room(room);
    b = w.buf;
    p = w.pos;
  }
  p = writeLit(b, w.dv, p, L.port);
  p = writeNumber(b, p, f.num, side);
  p = writeLit(b, w.dv, p, L.state[f.state[side]]);
  const e = f.notes[side];
  return e === null ? p : notes(w, p, e, f.notesKept, room);
}

/** A writer's scratch: one connection's fields at a time. */
const fields = new ConnFields();

/** One connection's JSON object, from any source of its fields. */
export function writeConnection(w: JsonBytes, c: ConnectionSource): void {
  const f = fields;
  c.fill(f);
  const room = CONNECTION_ROOM + f.histLen;
  w.room(room);
  let b = w.buf;
  let p = writeLit(b, w.dv, w.pos, L.open);
  if (f.idText === null) p = writeDigits(b, p, f.id);
  else {
    w.pos = p;
    w.ascii(f.idText);
    w.room(room);
    b = w.buf;
    p = w.pos;
  }
  p = writeLit(b, w.dv, p, L.family[f.family === 6 ? 1 : 0]);
  p = endpoint(w, p, f, 0, room);
  p = writeLit(w.buf, w.dv, p, L.server);
  p = endpoint(w, p, f, 1, room);
  b = w.buf;
  const dv = w.dv;
  const n = f.num;
  p = writeLit(b, dv, p, L.status[((f.flags & FL.CLOSED) !== 0 ? CONN_STATES.length : 0) + f.connState]);
  const h = f.hist;
  for (let i = 0; i < f.histLen; i++) b[p++] = h[i];
  p = writeLit(b, dv, p, L.flags[f.flags & 7]);
  p = writeNumber(b, p, n, N.startedAt);
  p = writeLit(b, dv, p, L.endedAt);
  p = writeNumber(b, p, n, N.endedAt);
  p = writeLit(b, dv, p, L.lastSeenAt);
  p = writeNumber(b, p, n, N.lastSeenAt);
  p = writeLit(b, dv, p, L.synAt);
  p = writeNumber(b, p, n, N.synAt);
  p = writeLit(b, dv, p, L.synAckAt);
  p = writeNumber(b, p, n, N.synAckAt);
  p = writeLit(b, dv, p, L.ackAt);
  p = writeNumber(b, p, n, N.ackAt);
  p = writeLit(b, dv, p, L.rttMs);
  p = writeNumber(b, p, n, N.rttMs);
  p = writeLit(b, dv, p, L.synToSynAckMs);
  p = writeNumber(b, p, n, N.synToSynAckMs);
  p = writeLit(b, dv, p, L.synAckToAckMs);
  p = writeNumber(b, p, n, N.synAckToAckMs);
  p = writeLit(b, dv, p, L.close[8 * f.closedBy + f.closeKind]);
  p = writeNumber(b, p, n, N.packets0);
  p = writeLit(b, dv, p, L.bytes);
  p = writeNumber(b, p, n, N.bytes0);
  p = writeLit(b, dv, p, L.serverPackets);
  p = writeNumber(b, p, n, N.packets1);
  p = writeLit(b, dv, p, L.bytes);
  p = writeNumber(b, p, n, N.bytes1);
  p = writeLit(b, dv, p, L.clientMss);
  p = writeNumber(b, p, n, N.mss0);
  p = writeLit(b, dv, p, L.wscale);
  p = writeNumber(b, p, n, N.wscale0);
  p = writeLit(b, dv, p, L.opts[f.opts[0]]);
  p = writeLit(b, dv, p, L.serverMss);
  p = writeNumber(b, p, n, N.mss1);
  p = writeLit(b, dv, p, L.wscale);
  p = writeNumber(b, p, n, N.wscale1);
  p = writeLit(b, dv, p, L.opts[f.opts[1]]);
  p = writeLit(b, dv, p, L.synRetransmits);
  p = writeNumber(b, p, n, N.synRetransmits);
  p = writeLit(b, dv, p, L.anomalies);
  p = writeNumber(b, p, n, N.anomalies);
  p = writeLit(b, dv, p, L.missedBytes);
  p = writeNumber(b, p, n, N.missedBytes);
  b[p++] = 0x7d;
  w.pos = p;
}

const views = new ViewSource();

/** One connection as JSON.stringify writes it. */
export function connectionJson(c: ConnectionView): string {
  return sourceJson(views.of(c));
}

/** One connection as JSON.stringify writes it, from any source of its fields (the tracker's store). */
export function sourceJson(c: ConnectionSource): string {
  return textScratch.textOf(writeConnection, c);
}

/**
 * Bytes a connection took on the last page of some length: the next page's buffer is sized from it,
 * so that one whose endpoints carry notes (an owner's command line, the kernel's view) is not copied
 * into a buffer twice as large, and again, as it grows.
 */
let pageBytesPerConnection = BYTES_PER_CONNECTION;

/**
 * A list page, as JSON.stringify writes `{ connections, nextCursor, total }`, in UTF-8, written
 * from sources of fields (the tracker's store: Tracker.selectRecords) with no view built.
 */
export function pageJsonOf(page: SourcePage, nextCursor: string | null, total: number): Buffer {
  const n = page.length;
  const w = new JsonBytes(Math.ceil(pageBytesPerConnection * 1.125) * n + CONNECTION_ROOM + 128);
  w.lit(L.page);
  for (let i = 0; i < n; i++) {
    if (i > 0) w.lit(L.comma);
    writeConnection(w, page.at(i));
  }
  w.lit(L.nextCursor);
  w.str(nextCursor);
  w.lit(L.total);
  w.num(total);
  w.lit(L.close1);
  if (n >= 16) pageBytesPerConnection = Math.max(BYTES_PER_CONNECTION, Math.ceil(w.pos / n));
  return w.result();
}
