import { addrString } from '../decode/segment';
import type { ConnectionView, EndpointNotes } from './connection';
import { EV, EVENT_TYPES, REF, evA, evB, evHasSide, evKind, evSide, evType } from './eventlog';
import { ANOMALY_KINDS, CONN_PHASES, HS_PHASES, TD_KINDS, TD_PHASES, type EventRecord, type EventType, type TcpEvent } from './events';
import type { History } from './history';
import type { Ladder } from './ladder';
import { CONN_STATES, TCP_STATES, type Side, type TcpState } from './states';
import { C, CLOSE_KINDS, CLOSED_BY, E, HI, type ConnStore } from './store';

/** Each name list's index by name, for turning a view's names back into codes. */
const indexOf = <T>(list: readonly T[]): Map<T, number> => new Map(list.map((x, i) => [x, i]));
export const TCP_STATE_INDEX = indexOf<string>(TCP_STATES);
export const CONN_STATE_INDEX = indexOf<string>(CONN_STATES);
export const CLOSED_BY_INDEX = indexOf<string | null>(CLOSED_BY);
export const CLOSE_KIND_INDEX = indexOf<string | null>(CLOSE_KINDS);

/** null as NaN: the record's numbers hold NaN for "none" (the tracker's views turn NaN into null). */
export const orNaN = (n: number | null): number => (n === null ? NaN : n);

/**
 * A connection id written as text, as a number: -1 unless the text is exactly a positive integer's
 * decimal form ('' or '0x10' or '1e3' or '07' are not ids), so no two texts share a number.
 */
export function connectionIdNumber(text: string): number {
  const n = Number(text);
  return Number.isSafeInteger(n) && n > 0 && String(n) === text ? n : -1;
}

/**
 * The numbers of a Connection object (connection.ts ConnectionView), in the order it has them:
 * ConnFields.num[N.startedAt] is its startedAt. The endpoints' numbers: 0 the client, 1 the server.
 */
export const N = {
  port0: 0,
  port1: 1,
  startedAt: 2,
  endedAt: 3,
  lastSeenAt: 4,
  synAt: 5,
  synAckAt: 6,
  ackAt: 7,
  rttMs: 8,
  synToSynAckMs: 9,
  synAckToAckMs: 10,
  packets0: 11,
  bytes0: 12,
  packets1: 13,
  bytes1: 14,
  mss0: 15,
  wscale0: 16,
  mss1: 17,
  wscale1: 18,
  synRetransmits: 19,
  anomalies: 20,
  missedBytes: 21,
} as const;
const NUMBERS = 22;

/** Bits of ConnFields.flags. */
export const FL = { PARTIAL: 1, CAPTURE_GAP: 2, ROLES_GUESSED: 4, CLOSED: 8 } as const;
/** Bits of ConnFields.opts (per endpoint). */
export const OPT = { SACK: 1, TS: 2 } as const;

/**
 * One connection's fields, as a writer of its text reads them: numbers and the indices of names
 * in the one list that declares them, filled in by a source (a view, or the tracker's store) and
 * reused from one connection to the next. Nothing in it is allocated per connection but the text
 * of an address that is not IPv4 (and a view's own strings and notes, which it already holds).
 */
