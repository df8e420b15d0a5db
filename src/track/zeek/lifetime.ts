import { addrString, type Segment } from '../../decode/segment';
import type { History } from '../history';
import { CONN_STATES, type ConnState } from '../states';
import { C, E, type ConnStore } from '../store';
import { F } from '../transitions';
import type { ZeekEndpoints } from './endpoint';
import type { ZeekLetters } from './letters';
import { Z } from './names';
import { takeZeekOrigin } from './origin';
import { ZeekTimerQueue } from './timers';
import { zeekConnState } from './verdict';

/** One row of Zeek's conn.log: one Zeek connection, from its first packet to its removal. */
export interface ZeekRecord {
  /** Counts records from 1 in the order they began. */
  n: number;
  /** Our connection (TCP lifetime) the record belongs to. */
  connectionId: string;
  /** The first and the last packet's time (ms); Zeek stops the clock once both sides closed. */
  startedAt: number;
  lastAt: number;
  orig: ZeekRecordEndpoint;
  resp: ZeekRecordEndpoint;
  connState: ConnState;
  history: string;
  missedBytes: number;
}

export interface ZeekRecordEndpoint {
  ip: string;
  port: number;
  packets: number;
  /** Zeek's size: payload bytes as the sequence numbers tell. */
  bytes: number;
  /** IP-layer bytes of its packets (headers included), as Zeek's *_ip_bytes. */
  ipBytes: number;
}

/** Zeek's defaults (scripts/base/init-bare.zeek), in milliseconds. */
export const ZEEK_TIMERS = Object.freeze({
  synTimeout: 5_000, // tcp_SYN_timeout: the first look at a new connection
  sessionTimer: 6_000, // tcp_session_timer: looks again this long after a close
  connectionLinger: 5_000, // tcp_connection_linger: idle this long after a close ends it
  attemptDelay: 5_000, // tcp_attempt_delay: an unanswered SYN ends it
  closeDelay: 5_000, // tcp_close_delay: removal after a complete close or a reset
  inactivityTimeout: 300_000, // tcp_inactivity_timeout
});

/**
 * Zeek's timers that can end a record, the analyzer's and the connection's own. EXPIRE is the one
 * set when the connection began (rescheduled every tcp_session_timer); EXPIRE_CLOSE the one a
 * half close adds, which Zeek keeps beside it.
 */
const enum T { ATTEMPT = 0, EXPIRE = 1, EXPIRE_CLOSE = 2, DELETE = 3, INACTIVITY = 4, COUNT = 5 }


/** Entries of the IPv4 text cache (a power of two). */
const V4_CACHE = 256;

/**
 * Zeek's connection lifetime over our connections: Zeek removes a connection after its attempt,
 * expire (close and reset linger), delete (tcp_close_delay) and inactivity timers, and makes a new
 * record of the next packet of the same 5-tuple, or of a SYN that reuses it (IsReuse). Each record
 * goes to the sink when Zeek would remove it; the slot's Zeek state then starts over, while the
 * tracker's own connection goes on. Timers run on the packets' time: before each packet, every
 * timer due by then fires, in time order and told that time (as Zeek's expire_timers() before
 * dispatch). Each slot keeps its timers' times and one entry in the queue, for the earliest.
 */
export class ZeekLifetime {
  private readonly queue = new ZeekTimerQueue();
  private cap = 0;
  private open = new Uint8Array(0);
  private conn = new Float64Array(0); // id of the connection whose record the slot held last
  private rec = new Float64Array(0);
  private tm = new Float64Array(0); // per slot, T.COUNT times (Infinity: not set)
  private due = new Float64Array(0); // the time of the slot's live queue entry
  private tFirst = new Float64Array(0);
  private tLast = new Float64Array(0);
  private pkts = new Uint32Array(0); // per endpoint
  private ipBytes = new Float64Array(0); // per endpoint
  private records = 0;
  /**
   * The slot the tracker's identity just took the 4-tuple from for a new connection (or -1): the
   * only slot whose open record the new connection's first packet can end (IsReuse across slots).
   * A slot leaves the flow table only so or when it leaves the tracker (which ends its record).
   */
  superseded = -1;
  /**
   * IPv4 addresses as text, the last few by the low bits of their value: most records name an
   * address an earlier one named (a server, a busy client), so the string is built once.
   */
  private readonly v4Key = new Int32Array(V4_CACHE);
  private readonly v4Text: string[] = new Array<string>(V4_CACHE).fill('');

