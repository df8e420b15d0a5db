import type { Segment } from '../decode/segment';
import type { History } from './history';
import { C, E, type ConnStore } from './store';
import { F } from './transitions';
import { ZeekEndpoints } from './zeek/endpoint';
import { ZeekLetters } from './zeek/letters';
import { type ZeekRecord, ZeekLifetime } from './zeek/lifetime';
import { L, Z } from './zeek/names';
import { zeekConnState } from './zeek/verdict';

export type { ZeekRecord } from './zeek/lifetime';

/**
 * Zeek's view of each connection, kept beside the RFC 9293 states so that `connState` and `history`
 * come out as Zeek's conn.log would print them. This mirrors Zeek's TCP analyzer
 * (src/packet_analysis/protocol/tcp/TCPSessionAdapter.cc, TCP_Endpoint.cc and the gap accounting of
 * TCP_Reassembler.cc): one endpoint per direction (zeek/endpoint.ts), the history letters
 * (zeek/letters.ts), and conn_state() of base/protocols/conn/main.zeek as a pure function of the two
 * endpoints (zeek/verdict.ts).
 *
 * Zeek's originator is our client unless C.ZFLIP is set (Zeek guessed the other way round).
 * Sequence numbers are kept raw (int32) and compared modulo 2^32.
 *
 * With `records`, the mirror also follows Zeek's connection lifetime (zeek/lifetime.ts): a
 * connection's Zeek state then starts over whenever Zeek would have removed it, and each of Zeek's
 * records goes to `records`. Without it, one connection of ours is one Zeek connection.
 */
export interface ZeekMirrorOptions {
  records?: (r: ZeekRecord) => void;
}

const enum Z_SEQ { TOO_LARGE_DELTA = 1048576 }


export class ZeekMirror {
  private readonly letters: ZeekLetters;
  private readonly eps: ZeekEndpoints;
  private readonly life: ZeekLifetime | null;
  private now = 0;

  constructor(
    private readonly st: ConnStore,
    private readonly hist: History,
    opts: ZeekMirrorOptions = {},
  ) {
    this.letters = new ZeekLetters(st, hist);
    this.eps = new ZeekEndpoints(st, this.letters);
    this.life = opts.records ? new ZeekLifetime(st, hist, this.eps, this.letters, opts.records) : null;
  }

  /**
   * Runs one segment sent by our side `d` of slot s, at time tMs, through Zeek's analyzer
   * (TCPSessionAdapter::Process). Returns true if connState may have changed.
   */
  packet(s: number, d: number, seg: Segment, tMs: number): boolean {
    const letters = this.letters;
    letters.s = s;
    letters.dirty = false;
    if (this.life !== null) {
      this.now = tMs;
      this.life.before(s, d, seg, tMs);
    }
    const flags = seg.flags;
    if ((flags & (F.SYN | F.RST | F.FIN)) === 0) {
      // A connection that began with Zeek's originator sending a SYN+ACK is flipped as soon as an
      // ACK or data follows: a stealth scan would not go on like that (Zeek PR #2191).
      if (((flags & F.ACK) !== 0 || seg.payloadLen > 0) && this.second(s)) {
        const st = this.st;
        const o = 2 * s + ((st.cflags[s] & C.ZFLIP) !== 0 ? 1 : 0);
        if (st.zst[o] === Z.SYN_ACK_SENT && st.zst[o ^ 1] === Z.INACTIVE) letters.flip(s);
      }
      const e = 2 * s + d;
      const zst = this.st.zst;
      // the state machine has nothing to do, the window no letter to write, the ACK no peer to number
      if (zst[e] !== Z.INACTIVE && seg.window !== 0 && ((flags & F.ACK) === 0 || zst[e ^ 1] !== Z.INACTIVE)) {
        return this.steady(s, d, e, seg);
      }
    }
    return this.process(s, d, 2 * s + d, seg);
  }

  /** Zeek's conn_state for slot s, as an index into CONN_STATES. */
  connState(s: number): number {
    return zeekConnState(this.st, this.eps, this.letters, s);
  }

  /** Slot s leaves the tracker: with the lifetime model, its open record ends here. */
  release(s: number): void {
    if (this.life !== null) this.life.release(s);
    this.hist.release(s);
  }

  superseded(s: number): void {
    if (this.life !== null) this.life.superseded = s;
  }

  private second(s: number): boolean {
    return (this.life !== null ? this.life.packets(s) : this.st.nseg[s]) === 2;
  }