export class ConnFields {
  /** The numbers of N; NaN where the Connection object has null. */
  readonly num = new Float64Array(NUMBERS);
  /** The id's number, or its text when `idText` is not null. */
  id = 0;
  idText: string | null = null;
  family: 4 | 6 = 4;
  /** Each endpoint's IPv4 address as a 32-bit number (first byte highest), or -1: then `ipText`. */
  readonly ip4 = new Float64Array(2);
  readonly ipText = ['', ''];
  /** Each endpoint's state, as an index in TCP_STATES. */
  readonly state = new Uint8Array(2);
  /** Each endpoint's OPT bits. */
  readonly opts = new Uint8Array(2);
  /** What is known of each endpoint beyond the packets (the keys other than ip, port, state), or null. */
  readonly notes: (EndpointNotes | null)[] = [null, null];
  /**
   * Whether `notes` are the tracker's own objects (frozen, with the objects inside them, and never
   * altered: Queries.annotate), so a writer may keep their text by object; false for a view's
   * endpoints, objects its caller may change. Frozen is not shared: most notes are one
   * connection's (a merged note is a new object), and text kept by such a note lives as long as the
   * note, until the connection leaves the table or is annotated again.
   */
  notesKept = false;
  /** FL bits. */
  flags = 0;
  /** Zeek's conn_state, as an index in CONN_STATES. */
  connState = 0;
  /** Indices in CLOSED_BY and CLOSE_KINDS (a code past the latter's end stands for null). */
  closedBy = 0;
  closeKind = 0;
  /** Zeek's history letters, as character codes. */
  hist = new Uint8Array(64);
  histLen = 0;

  /** Room for a history of n letters. */
  histRoom(n: number): Uint8Array {
    if (n > this.hist.length) this.hist = new Uint8Array(2 * n);
    return this.hist;
  }
}

/** Something that fills in a connection's fields. */
export interface ConnectionSource {
  /** `history` false: histLen 0, the letters not read (a reader that has no use for them). */
  fill(f: ConnFields, history?: boolean): void;
}

/** A page of connections to write (a list page): connection i's fields, through a source valid until the next at(). */
export interface SourcePage {
  readonly length: number;
  at(i: number): ConnectionSource;
}

/**
 * A read-only cursor over the tracker's store: the connection in one slot, with the values
 * Views.connection() (view.ts) puts in its object, and no object built. Valid only while that
 * slot holds the connection (a remove sink's call).
 */
export class ConnRecord implements ConnectionSource {
  private s = -1;

  constructor(
    private readonly st: ConnStore,
    private readonly hist: History,
    private readonly notesById: ReadonlyMap<number, readonly [EndpointNotes | null, EndpointNotes | null]>,
  ) {}

  /** Points the cursor at slot s. */
  at(s: number): this {
    this.s = s;
    return this;
  }

  fill(f: ConnFields, history = true): void {
    const st = this.st;
    const s = this.s;
    const c = 2 * s;
    const cf = st.cflags[s];
    f.id = st.idNum[s];
    f.idText = null;
    const fam = st.family[s] === 6 ? 6 : 4;
    f.family = fam;
    this.addresses(f, fam);
    f.state[0] = st.st[c];
    f.state[1] = st.st[c + 1];
    if (this.notesById.size > 0) {
      const notes = this.notesById.get(st.idNum[s]);
      f.notes[0] = notes?.[0] ?? null;
      f.notes[1] = notes?.[1] ?? null;
    } else f.notes[0] = f.notes[1] = null;
    f.notesKept = true;
    f.flags =
      ((cf & C.PARTIAL) !== 0 ? FL.PARTIAL : 0) |
      ((cf & C.CAPTURE_GAP) !== 0 ? FL.CAPTURE_GAP : 0) |
      ((cf & C.ROLES_GUESSED) !== 0 ? FL.ROLES_GUESSED : 0) |
      ((cf & C.CLOSED) !== 0 ? FL.CLOSED : 0);
    f.connState = st.zconn[s];
    f.closedBy = (cf & C.BY_MASK) >>> C.BY_SHIFT;
    f.closeKind = (cf & C.KIND_MASK) >>> C.KIND_SHIFT;
    if (history) this.history(f);
    else f.histLen = 0;
    const n = f.num;
    n[N.port0] = st.cport[s];
    n[N.port1] = st.sport[s];
    n[N.startedAt] = st.tStart[s];
    n[N.endedAt] = st.tEnd[s];
    n[N.lastSeenAt] = st.tLast[s];
    const tSyn = st.tSyn[s];
    const tSynAck = st.tSynAck[s];
    const tAck = st.tAck[s];
    n[N.synAt] = tSyn;
    n[N.synAckAt] = tSynAck;
    n[N.ackAt] = tAck;
    // NaN (a time not seen) in either makes the difference NaN: null, as views.ts has it
    n[N.rttMs] = tAck - tSyn;
    n[N.synToSynAckMs] = tSynAck - tSyn;
    n[N.synAckToAckMs] = tAck - tSynAck;
    n[N.packets0] = st.pkts[c];
    n[N.bytes0] = st.bytes[c];
    n[N.packets1] = st.pkts[c + 1];
    n[N.bytes1] = st.bytes[c + 1];
    n[N.mss0] = st.mss[c] !== 0 ? st.mss[c] : NaN;
    n[N.wscale0] = st.wscale[c] >= 0 ? st.wscale[c] : NaN;
    n[N.mss1] = st.mss[c + 1] !== 0 ? st.mss[c + 1] : NaN;
    n[N.wscale1] = st.wscale[c + 1] >= 0 ? st.wscale[c + 1] : NaN;
    f.opts[0] = ((st.eflags[c] & E.SACK_OK) !== 0 ? OPT.SACK : 0) | ((st.eflags[c] & E.TS) !== 0 ? OPT.TS : 0);
    f.opts[1] = ((st.eflags[c + 1] & E.SACK_OK) !== 0 ? OPT.SACK : 0) | ((st.eflags[c + 1] & E.TS) !== 0 ? OPT.TS : 0);
    n[N.synRetransmits] = st.synRetx[s];
    n[N.anomalies] = st.anomalies[s];
    n[N.missedBytes] = st.missed[s];
  }