  constructor(
    private readonly st: ConnStore,
    private readonly hist: History,
    private readonly eps: ZeekEndpoints,
    private readonly letters: ZeekLetters,
    private readonly sink: (r: ZeekRecord) => void,
  ) {}

  /** Packets of the record slot s holds (this one included). */
  packets(s: number): number {
    return this.pkts[2 * s] + this.pkts[2 * s + 1];
  }

  /** Before Zeek's analyzer sees a segment: due timers, reuse, a new record, the clock. */
  before(s: number, d: number, seg: Segment, t: number): void {
    if (t >= this.queue.next) this.advance(t);
    if (s >= this.cap) this.grow(s);
    if (this.open[s] !== 0 && this.reuse(s, seg)) this.end(s);
    if (this.open[s] === 0) this.begin(s, d, seg, t);
    const st = this.st;
    if ((st.eflags[2 * s] & st.eflags[2 * s + 1] & E.Z_DIDCLOSE) === 0) this.tLast[s] = t;
    this.pkts[2 * s + d]++;
    // the IP header starts 12 (IPv4) or 8 (IPv6) bytes before the source address and is at least
    // 20 (40) bytes long (a segment built without its frame has no header to measure)
    const v4 = seg.family === 4;
    const ipHeader = Math.max(seg.tcpOff - seg.srcOff + (v4 ? 12 : 8), v4 ? 20 : 40);
    this.ipBytes[2 * s + d] += ipHeader + seg.headerLen + seg.payloadLen;
  }

  /** The originator's SYN (UpdateInactiveState): the attempt timer. */
  attempt(s: number, t: number): void {
    this.set(s, T.ATTEMPT, t + ZEEK_TIMERS.attemptDelay);
  }

  /** ConnectionClosed for endpoint e, before its did_close is set. */
  closed(s: number, e: number): void {
    const st = this.st;
    if ((st.eflags[e] & E.Z_DIDCLOSE) !== 0) return;
    const p = e ^ 1;
    const complete = st.zst[e] === Z.RESET || (st.eflags[p] & E.Z_DIDCLOSE) !== 0 || st.zst[p] === Z.INACTIVE;
    if (complete) {
      // CancelTimers(): the analyzer's timers go (the connection's inactivity timer stays)
      const k = T.COUNT * s;
      this.tm[k + T.ATTEMPT] = this.tm[k + T.EXPIRE] = this.tm[k + T.EXPIRE_CLOSE] = Infinity;
      this.set(s, T.DELETE, this.tLast[s] + ZEEK_TIMERS.closeDelay);
    } else if (st.zprev[e] !== Z.INACTIVE) {
      this.set(s, T.EXPIRE_CLOSE, Math.min(this.tm[T.COUNT * s + T.EXPIRE_CLOSE], this.tLast[s] + ZEEK_TIMERS.sessionTimer));
    }
    // (a partial close, the first thing this side sent being a FIN, sets a timer only for a
    // connection_partial_close handler, which Zeek's default scripts do not have)
  }

  /** The slot leaves the tracker: its open record ends now. */
  release(s: number): void {
    if (s < this.cap && this.open[s] !== 0) this.end(s);
  }

  /** Sets timer k of slot s to fire at `time`. */
  private set(s: number, k: number, time: number): void {
    this.tm[T.COUNT * s + k] = time;
    if (time < this.due[s]) {
      this.due[s] = time;
      this.queue.push(time, s, this.rec[s]);
    }
  }

  /** Every timer due by t, in time order, each told t (Zeek dispatches with the network time). */
  private advance(t: number): void {
    const q = this.queue;
    while (q.size > 0 && q.next <= t) {
      q.pop();
      const s = q.topSlot;
      const rec = q.topRec;
      if (this.open[s] === 0 || this.rec[s] !== rec || this.due[s] !== q.topTime) continue;
      // the slot's earliest timer
      const base = T.COUNT * s;
      let k = 0;
      for (let i = 1; i < T.COUNT; i++) if (this.tm[base + i] < this.tm[base + k]) k = i;
      this.due[s] = Infinity;
      if (this.tm[base + k] <= t) {
        this.tm[base + k] = Infinity;
        this.fire(s, k, t);
        if (this.open[s] === 0 || this.rec[s] !== rec) continue;
      }
      let next = Infinity;
      for (let i = 0; i < T.COUNT; i++) next = Math.min(next, this.tm[base + i]);
      if (next < this.due[s]) {
        this.due[s] = next;
        q.push(next, s, rec);
      }
    }
  }

