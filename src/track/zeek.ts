import type { Segment } from '../decode/segment';
import type { History } from './history';
import { C, E, type ConnStore } from './store';

/**
 * Zeek's view of each connection, kept beside the RFC 9293 states so that `connState` and `history`
 * come out as Zeek's conn.log would print them. This mirrors Zeek's TCP analyzer
 * (src/packet_analysis/protocol/tcp/TCPSessionAdapter.cc and TCP.cc, TCP_Endpoint.cc, the gap
 * accounting of TCP_Reassembler.cc) and conn_state() of scripts/base/protocols/conn/main.zeek:
 * one endpoint state per direction, seven values, and the verdict a pure function of the two.
 *
 * Zeek's originator is our client unless C.ZFLIP is set (Zeek guessed the other way round).
 * Sequence numbers are kept raw (int32) and compared modulo 2^32.
 */

export const enum Z { INACTIVE = 0, SYN_SENT = 1, SYN_ACK_SENT = 2, PARTIAL = 3, ESTABLISHED = 4, CLOSED = 5, RESET = 6 }

/** Indices into CONN_STATES (src/track/states.ts). */
export const enum CS {
  S0 = 0, S1 = 1, SF = 2, REJ = 3, S2 = 4, S3 = 5, RSTO = 6, RSTR = 7, RSTOS0 = 8, RSTRH = 9, SH = 10, SHR = 11, OTH = 12,
}

// Zeek's HIST_* masks; the responder's are shifted left by 16.
const H_SYN = 0x1, H_FIN = 0x2, H_RST = 0x4, H_FIN_RST = 0x8, H_DATA = 0x10, H_ACK = 0x20, H_MULTI = 0x40;

const TOO_LARGE_SEQ_DELTA = 1048576;

const FIN = 1, SYN = 2, RST = 4, ACK = 16;

/**
 * Zeek's likely_server_ports, approximated: the well-known ports plus the registered ports of the
 * analyzers Zeek loads by default. Zeek uses it to decide who originated a connection whose first
 * packet is not a plain SYN.
 */
const LIKELY_SERVER_HIGH = new Set([
  1080, 1194, 1433, 1434, 1521, 1723, 1812, 1883, 2049, 2811, 3128, 3268, 3306, 3389, 4369, 5060,
  5222, 5223, 5269, 5432, 5672, 5900, 6379, 6666, 6667, 6668, 6669, 8000, 8080, 8888, 9092, 11211,
  20000, 27017,
]);

export function likelyServerPort(p: number): boolean {
  return (p > 0 && p < 1024) || LIKELY_SERVER_HIGH.has(p);
}

/**
 * Zeek's originator for a connection whose first segment comes from `src` (true: the sender is
 * Zeek's originator). Mirrors TCPAnalyzer::WantConnection.
 */
export function zeekSenderIsOrig(flags: number, srcPort: number, dstPort: number): boolean {
  const syn = (flags & SYN) !== 0;
  if (syn && (flags & ACK) === 0) return true;
  if (!likelyServerPort(srcPort)) return true;
  if (likelyServerPort(dstPort)) return !(!syn && srcPort < dstPort);
  return false;
}

export class ZeekMirror {
  private s = 0;
  private dirty = false;

  constructor(
    private readonly st: ConnStore,
    private readonly hist: History,
  ) {}

