import { addrString, type Segment } from '../../decode/segment';
import type { History } from '../history';
import { CONN_STATES, type ConnState } from '../states';
import { C, E, type ConnStore } from '../store';
import type { ZeekEndpoints } from './endpoint';
import type { ZeekLetters } from './letters';
import { L, Z } from './names';
import { zeekSenderIsOrig } from './origin';
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

/** Zeek's timers that can end a record (the analyzer's and the connection's own). */
const enum T { EXPIRE = 0, ATTEMPT = 1, DELETE = 2, INACTIVITY = 3 }

const SYN = 2, ACK = 16;

/**
 * Zeek's connection lifetime over our connections: Zeek removes a connection after its attempt,
 * expire (close and reset linger), delete (tcp_close_delay) and inactivity timers, and makes a new
 * record of the next packet of the same 5-tuple, or of a SYN that reuses it (IsReuse). Each record
 * goes to the sink when Zeek would remove it; the slot's Zeek state then starts over, while the
 * tracker's own connection goes on. Timers run on the packets' time: before each packet, every
 * timer due by then fires (as Zeek's expire_timers() before dispatch).
 */
export class ZeekLifetime {
  private readonly queue = new ZeekTimerQueue();
  private cap = 0;
  private open = new Uint8Array(0);
  private conn = new Float64Array(0); // id of the connection whose record the slot held last
  private rec = new Float64Array(0);
  private epoch = new Uint32Array(0); // the analyzer's timers: CancelTimers() moves it on
  private tFirst = new Float64Array(0);
  private tLast = new Float64Array(0);
  private pkts = new Uint32Array(0); // per endpoint
  private ipBytes = new Float64Array(0); // per endpoint
  private records = 0;

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
    this.queue.push(t + ZEEK_TIMERS.attemptDelay, s, T.ATTEMPT, this.rec[s], this.epoch[s]);
  }

  /** ConnectionClosed for endpoint e, before its did_close is set. */
  closed(s: number, e: number): void {
    const st = this.st;
    if ((st.eflags[e] & E.Z_DIDCLOSE) !== 0) return;
    const p = e ^ 1;
    const complete = st.zst[e] === Z.RESET || (st.eflags[p] & E.Z_DIDCLOSE) !== 0 || st.zst[p] === Z.INACTIVE;
    if (complete) {
      this.epoch[s]++; // CancelTimers()
      this.queue.push(this.tLast[s] + ZEEK_TIMERS.closeDelay, s, T.DELETE, this.rec[s], this.epoch[s]);
    } else if (st.zprev[e] !== Z.INACTIVE) {
      this.queue.push(this.tLast[s] + ZEEK_TIMERS.sessionTimer, s, T.EXPIRE, this.rec[s], this.epoch[s]);
    }
    // (a partial close, the first thing this side sent being a FIN, sets a timer only for a
    // connection_partial_close handler, which Zeek's default scripts do not have)
  }

  /** The slot leaves the tracker: its open record ends now. */
  release(s: number): void {
    if (s < this.cap && this.open[s] !== 0) this.end(s);
  }

  /** Every timer due by t, in time order. */
  private advance(t: number): void {
    const q = this.queue;
    while (q.size > 0 && q.next <= t) {
      q.pop();
      const s = q.topSlot;
      if (this.open[s] === 0 || this.rec[s] !== q.topRec) continue;
      if (q.topKind !== T.INACTIVITY && q.topEpoch !== this.epoch[s]) continue;
      this.fire(s, q.topKind, q.topTime);
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
        else this.queue.push(this.tLast[s] + ZEEK_TIMERS.inactivityTimeout, s, T.INACTIVITY, this.rec[s], 0);
        return;
      case T.EXPIRE: {
        if (this.tLast[s] + ZEEK_TIMERS.connectionLinger < t) {
          const oc = (st.eflags[o] & E.Z_DIDCLOSE) !== 0;
          const rc = (st.eflags[r] & E.Z_DIDCLOSE) !== 0;
          if ((oc || rc) && ((oc && rc) || os === Z.RESET || rs === Z.RESET || os === Z.INACTIVE || rs === Z.INACTIVE)) {
            this.end(s);
            return;
          }
          if (os === Z.INACTIVE && rs === Z.INACTIVE) {
            this.end(s);
            return;
          }
        }
        this.queue.push(t + ZEEK_TIMERS.sessionTimer, s, T.EXPIRE, this.rec[s], this.epoch[s]);
        return;
      }
    }
  }

  /** TCPSessionAdapter::IsReuse: a SYN that starts a new connection on this 5-tuple. */
  private reuse(s: number, seg: Segment): boolean {
    const flags = seg.flags;
    if ((flags & SYN) === 0) return false;
    const st = this.st;
    const o = 2 * s + ((st.cflags[s] & C.ZFLIP) !== 0 ? 1 : 0);
    const r = o ^ 1;
    let connOrig = o;
    if ((flags & ACK) !== 0) {
      if (st.zst[o] !== Z.INACTIVE) return false; // not a half connection
      connOrig = r;
    }
    if (((st.eflags[o] | st.eflags[r]) & E.Z_DIDCLOSE) !== 0) return true;
    const seq = seg.seq | 0;
    if (seq === st.zStart[connOrig]) return false;
    // the SYN of a SYN+ACK seen first: not a reuse, the analyzer flips the roles
    return !((flags & ACK) === 0 && st.zst[connOrig] === Z.SYN_ACK_SENT && st.zst[r] === Z.INACTIVE && seq === st.zStart[r]);
  }

  private begin(s: number, d: number, seg: Segment, t: number): void {
    const st = this.st;
    if (this.conn[s] === st.idNum[s]) {
      // a record after one that ended on the same connection: Zeek's choice of originator again
      const senderIsOrig = zeekSenderIsOrig(seg.flags, seg.srcPort, seg.dstPort);
      if ((senderIsOrig ? d : 1 - d) === 1) st.cflags[s] |= C.ZFLIP;
      if (!senderIsOrig) this.hist.append(s, L.FLIPPED);
    }
    this.conn[s] = st.idNum[s];
    this.open[s] = 1;
    this.rec[s] = ++this.records;
    this.epoch[s]++;
    this.tFirst[s] = t;
    this.tLast[s] = t;
    this.pkts[2 * s] = 0;
    this.pkts[2 * s + 1] = 0;
    this.ipBytes[2 * s] = 0;
    this.ipBytes[2 * s + 1] = 0;
    this.queue.push(t + ZEEK_TIMERS.synTimeout, s, T.EXPIRE, this.rec[s], this.epoch[s]);
    this.queue.push(t + ZEEK_TIMERS.inactivityTimeout, s, T.INACTIVITY, this.rec[s], 0);
  }

  /** Zeek removes the connection: its record goes out, and the slot's Zeek state starts over. */
  private end(s: number): void {
    this.sink(this.record(s));
    this.open[s] = 0;
    this.epoch[s]++;
    this.clear(s);
    this.letters.dirty = true;
  }

  private record(s: number): ZeekRecord {
    const st = this.st;
    const flip = (st.cflags[s] & C.ZFLIP) !== 0 ? 1 : 0;
    const o = 2 * s + flip;
    const fam = st.family[s] === 6 ? 6 : 4;
    const side = (x: number): ZeekRecordEndpoint => ({
      ip: addrString(st.addr, s * 32 + (x & 1) * 16, fam),
      port: (x & 1) === 0 ? st.cport[s] : st.sport[s],
      packets: this.pkts[x],
      bytes: this.eps.size(x),
      ipBytes: this.ipBytes[x],
    });
    return {
      n: this.rec[s],
      connectionId: String(st.idNum[s]),
      startedAt: this.tFirst[s],
      lastAt: this.tLast[s],
      orig: side(o),
      resp: side(o ^ 1),
      connState: CONN_STATES[zeekConnState(st, this.eps, this.letters, s)],
      history: this.hist.get(s),
      missedBytes: st.missed[s],
    };
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
    this.epoch = g(this.epoch, new Uint32Array(cap));
    this.tFirst = g(this.tFirst, new Float64Array(cap));
    this.tLast = g(this.tLast, new Float64Array(cap));
    this.pkts = g(this.pkts, new Uint32Array(2 * cap));
    this.ipBytes = g(this.ipBytes, new Float64Array(2 * cap));
    this.cap = cap;
  }
}