  private fire(s: number, kind: number, t: number): void {
    const st = this.st;
    const o = 2 * s + ((st.cflags[s] & C.ZFLIP) !== 0 ? 1 : 0);
    const r = o ^ 1;
    const os = st.zst[o];
    const rs = st.zst[r];
    switch (kind) {
      case T.ATTEMPT:
        if ((os === Z.SYN_SENT || os === Z.SYN_ACK_SENT) && rs === Z.INACTIVE) this.end(s);
        return;
      case T.DELETE:
        this.end(s);
        return;
      case T.INACTIVITY:
        if (this.tLast[s] + ZEEK_TIMERS.inactivityTimeout <= t) this.end(s);
        else this.set(s, T.INACTIVITY, this.tLast[s] + ZEEK_TIMERS.inactivityTimeout);
        return;
      default: {
        // ExpireTimer: idle past the linger after a close that looks final, or nothing ever seen
        if (this.tLast[s] + ZEEK_TIMERS.connectionLinger < t) {
          const oc = (st.eflags[o] & E.Z_DIDCLOSE) !== 0;
          const rc = (st.eflags[r] & E.Z_DIDCLOSE) !== 0;
          const over = (oc || rc) && ((oc && rc) || os === Z.RESET || rs === Z.RESET || os === Z.INACTIVE || rs === Z.INACTIVE);
          if (over || (os === Z.INACTIVE && rs === Z.INACTIVE)) {
            this.end(s);
            return;
          }
        }
        this.set(s, kind, t + ZEEK_TIMERS.sessionTimer);
      }
    }
  }

  /** TCPSessionAdapter::IsReuse: a SYN that starts a new connection on this 5-tuple. */
  private reuse(s: number, seg: Segment): boolean {
    const flags = seg.flags;
    if ((flags & F.SYN) === 0) return false;
    const st = this.st;
    const o = 2 * s + ((st.cflags[s] & C.ZFLIP) !== 0 ? 1 : 0);
    const r = o ^ 1;
    let connOrig = o;
    if ((flags & F.ACK) !== 0) {
      if (st.zst[o] !== Z.INACTIVE) return false; // not a half connection
      connOrig = r;
    }
    if (((st.eflags[o] | st.eflags[r]) & E.Z_DIDCLOSE) !== 0) return true;
    const seq = seg.seq | 0;
    if (seq === st.zStart[connOrig]) return false;
    // the SYN of a SYN+ACK seen first: not a reuse, the analyzer flips the roles
    return !((flags & F.ACK) === 0 && st.zst[connOrig] === Z.SYN_ACK_SENT && st.zst[r] === Z.INACTIVE && seq === st.zStart[r]);
  }

  private begin(s: number, d: number, seg: Segment, t: number): void {
    const st = this.st;
    if (this.conn[s] !== st.idNum[s]) {
      // The tracker started a connection of its own on a 4-tuple that still has an open record (a
      // SYN with a new ISN): Zeek's IsReuse ends that record now, before this packet.
      const old = this.superseded;
      if (old >= 0 && old !== s && this.open[old] !== 0 && this.sameFlow(old, s) && this.reuse(old, seg)) this.end(old);
    } else {
      // a record after one that ended on the same connection: Zeek's choice of originator again
      takeZeekOrigin(st, this.hist, s, d, seg);
    }
    this.conn[s] = st.idNum[s];
    this.open[s] = 1;
    this.superseded = -1;
    this.rec[s] = ++this.records;
    const k = T.COUNT * s;
    this.tm[k + T.ATTEMPT] = this.tm[k + T.EXPIRE] = this.tm[k + T.EXPIRE_CLOSE] = this.tm[k + T.DELETE] = Infinity;
    this.tm[k + T.INACTIVITY] = Infinity;
    this.due[s] = Infinity;
    this.tFirst[s] = t;
    this.tLast[s] = t;
    this.pkts[2 * s] = 0;
    this.pkts[2 * s + 1] = 0;
    this.ipBytes[2 * s] = 0;
    this.ipBytes[2 * s + 1] = 0;
    this.set(s, T.EXPIRE, t + ZEEK_TIMERS.synTimeout);
    this.set(s, T.INACTIVITY, t + ZEEK_TIMERS.inactivityTimeout);
  }