  /** Runs one segment sent by our side `d` through Zeek's analyzer. Returns true if connState may have changed. */
  packet(s: number, d: number, seg: Segment): boolean {
    const st = this.st;
    this.s = s;
    this.dirty = false;
    const flags = seg.flags;
    const syn = (flags & SYN) !== 0;
    const fin = (flags & FIN) !== 0;
    const rst = (flags & RST) !== 0;
    const ack = (flags & ACK) !== 0;
    const len = seg.payloadLen;
    const base = seg.seq | 0;
    const ackSeq = seg.ack | 0;
    const origSide = (st.cflags[s] & C.ZFLIP) !== 0 ? 1 : 0;
    const isOrig = d === origSide;
    const e = 2 * s + d;
    const p = 2 * s + (1 - d);

    // A connection that began with Zeek's originator sending a SYN+ACK is flipped as soon as an
    // ACK or data follows: a stealth scan would not go on like that (Zeek PR #2191).
    if (st.nseg[s] === 2 && !syn && !fin && !rst && (ack || len > 0)) {
      const o = 2 * s + origSide;
      if (st.zst[o] === Z.SYN_ACK_SENT && st.zst[o ^ 1] === Z.INACTIVE) {
        this.flipLate(s);
        return this.packet(s, d, seg);
      }
    }

    // SetPartialStatus
    const cf = st.cflags[s];
    if (isOrig) {
      if ((cf & C.Z_FIRST_ORIG) === 0) st.cflags[s] = !syn || ack ? cf | C.Z_PARTIAL : cf & ~C.Z_PARTIAL;
    } else if ((cf & (C.Z_FIRST_RESP | C.Z_PARTIAL)) === 0 && !syn) {
      st.cflags[s] = cf | C.Z_PARTIAL;
    }

    const segLen = len + (syn ? 1 : 0) + (fin ? 1 : 0) - (rst ? len : 0);
    const last = (base + segLen) | 0;
    const zst = st.zst;
    const ze = zst[e];

    // init_endpoint
    switch (ze) {
      case Z.INACTIVE:
        if (syn) {
          this.initSeqs(e, base);
          st.zLast[e] = last;
        } else {
          // numbered as if a SYN had been seen; the first segment itself is not a duplicate
          this.initSeqs(e, (base - 1) | 0);
          st.zLast[e] = base;
        }
        break;
      case Z.SYN_SENT:
      case Z.SYN_ACK_SENT:
        if (syn && base !== st.zStart[e]) {
          this.initSeqs(e, base);
          st.zLast[e] = last;
        }
        break;
      case Z.ESTABLISHED:
      case Z.PARTIAL:
        if (syn) {
          this.initSeqs(e, base);
          st.zLast[e] = last;
        }
        break;
      case Z.RESET:
        if (syn && st.zprev[e] === Z.INACTIVE) {
          this.initSeqs(e, base);
          st.zLast[e] = last;
        }
        break;
    }

    const rel = (base - st.zStart[e]) | 0;
    const underflow = rel < 0;

    if ((flags & (SYN | FIN | RST)) !== 0) {
      this.updateHistory(e, isOrig, flags, rel, len);
    } else if (len > 0 || ack) {
      // the D or A of updateHistory, written out: most segments have seen theirs already
      const m = len > 0 ? H_DATA : H_ACK;
      const seen = st.histSeen[s];
      if ((seen & (isOrig ? m : m << 16)) === 0) {
        st.histSeen[s] = seen | (isOrig ? m : m << 16);
        this.addHist(isOrig, len > 0 ? 68 /* D */ : 65 /* A */);
      }
    }

    // update_window: only the zero-window accounting matters here
    if (seg.window === 0 && !rst && zst[p] !== Z.CLOSED && zst[e] !== Z.RESET) {
      this.scaled(st.cntWin0, e, isOrig, 87 /* W */);
    }

    if (fin) {
      st.eflags[e] |= E.Z_FIN;
      st.zFinRel[e] = (base + segLen) | 0;
    }
    if (rst) st.eflags[e] |= E.Z_RST;

    let ackRaw = 0;
    if (ack) {
      if (zst[p] === Z.INACTIVE) {
        // init_peer: number the silent side as if its SYN had been seen
        this.initSeqs(p, (ackSeq - 1) | 0);
        st.zLast[p] = (ackSeq - 1) | 0;
        ackRaw = ackSeq;
      } else if (((ackSeq - st.zStart[p]) | 0) < 0) {
        ackRaw = st.zStart[p];
      } else {
        ackRaw = ackSeq;
        if (!rst) {
          const delta = (ackSeq - st.zAck[p]) | 0;
          if (!(ackSeq === 0 && delta > TOO_LARGE_SEQ_DELTA) && delta > 0) st.zAck[p] = ackSeq;
        }
      }
    }

    // update_last_seq
    const deltaLast = (last - st.zLast[e]) | 0;
    if ((syn || rst) && (deltaLast > TOO_LARGE_SEQ_DELTA || deltaLast < -TOO_LARGE_SEQ_DELTA)) {
      // untrusted jump
    } else if (fin && st.zLast[e] === ((st.zStart[e] + 1) | 0)) {
      st.zLast[e] = last;
    } else if (zst[e] === Z.RESET) {
      // no later sequence numbers are trusted
    } else if (deltaLast > 0) {
      st.zLast[e] = last;
    } else if (len > 0) {
      this.scaled(st.cntRxmt, e, isOrig, 84 /* T */);
    }

    // Without SYN, FIN or RST the state machine only moves an endpoint that was inactive.
    const doClose = (flags & (SYN | FIN | RST)) !== 0 || zst[e] === Z.INACTIVE ?
      this.stateMachine(e, p, isOrig, flags, base, len) :
      false;

    // AckReceived returns at once unless the ACK passes what was trimmed (or a FIN moves it back)
    if (ack && ((st.eflags[p] & E.Z_FIN) !== 0 || ((ackRaw - st.rTrim[p]) | 0) > 0)) this.ackReceived(p, ackRaw);

    if (len > 0 && seg.capturedPayloadLen >= len && !rst && !underflow) {
      this.dataSent(e, syn ? (base + 1) | 0 : base, len);
    }

    if (doClose) st.eflags[e] |= E.Z_DIDCLOSE;
    return this.dirty;
  }