  private addresses(f: ConnFields, fam: 4 | 6): void {
    const a = this.st.addr;
    const o = this.s * 32;
    if (fam === 4) {
      f.ip4[0] = a[o] * 0x1000000 + ((a[o + 1] << 16) | (a[o + 2] << 8) | a[o + 3]);
      f.ip4[1] = a[o + 16] * 0x1000000 + ((a[o + 17] << 16) | (a[o + 18] << 8) | a[o + 19]);
    } else {
      f.ip4[0] = f.ip4[1] = -1;
      f.ipText[0] = addrString(a, o, 6);
      f.ipText[1] = addrString(a, o + 16, 6);
    }
  }

  private history(f: ConnFields): void {
    const st = this.st;
    const s = this.s;
    const inline = st.histLen[s];
    if ((st.cflags[s] & C.HIST_LONG) === 0) {
      const h = f.histRoom(inline);
      const o = s * HI.INLINE;
      for (let i = 0; i < inline; i++) h[i] = st.hist[o + i];
      f.histLen = inline;
      return;
    }
    const len = this.hist.length(s);
    const h = f.histRoom(len);
    for (let i = 0; i < len; i++) h[i] = this.hist.at(s, i);
    f.histLen = len;
  }
}

/** Each endpoint's address as text (the text is made here for an IPv4 one). */
export function ipText(f: ConnFields, side: 0 | 1): string {
  const v4 = f.ip4[side];
  if (v4 < 0) return f.ipText[side];
  return ipv4Text(v4);
}

/** An IPv4 address (its 32 bits as a number) as dotted text. */
export function ipv4Text(v4: number): string {
  return `${v4 >>> 24}.${(v4 >>> 16) & 0xff}.${(v4 >>> 8) & 0xff}.${v4 & 0xff}`;
}

const SIDES: readonly Side[] = ['client', 'server'];

/** Flag letters of a cause or ladder segment: 'S', 'SA', 'A', 'PA', 'FA', 'R', 'RA', … */
export const FLAG_TEXT: readonly string[] = Array.from({ length: 512 }, (_, f) => {
  let t = '';
  if (f & 0x002) t += 'S';
  if (f & 0x001) t += 'F';
  if (f & 0x004) t += 'R';
  if (f & 0x008) t += 'P';
  if (f & 0x020) t += 'U';
  if (f & 0x040) t += 'E';
  if (f & 0x080) t += 'W';
  if (f & 0x100) t += 'N';
  if (f & 0x010) t += 'A';
  return t || '-';
});