  private process(s: number, d: number, e: number, seg: Segment): boolean {
    const st = this.st;
    const flags = seg.flags;
    const syn = (flags & F.SYN) !== 0;
    const fin = (flags & F.FIN) !== 0;
    const rst = (flags & F.RST) !== 0;
    const ack = (flags & F.ACK) !== 0;
    const len = seg.payloadLen;
    const base = seg.seq | 0;
    const isOrig = d === ((st.cflags[s] & C.ZFLIP) !== 0 ? 1 : 0);
    const p = e ^ 1;

    this.partialStatus(s, isOrig, syn, ack);

    const segLen = len + (syn ? 1 : 0) + (fin ? 1 : 0) - (rst ? len : 0);
    const last = (base + segLen) | 0;
    this.initEndpoint(e, syn, base, last);

    const rel = (base - st.zStart[e]) | 0;
    if ((flags & (F.SYN | F.FIN | F.RST)) !== 0) this.letters.update(e, isOrig, flags, rel, len);
    else if (len > 0 || ack) this.letters.plain(isOrig, len > 0);

    // update_window: only the zero-window accounting matters here
    const zst = st.zst;
    if (seg.window === 0 && !rst && zst[p] !== Z.CLOSED && zst[e] !== Z.RESET) {
      this.letters.scaled(st.cntWin0, e, isOrig, L.ZERO_WINDOW);
    }
    if (fin) {
      st.eflags[e] |= E.Z_FIN;
      st.zFinRel[e] = last;
    }
    if (rst) st.eflags[e] |= E.Z_RST;

    const ackRaw = ack ? this.ackSeq(p, seg.ack | 0, rst) : 0;
    this.updateLastSeq(e, isOrig, flags, last, len);

    // Without SYN, FIN or RST the state machine only moves an endpoint that was inactive.
    const doClose = (flags & (F.SYN | F.FIN | F.RST)) !== 0 || zst[e] === Z.INACTIVE ?
      this.stateMachine(e, p, isOrig, flags, base, len) :
      false;

    // AckReceived returns at once unless the ACK passes what was trimmed (or a FIN moves it back)
    if (ack && ((st.eflags[p] & E.Z_FIN) !== 0 || ((ackRaw - st.rTrim[p]) | 0) > 0)) this.eps.ackReceived(p, ackRaw);

    if (len > 0 && seg.capturedPayloadLen >= len && !rst && rel >= 0) {
      this.eps.dataSent(e, syn ? (base + 1) | 0 : base, len);
    }

    if (doClose) {
      if (this.life !== null) this.life.closed(s, e);
      st.eflags[e] |= E.Z_DIDCLOSE;
    }
    return this.verdictMoved(s);
  }

  /**
   * Whether conn_state may differ from what it was before this segment: an endpoint's state or the
   * originator changed, or an endpoint is in RESET. Only then does the verdict read more than the two
   * states (Size() and the history, for REJ, RSTR and RSTOS0), and those can move without a state
   * change: an ACK moves the peer's acknowledged sequence number, a FIN its last one, a letter the
   * history. Without an endpoint in RESET the states alone decide, and they are as they were.
   */
  private verdictMoved(s: number): boolean {
    // (compared with true: a bare test of a field compiles to the generic truthiness checks)
    if (this.letters.dirty === true) return true;
    const zst = this.st.zst;
    return zst[2 * s] === Z.RESET || zst[2 * s + 1] === Z.RESET;
  }