  // The handlers of fastpath.ts come with their own versions of packet(): each is packet() with
  // the flags and endpoint states its *Allowed() check (or its caller) guarantees, so only the
  // steps that do something remain. A caller that gets false from a check uses packet().

  /**
   * Whether packet() would do no more for this ACK or data segment (no SYN, FIN or RST) than
   * ordinary() does: both endpoints established or closed, and data that advances the sequence (a
   * retransmission is counted). The window must be open (the caller checks).
   */
  ordinaryAllowed(s: number, d: number, seq: number, len: number): boolean {
    const st = this.st;
    const e = 2 * s + d;
    const ze = st.zst[e];
    const zp = st.zst[e ^ 1];
    if ((ze !== Z.ESTABLISHED && ze !== Z.CLOSED) || (zp !== Z.ESTABLISHED && zp !== Z.CLOSED)) return false;
    return len === 0 || ((seq + len - st.zLast[e]) | 0) > 0;
  }

  /** packet() for a segment ordinaryAllowed() accepted. Returns true if connState may have changed. */
  ordinary(s: number, d: number, seg: Segment): boolean {
    const st = this.st;
    this.s = s;
    this.dirty = false;
    const len = seg.payloadLen;
    const base = seg.seq | 0;
    const ackSeq = seg.ack | 0;
    const e = 2 * s + d;
    const p = e ^ 1;
    // SetPartialStatus: a segment without SYN marks the connection partial from either side
    const cf = st.cflags[s] | C.Z_PARTIAL;
    st.cflags[s] = cf;
    const isOrig = d === ((cf & C.ZFLIP) !== 0 ? 1 : 0);
    const m = len > 0 ? H_DATA : H_ACK;
    if ((st.histSeen[s] & (isOrig ? m : m << 16)) === 0) this.check(isOrig, m, len > 0 ? 68 /* D */ : 65 /* A */);
    let ackRaw: number;
    if (((ackSeq - st.zStart[p]) | 0) < 0) {
      ackRaw = st.zStart[p];
    } else {
      ackRaw = ackSeq;
      const delta = (ackSeq - st.zAck[p]) | 0;
      if (!(ackSeq === 0 && delta > TOO_LARGE_SEQ_DELTA) && delta > 0) st.zAck[p] = ackSeq;
    }
    const last = (base + len) | 0;
    if (((last - st.zLast[e]) | 0) > 0) st.zLast[e] = last;
    if ((st.eflags[p] & E.Z_FIN) !== 0 || ((ackRaw - st.rTrim[p]) | 0) > 0) this.ackReceived(p, ackRaw);
    if (len > 0 && seg.capturedPayloadLen >= len && ((base - st.zStart[e]) | 0) >= 0) this.dataSent(e, base, len);
    return this.dirty;
  }