  /** Whether slots a and b hold the same 4-tuple, either way round. */
  private sameFlow(a: number, b: number): boolean {
    const st = this.st;
    if (st.family[a] !== st.family[b]) return false;
    const same = st.cport[a] === st.cport[b] && st.sport[a] === st.sport[b];
    if (!same && !(st.cport[a] === st.sport[b] && st.sport[a] === st.cport[b])) return false;
    const n = st.family[a] === 6 ? 16 : 4;
    for (let i = 0; i < n; i++) {
      const ca = st.addr[a * 32 + i], sa = st.addr[a * 32 + 16 + i];
      if (same ? ca !== st.addr[b * 32 + i] || sa !== st.addr[b * 32 + 16 + i] : ca !== st.addr[b * 32 + 16 + i] || sa !== st.addr[b * 32 + i]) {
        return false;
      }
    }
    return true;
  }

  /** Zeek removes the connection: its record goes out, and the slot's Zeek state starts over. */
  private end(s: number): void {
    this.sink(this.record(s));
    this.open[s] = 0;
    this.clear(s);
    this.letters.dirty = true;
  }

  private record(s: number): ZeekRecord {
    const st = this.st;
    const flip = (st.cflags[s] & C.ZFLIP) !== 0 ? 1 : 0;
    const o = 2 * s + flip;
    return {
      n: this.rec[s],
      connectionId: String(st.idNum[s]),
      startedAt: this.tFirst[s],
      lastAt: this.tLast[s],
      orig: this.side(s, o),
      resp: this.side(s, o ^ 1),
      connState: CONN_STATES[zeekConnState(st, this.eps, this.letters, s)],
      history: this.hist.get(s),
      missedBytes: st.missed[s],
    };
  }

  /** Endpoint x (of slot s) as its record shows it. */
  private side(s: number, x: number): ZeekRecordEndpoint {
    const st = this.st;
    return {
      ip: this.address(s * 32 + (x & 1) * 16, st.family[s] === 6 ? 6 : 4),
      port: (x & 1) === 0 ? st.cport[s] : st.sport[s],
      packets: this.pkts[x],
      bytes: this.eps.size(x),
      ipBytes: this.ipBytes[x],
    };
  }

  /** The address at `off` of the store's addresses, as text. */
  private address(off: number, fam: 4 | 6): string {
    const a = this.st.addr;
    if (fam !== 4) return addrString(a, off, fam);
    const key = (a[off] << 24) | (a[off + 1] << 16) | (a[off + 2] << 8) | a[off + 3];
    const i = (key ^ (key >>> 8) ^ (key >>> 16) ^ (key >>> 24)) & (V4_CACHE - 1);
    if (this.v4Key[i] === key && this.v4Text[i] !== '') return this.v4Text[i];
    const text = addrString(a, off, 4);
    this.v4Key[i] = key;
    this.v4Text[i] = text;
    return text;
  }

  /** The slot's Zeek fields as a new slot has them. */
  private clear(s: number): void {
    const st = this.st;
    for (let x = 2 * s; x < 2 * s + 2; x++) {
      st.zst[x] = Z.INACTIVE;
      st.zprev[x] = Z.INACTIVE;
      st.eflags[x] &= ~(E.Z_FIN | E.Z_RST | E.Z_DIDCLOSE | E.R_ABOVE);
      st.zStart[x] = st.zLast[x] = st.zAck[x] = st.zFinRel[x] = 0;
      st.hlSyn[x] = st.hlFin[x] = st.hlRst[x] = 0;
      st.rContig[x] = st.rAboveS[x] = st.rAboveE[x] = st.rTrim[x] = 0;
      st.cntRxmt[x] = st.cntWin0[x] = st.cntGap[x] = 0;
    }
    st.cflags[s] &= ~(C.ZFLIP | C.Z_PARTIAL | C.Z_FIRST_ORIG | C.Z_FIRST_RESP);
    st.histSeen[s] = 0;
    st.missed[s] = 0;
    this.hist.release(s);
  }

  private grow(s: number): void {
    let cap = Math.max(64, this.cap);
    while (cap <= s) cap *= 2;
    const g = <A extends Uint8Array | Uint32Array | Float64Array>(a: A, b: A): A => {
      b.set(a);
      return b;
    };
    this.open = g(this.open, new Uint8Array(cap));
    const conn = new Float64Array(cap).fill(-1);
    this.conn = g(this.conn, conn);
    this.rec = g(this.rec, new Float64Array(cap));
    this.tm = g(this.tm, new Float64Array(T.COUNT * cap));
    this.due = g(this.due, new Float64Array(cap));
    this.tFirst = g(this.tFirst, new Float64Array(cap));
    this.tLast = g(this.tLast, new Float64Array(cap));
    this.pkts = g(this.pkts, new Uint32Array(2 * cap));
    this.ipBytes = g(this.ipBytes, new Float64Array(2 * cap));
    this.cap = cap;
  }
}