  /**
   * process() for a segment without SYN, FIN or RST from an endpoint past INACTIVE, with a window,
   * whose ACK (if any) is for a peer past INACTIVE: the same steps without the branches that cannot
   * be taken.
   */
  private steady(s: number, d: number, e: number, seg: Segment): boolean {
    const st = this.st;
    const flags = seg.flags;
    const ack = (flags & F.ACK) !== 0;
    const len = seg.payloadLen;
    const base = seg.seq | 0;
    const cf = st.cflags[s];
    const flip = (cf & C.ZFLIP) !== 0 ? 1 : 0;
    const isOrig = d === flip;
    const p = e ^ 1;
    // SetPartialStatus: without a SYN the connection is partial (unless that side's first packet was seen)
    if ((cf & C.Z_PARTIAL) === 0 && (cf & (isOrig ? C.Z_FIRST_ORIG : C.Z_FIRST_RESP)) === 0) st.cflags[s] = cf | C.Z_PARTIAL;
    const rel = (base - st.zStart[e]) | 0;
    if (len > 0 || ack) this.letters.plain(isOrig, len > 0);
    let ackRaw = 0;
    if (ack) {
      // update_ack_seq as in ackSeq(), the peer numbered already (not shared: a call of its own
      // there cost some 20 M instructions on the bench capture)
      ackRaw = seg.ack | 0;
      const ps = st.zStart[p];
      if (((ackRaw - ps) | 0) < 0) {
        ackRaw = ps;
      } else {
        const delta = (ackRaw - st.zAck[p]) | 0;
        if (delta > 0 && !(ackRaw === 0 && delta > Z_SEQ.TOO_LARGE_DELTA)) st.zAck[p] = ackRaw;
      }
    }
    // update_last_seq: the branches of updateLastSeq() a segment without SYN, FIN or RST can take
    if (st.zst[e] !== Z.RESET) {
      const last = (base + len) | 0;
      if (((last - st.zLast[e]) | 0) > 0) st.zLast[e] = last;
      else if (len > 0) this.letters.scaled(st.cntRxmt, e, isOrig, L.RETRANSMISSION);
    }
    if (ack && ((st.eflags[p] & E.Z_FIN) !== 0 || ((ackRaw - st.rTrim[p]) | 0) > 0)) this.eps.ackReceived(p, ackRaw);
    if (len > 0 && rel >= 0 && seg.capturedPayloadLen >= len) this.eps.dataSent(e, base, len);
    return this.verdictMoved(s);
  }

  /** SetPartialStatus */
  private partialStatus(s: number, isOrig: boolean, syn: boolean, ack: boolean): void {
    const st = this.st;
    const cf = st.cflags[s];
    if (isOrig) {
      if ((cf & C.Z_FIRST_ORIG) === 0) st.cflags[s] = !syn || ack ? cf | C.Z_PARTIAL : cf & ~C.Z_PARTIAL;
    } else if ((cf & (C.Z_FIRST_RESP | C.Z_PARTIAL)) === 0 && !syn) {
      st.cflags[s] = cf | C.Z_PARTIAL;
    }
  }

  /** init_endpoint */
  private initEndpoint(e: number, syn: boolean, base: number, last: number): void {
    const st = this.st;
    switch (st.zst[e]) {
      case Z.INACTIVE:
        if (syn) {
          this.eps.initSeqs(e, base);
          st.zLast[e] = last;
        } else {
          // numbered as if a SYN had been seen; the first segment itself is not a duplicate
          this.eps.initSeqs(e, (base - 1) | 0);
          st.zLast[e] = base;
        }
        return;
      case Z.SYN_SENT:
      case Z.SYN_ACK_SENT:
        if (syn && base !== st.zStart[e]) this.restart(e, base, last);
        return;
      case Z.ESTABLISHED:
      case Z.PARTIAL:
        if (syn) this.restart(e, base, last);
        return;
      case Z.RESET:
        if (syn && st.zprev[e] === Z.INACTIVE) this.restart(e, base, last);
        return;
    }
  }

  private restart(e: number, base: number, last: number): void {
    this.eps.initSeqs(e, base);
    this.st.zLast[e] = last;
  }

  /** The ACK's part for the peer p (init_peer, update_ack_seq); returns the raw ACK Zeek uses. */
  private ackSeq(p: number, ackSeq: number, rst: boolean): number {
    const st = this.st;
    if (st.zst[p] === Z.INACTIVE) {
      // init_peer: number the silent side as if its SYN had been seen
      this.eps.initSeqs(p, (ackSeq - 1) | 0);
      st.zLast[p] = (ackSeq - 1) | 0;
      return ackSeq;
    }
    // update_ack_seq (steady() has its own copy of this for a segment without RST)
    if (((ackSeq - st.zStart[p]) | 0) < 0) return st.zStart[p];
    if (!rst) {
      const delta = (ackSeq - st.zAck[p]) | 0;
      if (!(ackSeq === 0 && delta > Z_SEQ.TOO_LARGE_DELTA) && delta > 0) st.zAck[p] = ackSeq;
    }
    return ackSeq;
  }