  /**
   * packet() for the plain SYN (no data, an open window) that opened slot s, its sender (side 0)
   * Zeek's originator: SYN_SENT and an S.
   */
  opening(s: number, base: number): boolean {
    const st = this.st;
    const e = 2 * s;
    this.s = s;
    st.cflags[s] &= ~C.Z_PARTIAL;
    this.initSeqs(e, base);
    st.zLast[e] = (base + 1) | 0;
    st.histSeen[s] |= H_SYN;
    this.addHist(true, 83 /* S */);
    st.hlSyn[e] = 0;
    this.setState(e, Z.SYN_SENT);
    return true;
  }

  /**
   * Whether synAck() may stand for packet(): a SYN+ACK without data from Zeek's responder, not yet
   * active, to an originator in SYN_SENT whose ISN it does not precede. The window must be open.
   */
  synAckAllowed(s: number, d: number, ackSeq: number): boolean {
    const st = this.st;
    const e = 2 * s + d;
    const p = e ^ 1;
    return st.zst[e] === Z.INACTIVE && st.zst[p] === Z.SYN_SENT && d !== ((st.cflags[s] & C.ZFLIP) !== 0 ? 1 : 0) &&
      (st.histSeen[s] & (H_SYN << 16)) === 0 && ((ackSeq - st.zStart[p]) | 0) >= 0;
  }

  /** packet() for a SYN+ACK synAckAllowed() accepted: an h, and both endpoints established. */
  synAck(s: number, d: number, base: number, ackSeq: number): boolean {
    const st = this.st;
    const e = 2 * s + d;
    const p = e ^ 1;
    this.s = s;
    this.dirty = false;
    this.initSeqs(e, base);
    st.zLast[e] = (base + 1) | 0;
    st.histSeen[s] |= H_SYN << 16;
    this.addHist(false, 72 /* H */);
    st.hlSyn[e] = 0;
    const delta = (ackSeq - st.zAck[p]) | 0;
    if (!(ackSeq === 0 && delta > TOO_LARGE_SEQ_DELTA) && delta > 0) st.zAck[p] = ackSeq;
    this.setState(p, Z.ESTABLISHED);
    this.setState(e, Z.ESTABLISHED);
    if ((st.eflags[p] & E.Z_FIN) !== 0 || ((ackSeq - st.rTrim[p]) | 0) > 0) this.ackReceived(p, ackSeq);
    return this.dirty;
  }

  /**
   * Whether fin() may stand for packet(): a FIN+ACK from an established endpoint to one established
   * or closed, and data, if any, that advances the sequence. The window must be open.
   */
  finAllowed(s: number, d: number, seq: number, len: number): boolean {
    const st = this.st;
    const e = 2 * s + d;
    const zp = st.zst[e ^ 1];
    if (st.zst[e] !== Z.ESTABLISHED || (zp !== Z.ESTABLISHED && zp !== Z.CLOSED)) return false;
    return len === 0 || ((seq + len + 1 - st.zLast[e]) | 0) > 0 || st.zLast[e] === ((st.zStart[e] + 1) | 0);
  }