/** What an event cursor asks of the views: a connection's id text (made once per run of its events) and object. */
export interface ViewsOf {
  id(s: number): string;
  connection(s: number): ConnectionView;
}

/**
 * A read-only cursor over the tracker's events as it hands them out (a slot, the event's packed
 * word, the ordinal of the segment that caused it): the values Views.event() (view.ts) puts in its
 * object, read from the word, the ladder and the store, with no object built; for a `connection`
 * event, its connection's fields on demand (ConnRecord). The object itself is built only when asked
 * for (event()). Valid only while the tracker hands the event over (a sink's call).
 */
export class EventCursor implements EventRecord {
  type: EventType = 'state';
  idNumber = 0;
  ts = 0;
  side: Side | undefined = undefined;
  from: TcpState | undefined = undefined;
  to: TcpState | undefined = undefined;
  phase: EventRecord['phase'] = undefined;
  kind: EventRecord['kind'] = undefined;
  hasCause = false;
  causeFlags = '';
  causeSeq = 0;
  causeAck = 0;
  causeLen = 0;
  readonly detail: string | undefined = undefined;
  /**
   * A handshake's times, and which of them it has (bit i for times[i]): a field that holds a number
   * or undefined holds its number boxed, made anew for each event.
   */
  private readonly times = new Float64Array(3);
  private hasTimes = 0;
  private s = -1;
  private obj: TcpEvent | null = null;
  private filled = false;
  /** The connection's cursor and fields, made when a `connection` event's fields are first asked for. */
  private record: ConnRecord | null = null;
  private fields: ConnFields | null = null;

  constructor(
    private readonly st: ConnStore,
    private readonly hist: History,
    private readonly ladder: Ladder,
    private readonly notesById: ReadonlyMap<number, readonly [EndpointNotes | null, EndpointNotes | null]>,
    private readonly views: ViewsOf,
  ) {}

  /** Points the cursor at event word `w` of slot s, caused by segment ordinal `ref` (or REF.TIMER). */
  at(s: number, w: number, ref: number): this {
    const st = this.st;
    this.s = s;
    this.obj = null;
    this.filled = false;
    this.idNumber = st.idNum[s];
    let ts = st.tTimer[s];
    this.hasCause = false;
    if (ref !== REF.TIMER) {
      const l = this.ladder;
      const h = l.find(s, ref);
      if (h !== -1) {
        ts = l.ts(h);
        this.hasCause = true;
        this.causeFlags = FLAG_TEXT[l.meta(h) & 0x1ff];
        this.causeSeq = l.seq(h) >>> 0;
        this.causeAck = l.ack(h) >>> 0;
        this.causeLen = l.len(h);
      }
    }
    this.ts = ts;
    this.word(s, w);
    return this;
  }