  /** update_last_seq (steady() repeats its last two branches, all a segment without SYN, FIN or RST can take) */
  private updateLastSeq(e: number, isOrig: boolean, flags: number, last: number, len: number): void {
    const st = this.st;
    const deltaLast = (last - st.zLast[e]) | 0;
    if ((flags & (F.SYN | F.RST)) !== 0 && (deltaLast > Z_SEQ.TOO_LARGE_DELTA || deltaLast < -Z_SEQ.TOO_LARGE_DELTA)) {
      // untrusted jump
    } else if ((flags & F.FIN) !== 0 && st.zLast[e] === ((st.zStart[e] + 1) | 0)) {
      st.zLast[e] = last;
    } else if (st.zst[e] === Z.RESET) {
      // no later sequence numbers are trusted
    } else if (deltaLast > 0) {
      st.zLast[e] = last;
    } else if (len > 0) {
      this.letters.scaled(st.cntRxmt, e, isOrig, L.RETRANSMISSION);
    }
  }

  /** UpdateStateMachine and its per-state helpers; returns do_close. */
  private stateMachine(e: number, p: number, isOrig: boolean, flags: number, base: number, len: number): boolean {
    const fin = (flags & F.FIN) !== 0;
    const rst = (flags & F.RST) !== 0;
    const eps = this.eps;
    switch (this.st.zst[e]) {
      case Z.INACTIVE:
        return this.inactiveState(e, p, isOrig, flags, base, len);
      case Z.SYN_SENT:
      case Z.SYN_ACK_SENT:
        if (fin) eps.setState(e, Z.CLOSED);
        if (rst) eps.setState(e, Z.RESET);
        return fin || rst;
      case Z.ESTABLISHED:
      case Z.PARTIAL: {
        const st = this.st;
        if ((flags & (F.SYN | F.ACK)) === F.SYN && st.zst[e] === Z.PARTIAL && st.zst[p] === Z.INACTIVE) eps.setState(e, Z.SYN_SENT);
        if (fin && !rst) {
          eps.setState(e, Z.CLOSED);
          // a FIN followed by a RST from the peer was a normal close after all
          if (st.zst[p] === Z.RESET && st.zprev[p] === Z.CLOSED) eps.setState(p, Z.CLOSED);
        }
        if (rst) eps.setState(e, Z.RESET);
        return fin || rst;
      }
      case Z.CLOSED:
        if (rst && this.st.zst[p] !== Z.CLOSED) {
          eps.setState(e, Z.RESET);
          return (this.st.eflags[e] & E.Z_DIDCLOSE) === 0;
        }
        return false;
      default:
        return false;
    }
  }

  /** UpdateInactiveState */
  private inactiveState(e: number, p: number, isOrig: boolean, flags: number, base: number, len: number): boolean {
    const st = this.st;
    const s = e >> 1;
    const ack = (flags & F.ACK) !== 0;
    const eps = this.eps;
    let doClose = false;
    if ((flags & F.SYN) !== 0) {
      if (isOrig) {
        eps.setState(e, ack ? Z.SYN_ACK_SENT : Z.SYN_SENT);
        if (this.life !== null) this.life.attempt(s, this.now);
      } else {
        if (!ack && st.zst[p] === Z.SYN_ACK_SENT && base === st.zStart[e]) {
          // SYN and SYN+ACK seen in reverse order: Zeek flips the roles.
          st.cflags[s] &= ~C.Z_PARTIAL;
          st.cflags[s] ^= C.ZFLIP;
          this.hist.append(s, L.FLIPPED);
          this.letters.dirty = true;
          eps.setState(p, Z.ESTABLISHED);
        }
        if (st.zst[p] === Z.SYN_SENT) eps.setState(p, Z.ESTABLISHED);
        eps.setState(e, Z.ESTABLISHED);
      }
    }
    if ((flags & F.FIN) !== 0) {
      eps.setState(e, Z.CLOSED);
      doClose = true;
    }
    if ((flags & F.RST) !== 0) {
      eps.setState(e, Z.RESET);
      doClose = true;
    }
    if (st.zst[e] === Z.INACTIVE) {
      const origEp = 2 * s + ((st.cflags[s] & C.ZFLIP) !== 0 ? 1 : 0);
      if (!isOrig && len === 0 && st.zst[origEp] === Z.SYN_SENT) {
        // an early ACK of the SYN does not make a partial connection
      } else if (ack && st.zst[p] === Z.ESTABLISHED) {
        eps.setState(e, Z.ESTABLISHED);
        st.cflags[s] &= ~C.Z_PARTIAL;
      } else {
        eps.setState(e, Z.PARTIAL);
      }
    }
    return doClose;
  }
}