  /** packet() for a FIN+ACK finAllowed() accepted: an F, and the sender closed. */
  fin(s: number, d: number, seg: Segment): boolean {
    const st = this.st;
    this.s = s;
    this.dirty = false;
    const len = seg.payloadLen;
    const base = seg.seq | 0;
    const ackSeq = seg.ack | 0;
    const e = 2 * s + d;
    const p = e ^ 1;
    const cf = st.cflags[s] | C.Z_PARTIAL;
    st.cflags[s] = cf;
    const isOrig = d === ((cf & C.ZFLIP) !== 0 ? 1 : 0);
    const last = (base + len + 1) | 0;
    const rel = (base - st.zStart[e]) | 0;
    const end = (rel + len) | 0;
    if (this.check(isOrig, H_FIN, 70 /* F */) && end !== st.hlFin[e]) this.addHist(isOrig, 70);
    st.hlFin[e] = end;
    st.eflags[e] |= E.Z_FIN;
    st.zFinRel[e] = last;
    let ackRaw: number;
    if (((ackSeq - st.zStart[p]) | 0) < 0) {
      ackRaw = st.zStart[p];
    } else {
      ackRaw = ackSeq;
      const delta = (ackSeq - st.zAck[p]) | 0;
      if (!(ackSeq === 0 && delta > TOO_LARGE_SEQ_DELTA) && delta > 0) st.zAck[p] = ackSeq;
    }
    if (st.zLast[e] === ((st.zStart[e] + 1) | 0) || ((last - st.zLast[e]) | 0) > 0) st.zLast[e] = last;
    this.setState(e, Z.CLOSED);
    if ((st.eflags[p] & E.Z_FIN) !== 0 || ((ackRaw - st.rTrim[p]) | 0) > 0) this.ackReceived(p, ackRaw);
    if (len > 0 && seg.capturedPayloadLen >= len && rel >= 0) this.dataSent(e, base, len);
    st.eflags[e] |= E.Z_DIDCLOSE;
    return this.dirty;
  }

  /** Swaps Zeek's originator after the fact: the letters so far change case, '^' leads. */
  private flipLate(s: number): void {
    const st = this.st;
    const h = this.hist.get(s);
    let swapped = '^';
    for (const ch of h) swapped += ch === ch.toUpperCase() ? ch.toLowerCase() : ch.toUpperCase();
    this.hist.release(s);
    for (let i = 0; i < swapped.length; i++) this.hist.append(s, swapped.charCodeAt(i));
    const seen = st.histSeen[s];
    st.histSeen[s] = ((seen >>> 16) | (seen << 16)) >>> 0;
    st.cflags[s] ^= C.ZFLIP;
    st.cflags[s] &= ~C.Z_PARTIAL;
    this.dirty = true;
  }

  /** Zeek's conn_state for slot s, as an index into CONN_STATES. */
  connState(s: number): number {
    const st = this.st;
    const o = 2 * s + ((st.cflags[s] & C.ZFLIP) !== 0 ? 1 : 0);
    const r = o ^ 1;
    const os = st.zst[o];
    const rs = st.zst[r];
    const oInactive = os === Z.INACTIVE || os === Z.PARTIAL;
    const rInactive = rs === Z.INACTIVE || rs === Z.PARTIAL;
    if (rs === Z.RESET) {
      if (os === Z.SYN_SENT || os === Z.SYN_ACK_SENT || (os === Z.RESET && this.size(o) === 0 && this.size(r) === 0)) {
        return CS.REJ;
      }
      return oInactive ? CS.RSTRH : CS.RSTR;
    }
    if (os === Z.RESET) {
      if (rInactive) return this.synThenRst(s) ? CS.RSTOS0 : CS.OTH;
      return CS.RSTO;
    }
    if (rs === Z.CLOSED && os === Z.CLOSED) return CS.SF;
    if (os === Z.CLOSED) return rInactive ? CS.SH : CS.S2;
    if (rs === Z.CLOSED) return oInactive ? CS.SHR : CS.S3;
    if (os === Z.SYN_SENT && rs === Z.INACTIVE) return CS.S0;
    if (os === Z.ESTABLISHED && rs === Z.ESTABLISHED) return CS.S1;
    return CS.OTH;
  }