  /** The values the event word says (and a handshake's times, from the store). */
  private word(s: number, w: number): void {
    const st = this.st;
    const t = evType(w);
    this.type = EVENT_TYPES[t];
    this.side = undefined;
    this.from = undefined;
    this.to = undefined;
    this.phase = undefined;
    this.kind = undefined;
    this.hasTimes = 0;
    switch (t) {
      case EV.STATE:
        this.side = SIDES[evSide(w)];
        this.from = TCP_STATES[evA(w)];
        this.to = TCP_STATES[evB(w)];
        break;
      case EV.HANDSHAKE: {
        const phase = HS_PHASES[evA(w)];
        this.phase = phase;
        const tSyn = st.tSyn[s];
        const tSynAck = st.tSynAck[s];
        const tAck = st.tAck[s];
        const x = this.times;
        let has = 0;
        if (phase === 'syn-ack' && !Number.isNaN(tSyn)) {
          x[1] = tSynAck - tSyn;
          has = 2;
        }
        if (phase === 'established') {
          x[0] = tAck - tSyn;
          x[1] = tSynAck - tSyn;
          x[2] = tAck - tSynAck;
          has = (!Number.isNaN(tSyn) ? 1 : 0) | (!Number.isNaN(tSyn) && !Number.isNaN(tSynAck) ? 2 : 0) | (!Number.isNaN(tSynAck) ? 4 : 0);
        }
        this.hasTimes = has;
        break;
      }
      case EV.TEARDOWN:
        this.phase = TD_PHASES[evA(w)];
        this.kind = TD_KINDS[evB(w)];
        if (evHasSide(w)) this.side = SIDES[evSide(w)];
        break;
      case EV.RESET:
        this.side = SIDES[evSide(w)];
        break;
      case EV.REFUSED:
        break;
      case EV.ANOMALY:
        this.kind = ANOMALY_KINDS[evKind(w)];
        this.side = SIDES[evSide(w)];
        break;
      default:
        this.phase = CONN_PHASES[evA(w)];
    }
  }

  get connectionId(): string {
    return this.views.id(this.s);
  }

  get rttMs(): number | undefined {
    return (this.hasTimes & 1) !== 0 ? this.times[0] : undefined;
  }

  get synToSynAckMs(): number | undefined {
    return (this.hasTimes & 2) !== 0 ? this.times[1] : undefined;
  }

  get synAckToAckMs(): number | undefined {
    return (this.hasTimes & 4) !== 0 ? this.times[2] : undefined;
  }

  connection(): ConnFields | null {
    if (this.type !== 'connection') return null;
    if (this.fields === null) {
      this.record = new ConnRecord(this.st, this.hist, this.notesById);
      this.fields = new ConnFields();
    }
    if (!this.filled) {
      this.record!.at(this.s).fill(this.fields);
      this.filled = true;
    }
    return this.fields;
  }

  event(): TcpEvent {
    if (this.obj === null) this.obj = this.build(true);
    return this.obj;
  }

  /** The event's object; a connection event with its connection when `withConnection`. */
  build(withConnection: boolean): TcpEvent {
    const connectionId = this.connectionId;
    const ts = this.ts;
    switch (this.type) {
      case 'state': {
        const cause = this.hasCause ? { flags: this.causeFlags, seq: this.causeSeq, ack: this.causeAck, len: this.causeLen } : null;
        return { type: 'state', connectionId, ts, side: this.side!, from: this.from!, to: this.to!, cause };
      }
      case 'handshake': {
        const e: TcpEvent = { type: 'handshake', connectionId, ts, phase: this.phase as (typeof HS_PHASES)[number] };
        const has = this.hasTimes;
        if ((has & 1) !== 0) e.rttMs = this.times[0];
        if ((has & 2) !== 0) e.synToSynAckMs = this.times[1];
        if ((has & 4) !== 0) e.synAckToAckMs = this.times[2];
        return e;
      }
      case 'teardown': {
        const e: TcpEvent = { type: 'teardown', connectionId, ts, phase: this.phase as (typeof TD_PHASES)[number], kind: this.kind as (typeof TD_KINDS)[number] };
        if (this.side !== undefined) e.side = this.side;
        return e;
      }
      case 'reset':
        return { type: 'reset', connectionId, ts, side: this.side! };
      case 'refused':
        return { type: 'refused', connectionId, ts };
      case 'anomaly':
        return { type: 'anomaly', connectionId, ts, kind: this.kind as (typeof ANOMALY_KINDS)[number], side: this.side! };
      case 'connection': {
        const e: TcpEvent = { type: 'connection', connectionId, ts, phase: this.phase as (typeof CONN_PHASES)[number] };
        if (withConnection) e.connection = this.views.connection(this.s);
        return e;
      }
    }
  }
}