  /** Whether the history matches Zeek's /^\^?S[^HAFGIQ]*R.*$/ (the RSTOS0 test). */
  private synThenRst(s: number): boolean {
    const h = this.hist;
    const n = h.length(s);
    let i = 0;
    if (h.at(s, 0) === 94 /* ^ */) i = 1;
    if (h.at(s, i) !== 83 /* S */) return false;
    for (i++; i < n; i++) {
      const c = h.at(s, i);
      if (c === 82 /* R */) return true;
      if (c === 72 || c === 65 || c === 70 || c === 71 || c === 73 || c === 81) return false; // H A F G I Q
    }
    return false;
  }

  /** TCP_Endpoint::Size(): payload bytes as the sequence numbers tell. */
  private size(x: number): number {
    const st = this.st;
    const peer = x ^ 1;
    if (st.zprev[x] === Z.SYN_SENT && st.zst[x] === Z.RESET && st.zst[peer] === Z.INACTIVE && !this.noDataAcked(x)) {
      return 0;
    }
    const a = (st.zLast[x] - st.zStart[x]) | 0;
    const b = (st.zAck[x] - st.zStart[x]) | 0;
    let size = Math.max(a, b, 0);
    if (size !== 0) size--;
    if ((st.eflags[x] & E.Z_FIN) !== 0 && size !== 0) size--;
    return size;
  }

  private noDataAcked(x: number): boolean {
    const st = this.st;
    return st.zAck[x] === st.zStart[x] || st.zAck[x] === ((st.zStart[x] + 1) | 0);
  }

  private initSeqs(x: number, start: number): void {
    const st = this.st;
    st.zStart[x] = start;
    st.zAck[x] = start;
    // The reassembler numbers from 1 past the start (relative seq 1), as Zeek's does.
    st.rContig[x] = (start + 1) | 0;
    st.rTrim[x] = (start + 1) | 0;
    st.eflags[x] &= ~E.R_ABOVE;
  }

  private setState(x: number, v: number): void {
    const st = this.st;
    if (st.zst[x] !== v) {
      st.zprev[x] = st.zst[x];
      st.zst[x] = v;
      this.dirty = true;
    }
  }

  private addHist(isOrig: boolean, upper: number): void {
    this.hist.append(this.s, isOrig ? upper : upper + 32);
    this.dirty = true;
  }

  /** Conn::CheckHistory: true if already seen; otherwise records the letter. */
  private check(isOrig: boolean, mask: number, upper: number): boolean {
    const st = this.st;
    const m = isOrig ? mask : mask << 16;
    if ((st.histSeen[this.s] & m) === 0) {
      st.histSeen[this.s] |= m;
      this.addHist(isOrig, upper);
      return false;
    }
    return true;
  }

  /** Conn::ScaledHistoryEntry: the letter at counts 1, 10, 100, … */
  private scaled(counter: Uint32Array, x: number, isOrig: boolean, upper: number): void {
    const c = ++counter[x];
    let t = 1;
    while (t < c) t *= 10;
    if (t === c) this.addHist(isOrig, upper);
  }

  private updateHistory(e: number, isOrig: boolean, flags: number, rel: number, len: number): void {
    const st = this.st;
    const syn = (flags & SYN) !== 0;
    const fin = (flags & FIN) !== 0;
    const rst = (flags & RST) !== 0;
    const bits = (syn ? 1 : 0) + (fin ? 1 : 0) + (rst ? 1 : 0);
    if (bits > 1) {
      if (fin && rst) this.check(isOrig, H_FIN_RST, 73 /* I */);
      else this.check(isOrig, H_MULTI, 81 /* Q */);
    } else if (bits === 1) {
      if (syn) {
        const code = (flags & ACK) !== 0 ? 72 /* H */ : 83; /* S */
        if (this.check(isOrig, H_SYN, code) && rel !== st.hlSyn[e]) this.addHist(isOrig, code);
        st.hlSyn[e] = rel;
      }
      if (fin) {
        const end = (rel + len) | 0;
        if (this.check(isOrig, H_FIN, 70 /* F */) && end !== st.hlFin[e]) this.addHist(isOrig, 70);
        st.hlFin[e] = end;
      }
      if (rst) {
        if (this.check(isOrig, H_RST, 82 /* R */) && rel !== st.hlRst[e]) this.addHist(isOrig, 82);
        st.hlRst[e] = rel;
      }
    } else if (len > 0) {
      this.check(isOrig, H_DATA, 68 /* D */);
    } else if ((flags & ACK) !== 0) {
      this.check(isOrig, H_ACK, 65 /* A */);
    }
  }

  /** UpdateStateMachine and its per-state helpers; returns do_close. */
  private stateMachine(e: number, p: number, isOrig: boolean, flags: number, base: number, len: number): boolean {
    const st = this.st;
    const syn = (flags & SYN) !== 0;
    const fin = (flags & FIN) !== 0;
    const rst = (flags & RST) !== 0;
    const ack = (flags & ACK) !== 0;
    let doClose = false;
    switch (st.zst[e]) {
      case Z.INACTIVE: {
        if (syn) {
          if (isOrig) {
            this.setState(e, ack ? Z.SYN_ACK_SENT : Z.SYN_SENT);
          } else {
            if (!ack && st.zst[p] === Z.SYN_ACK_SENT && base === st.zStart[e]) {
              // SYN and SYN+ACK seen in reverse order: Zeek flips the roles.
              st.cflags[this.s] &= ~C.Z_PARTIAL;
              st.cflags[this.s] ^= C.ZFLIP;
              this.hist.append(this.s, 94 /* ^ */);
              this.dirty = true;
              this.setState(p, Z.ESTABLISHED);
            }
            if (st.zst[p] === Z.SYN_SENT) this.setState(p, Z.ESTABLISHED);
            this.setState(e, Z.ESTABLISHED);
          }
        }
        if (fin) {
          this.setState(e, Z.CLOSED);
          doClose = true;
        }
        if (rst) {
          this.setState(e, Z.RESET);
          doClose = true;
        }
        if (st.zst[e] === Z.INACTIVE) {
          const origEp = 2 * this.s + ((st.cflags[this.s] & C.ZFLIP) !== 0 ? 1 : 0);
          if (!isOrig && len === 0 && st.zst[origEp] === Z.SYN_SENT) {
            // an early ACK of the SYN does not make a partial connection
          } else if (ack && st.zst[p] === Z.ESTABLISHED) {
            this.setState(e, Z.ESTABLISHED);
            st.cflags[this.s] &= ~C.Z_PARTIAL;
          } else {
            this.setState(e, Z.PARTIAL);
          }
        }
        break;
      }
      case Z.SYN_SENT:
      case Z.SYN_ACK_SENT:
        if (fin) {
          this.setState(e, Z.CLOSED);
          doClose = true;
        }
        if (rst) {
          this.setState(e, Z.RESET);
          doClose = true;
        }
        break;
      case Z.ESTABLISHED:
      case Z.PARTIAL:
        if (syn && st.zst[e] === Z.PARTIAL && st.zst[p] === Z.INACTIVE && !ack) this.setState(e, Z.SYN_SENT);
        if (fin && !rst) {
          this.setState(e, Z.CLOSED);
          // a FIN followed by a RST from the peer was a normal close after all
          if (st.zst[p] === Z.RESET && st.zprev[p] === Z.CLOSED) this.setState(p, Z.CLOSED);
          doClose = true;
        }
        if (rst) {
          this.setState(e, Z.RESET);
          doClose = true;
        }
        break;
      case Z.CLOSED:
        if (rst && st.zst[p] !== Z.CLOSED) {
          this.setState(e, Z.RESET);
          if ((st.eflags[e] & E.Z_DIDCLOSE) === 0) doClose = true;
        }
        break;
      case Z.RESET:
        break;
    }
    return doClose;
  }

  /** TCP_Reassembler::AckReceived for endpoint x's data, acked up to raw seq `upTo`. */
  private ackReceived(x: number, upTo: number): void {
    const st = this.st;
    if ((st.eflags[x] & E.Z_FIN) !== 0 && ((upTo - st.zFinRel[x]) | 0) >= 0) upTo = (st.zFinRel[x] - 1) | 0;
    if (((upTo - st.rTrim[x]) | 0) <= 0) return;
    if (((upTo - st.rContig[x]) | 0) > 0) this.undelivered(x, upTo);
    st.rTrim[x] = upTo;
  }

  private undelivered(x: number, upTo: number): void {
    const st = this.st;
    if (((upTo - st.zStart[x]) | 0) <= 2 && (st.cflags[this.s] & C.Z_PARTIAL) !== 0) return;
    if ((st.eflags[x] & E.R_ABOVE) !== 0 && ((st.rAboveS[x] - upTo) | 0) < 0) {
      const hole = (st.rAboveS[x] - st.rContig[x]) | 0;
      if (hole > 0) this.gap(x, hole);
      if (((st.rAboveE[x] - st.rContig[x]) | 0) > 0) st.rContig[x] = st.rAboveE[x];
      st.eflags[x] &= ~E.R_ABOVE;
    }
    const rest = (upTo - st.rContig[x]) | 0;
    if (rest > 0) {
      this.gap(x, rest);
      st.rContig[x] = upTo;
    }
  }

  private gap(x: number, n: number): void {
    const st = this.st;
    if (this.clean(x) && this.clean(x ^ 1)) {
      const isOrig = (x & 1) === ((st.cflags[this.s] & C.ZFLIP) !== 0 ? 1 : 0);
      this.scaled(st.cntGap, x, isOrig, 71 /* G */);
      st.missed[this.s] += n;
    }
  }

  private clean(x: number): boolean {
    const st = this.st;
    return st.zst[x] === Z.ESTABLISHED || (st.zst[x] === Z.CLOSED && st.zprev[x] === Z.ESTABLISHED);
  }

  /** TCP_Reassembler::DataSent + NewBlock for endpoint x: bytes [s, s+len). */
  private dataSent(x: number, s: number, len: number): void {
    const st = this.st;
    let from = s;
    const to = (s + len) | 0;
    const acked = st.zAck[x];
    if (((from - acked) | 0) < 0) {
      if (((to - acked) | 0) <= 0) return;
      from = acked;
    }
    if (((to - st.rTrim[x]) | 0) <= 0) return;
    if (((from - st.rTrim[x]) | 0) < 0) from = st.rTrim[x];
    if (((from - st.rContig[x]) | 0) <= 0) {
      if (((to - st.rContig[x]) | 0) > 0) {
        st.rContig[x] = to;
        if ((st.eflags[x] & E.R_ABOVE) !== 0 && ((st.rAboveS[x] - to) | 0) <= 0) {
          if (((st.rAboveE[x] - to) | 0) > 0) st.rContig[x] = st.rAboveE[x];
          st.eflags[x] &= ~E.R_ABOVE;
        }
      }
    } else if ((st.eflags[x] & E.R_ABOVE) === 0) {
      st.rAboveS[x] = from;
      st.rAboveE[x] = to;
      st.eflags[x] |= E.R_ABOVE;
    } else {
      // One block above the hole is kept; a second one widens it (an approximation of Zeek's list).
      if (((from - st.rAboveS[x]) | 0) < 0) st.rAboveS[x] = from;
      if (((to - st.rAboveE[x]) | 0) > 0) st.rAboveE[x] = to;
    }
  }
}
