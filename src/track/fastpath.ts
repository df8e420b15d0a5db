import { TcpFlag, type Segment } from '../decode/segment';
import { CONN, HS, Kind } from './core';
import { EV, evWord } from './eventlog';
import { TrackerExpiry } from './expiry';
import { packMeta } from './pools';
import { C, E } from './store';
import { CL, ROLE, S } from './transitions';

const FIN = TcpFlag.FIN;
const SYN = TcpFlag.SYN;
const ACK = TcpFlag.ACK;

/**
 * The segments most connections consist of, each done in a straight line: the opening SYN, the
 * SYN+ACK that answers it, in-order data and ACKs (the handshake's last ACK among them), the two
 * FINs and the ACKs that cover them. Tracker.segment() judges every segment against every rule;
 * here a handler first checks that the segment would take exactly one known course through those
 * rules (no anomaly, no odd flags, the states and flags that course needs), then makes that
 * course's changes and emits its events in the same order. When any check fails it returns false
 * having touched nothing, and segment() handles the segment. The results are the same either way
 * (test/track/fastpath.test.ts runs both on the same traffic); this only skips work.
 */
export abstract class TrackerFastPath extends TrackerExpiry {
  /**
   * An ACK (with or without data) that continues the sender's sequence between two established
   * endpoints: it changes no state and raises no anomaly, so only counts, sequence positions and
   * the ladder move, unless it is the handshake's last ACK, which also establishes the peer.
   */
  protected ordinary(s: number, d: number, seg: Segment): boolean {
    const st = this.st;
    const eflags = st.eflags;
    const hi = st.hi;
    const ackHi = st.ackHi;
    const e = 2 * s + d;
    const p = e ^ 1;
    const ef = eflags[e];
    const pf = eflags[p];
    const seq = seg.seq | 0;
    const ackNo = seg.ack | 0;
    const len = seg.payloadLen;
    const window = seg.window;
    const o = st.nseg[s];
    // Both sides numbered, no FIN from the peer (its ACK would be judged), no reception pending, the
    // next byte in sequence (no retransmission, gap or keep-alive), an open window.
    if ((ef & (E.SENT | E.SEQ_INIT | E.PEND_FIN)) !== (E.SENT | E.SEQ_INIT) ||
        (pf & (E.SEQ_INIT | E.PEND_FIN | E.FIN)) !== E.SEQ_INIT || seq !== hi[e] || window === 0 || o === 0) {
      return false;
    }
    const peerSent = (pf & E.SENT) !== 0;
    if (peerSent && ((ackNo - hi[p]) | 0) > 0) return false; // bad-ack
    if (len === 0 && (ef & (E.ACKED | E.DUP_PEND)) === (E.ACKED | E.DUP_PEND) && ackNo === ackHi[e] &&
        window === st.win[e] && ((hi[p] - ackNo) | 0) > 0 && peerSent) {
      return false; // dup-ack
    }
    const ps = st.st[p];
    let completes = false;
    if (ps === S.SYN_RECEIVED) {
      // the handshake's last ACK: it must acknowledge the peer's SYN, and this side be established
      if (!this.acksSyn(p, ackNo) || st.st[e] < S.ESTABLISHED) return false;
      completes = true;
    } else if (ps === S.SYN_SENT || (st.cflags[s] & (C.HS_EST | C.PARTIAL)) === 0) {
      return false; // a handshake still under way: its events may be due
    }
    this.arrive(s, e, d, seg, o);
    if (this.zeek.packet(s, d, seg, this.now)) this.refreshConnState(s);

    // (read again: Zeek's reassembly keeps bits of its own in the same word)
    let x = eflags[e];
    if (len > 0) hi[e] = (seq + len) | 0;
    const advanced = (x & E.ACKED) === 0 || ((ackNo - ackHi[e]) | 0) > 0;
    if (advanced) ackHi[e] = ackNo;
    // an identical pure ACK is a duplicate only after one that carried nothing either
    if (len === 0 && (advanced || ackNo === ackHi[e])) x |= E.DUP_PEND;
    else x &= ~E.DUP_PEND;
    st.win[e] = window;
    eflags[e] = x | E.ACKED | E.WIN;
    if (!completes) {
      this.lists.touch(s, st.lclass[s]);
      return true;
    }
    this.setState(s, 1 - d, S.ESTABLISHED, o);
    if ((st.cflags[s] & (C.HS_EST | C.PARTIAL)) === 0) {
      st.cflags[s] |= C.HS_EST | C.EST_ONCE;
      st.tAck[s] = this.now;
      this.counters.handshakesCompleted++;
      this.emit(s, evWord(EV.HANDSHAKE, 0, false, HS.EST, 0, 0), o);
    }
    this.lists.touch(s, this.classOf(s));
    return true;
  }

  /**
   * A plain SYN that has just opened connection s (create() made the slot, its sender the client):
   * SYN_SENT, Zeek's S, the opening events.
   */
  protected opening(s: number, seg: Segment): boolean {
    const st = this.st;
    const e = 2 * s;
    // Without data or a zero window, nothing else (Zeek's T and W) can happen to a first SYN.
    if ((seg.flags & (SYN | FIN | TcpFlag.RST | ACK)) !== SYN || seg.payloadLen !== 0 || seg.window === 0) return false;
    const seq = seg.seq | 0;
    this.ord = 0;
    const r = this.ladder.record(s, 0, seq, seg.ack | 0, 0, packMeta(seg.flags, seg.window, false));
    if (r >= 0) this.ladder.pool.setTs(r, this.now);
    st.nseg[s] = 1;
    this.emit(s, evWord(EV.CONNECTION, 0, false, CONN.OPENED, 0, 0), 0);
    st.pkts[e]++;
    // (tLast and tRef were set to now by create())

    if (this.zeek.packet(s, 0, seg, this.now)) this.refreshConnState(s);

    let x = st.eflags[e] | E.SEQ_INIT | E.ISN_KNOWN | E.SYN | E.SENT | E.WIN;
    st.isn[e] = seq;
    st.hi[e] = (seq + 1) | 0;
    if (seg.mss >= 0) st.mss[e] = seg.mss;
    st.wscale[e] = seg.wscale >= 0 ? Math.min(seg.wscale, 14) : -1;
    if (seg.sackPermitted) x |= E.SACK_OK;
    if (seg.hasTimestamps) x |= E.TS;
    st.win[e] = seg.window;
    st.eflags[e] = x;

    this.setState(s, 0, S.SYN_SENT, 0);
    // (the listener's row has no change for a SYN)
    st.cflags[s] |= C.HS_SYN;
    if (Number.isNaN(st.tSyn[s])) st.tSyn[s] = this.now;
    this.emit(s, evWord(EV.HANDSHAKE, 0, false, HS.SYN, 0, 0), 0);
    // (create() put s at the tail of the SYN_SENT timers, where it stays)
    return true;
  }

  /** The SYN+ACK of a listener answering the client's SYN: SYN_RECEIVED, and the client ESTABLISHED. */
  protected synAck(s: number, d: number, seg: Segment): boolean {
    const st = this.st;
    const e = 2 * s + d;
    const p = e ^ 1;
    const ackNo = seg.ack | 0;
    const o = st.nseg[s];
    // This side never sent anything (nor was numbered by the peer's ACK), the peer sent its SYN.
    if (st.eflags[e] !== 0 || st.st[e] !== S.LISTEN || st.st[p] !== S.SYN_SENT || seg.payloadLen !== 0 ||
        o === 0 || (st.eflags[p] & (E.SEQ_INIT | E.PEND_FIN)) !== E.SEQ_INIT || !this.acksSyn(p, ackNo) ||
        (st.cflags[s] & C.HS_SYNACK) !== 0) {
      return false;
    }
    const seq = seg.seq | 0;
    this.arrive(s, e, d, seg, o);
    if (this.zeek.packet(s, d, seg, this.now)) this.refreshConnState(s);

    let x = st.eflags[e] | E.SEQ_INIT | E.ISN_KNOWN | E.SYNACK | E.SENT | E.ACKED | E.WIN;
    st.isn[e] = seq;
    st.hi[e] = (seq + 1) | 0;
    if (seg.mss >= 0) st.mss[e] = seg.mss;
    st.wscale[e] = seg.wscale >= 0 ? Math.min(seg.wscale, 14) : -1;
    if (seg.sackPermitted) x |= E.SACK_OK;
    if (seg.hasTimestamps) x |= E.TS;
    st.ackHi[e] = ackNo;
    st.win[e] = seg.window;
    st.eflags[e] = x;

    this.setState(s, d, S.SYN_RECEIVED, o);
    this.setState(s, 1 - d, S.ESTABLISHED, o);
    st.cflags[s] |= C.HS_SYNACK | C.SYNACK_SEEN;
    st.tSynAck[s] = this.now;
    this.emit(s, evWord(EV.HANDSHAKE, d, false, HS.SYNACK, 0, 0), o);
    this.lists.touch(s, this.classOf(s));
    return true;
  }

  /**
   * A FIN (with or without data) in sequence from an established endpoint: the first of the two
   * (FIN_WAIT_1; its reception waits, see segment()), or the answer to the peer's FIN that
   * acknowledges it (CLOSE_WAIT then LAST_ACK; the peer FIN_WAIT_2 then TIME_WAIT).
   */
  protected fin(s: number, d: number, seg: Segment): boolean {
    const st = this.st;
    const eflags = st.eflags;
    const e = 2 * s + d;
    const p = e ^ 1;
    const ef = eflags[e];
    const pf = eflags[p];
    const seq = seg.seq | 0;
    const ackNo = seg.ack | 0;
    const len = seg.payloadLen;
    const o = st.nseg[s];
    // numbered, its first FIN (not a retransmission), in sequence, an open window, a peer that
    // received everything it sent, a completed handshake
    if ((ef & (E.SENT | E.SEQ_INIT | E.FIN)) !== (E.SENT | E.SEQ_INIT) || (pf & (E.SEQ_INIT | E.PEND_FIN)) !== E.SEQ_INIT ||
        seq !== st.hi[e] || seg.window === 0 || o === 0 || st.st[e] !== S.ESTABLISHED ||
        ((pf & E.SENT) !== 0 && ((ackNo - st.hi[p]) | 0) > 0) || (st.cflags[s] & (C.HS_EST | C.PARTIAL)) === 0) {
      return false;
    }
    const answer = (ef & E.PEND_FIN) !== 0;
    if (answer) {
      if (st.st[p] !== S.FIN_WAIT_1 || (pf & E.FIN) === 0 || ((ackNo - st.finSeq[p] - 1) | 0) < 0) return false;
    } else if (st.st[p] !== S.ESTABLISHED || (pf & E.FIN) !== 0) {
      return false;
    }

    this.arrive(s, e, d, seg, o);
    if (answer) this.receivePendingFin(s, e);
    if (this.zeek.packet(s, d, seg, this.now)) this.refreshConnState(s);

    const segEnd = (seq + len + 1) | 0;
    st.finSeq[e] = (segEnd - 1) | 0;
    st.hi[e] = segEnd;
    let x = eflags[e];
    if ((x & E.ACKED) === 0 || ((ackNo - st.ackHi[e]) | 0) > 0) st.ackHi[e] = ackNo;
    st.win[e] = seg.window;
    eflags[e] = (x & ~E.DUP_PEND) | E.FIN | E.ACKED | E.WIN;

    this.setState(s, d, answer ? S.LAST_ACK : S.FIN_WAIT_1, o);
    this.finSent(s, d, false);
    if (answer) {
      this.setState(s, 1 - d, S.FIN_WAIT_2, o);
      this.setState(s, 1 - d, S.TIME_WAIT, o);
    } else {
      this.awaitFin(s, p, o);
    }
    this.lists.touch(s, this.classOf(s));
    return true;
  }

  /**
   * An ACK (with or without data) in sequence that covers the peer's FIN: FIN_WAIT_1 → FIN_WAIT_2,
   * CLOSING → TIME_WAIT, LAST_ACK → CLOSED (and the connection closed), or nothing to move.
   */
  protected ackFin(s: number, d: number, seg: Segment): boolean {
    const st = this.st;
    const eflags = st.eflags;
    const hi = st.hi;
    const ackHi = st.ackHi;
    const e = 2 * s + d;
    const p = e ^ 1;
    const ef = eflags[e];
    const pf = eflags[p];
    const seq = seg.seq | 0;
    const ackNo = seg.ack | 0;
    const len = seg.payloadLen;
    const window = seg.window;
    const o = st.nseg[s];
    const ps = st.st[p];
    if ((ef & (E.SENT | E.SEQ_INIT)) !== (E.SENT | E.SEQ_INIT) ||
        (pf & (E.SENT | E.SEQ_INIT | E.FIN | E.PEND_FIN)) !== (E.SENT | E.SEQ_INIT | E.FIN) || seq !== hi[e] ||
        window === 0 || o === 0 || ((ackNo - st.finSeq[p] - 1) | 0) < 0 || ((ackNo - hi[p]) | 0) > 0 ||
        ps === S.SYN_SENT || ps === S.SYN_RECEIVED || (st.cflags[s] & (C.HS_EST | C.PARTIAL)) === 0) {
      return false;
    }
    if (len === 0 && (ef & (E.ACKED | E.DUP_PEND)) === (E.ACKED | E.DUP_PEND) && ackNo === ackHi[e] &&
        window === st.win[e] && ((hi[p] - ackNo) | 0) > 0) {
      return false; // dup-ack
    }

    const class0 = st.st[2 * s] | (st.st[2 * s + 1] << 8) | ((st.cflags[s] & C.CLASS_MASK) << 16);
    this.arrive(s, e, d, seg, o);
    // the ACK covers the FIN, so this side had received it before sending this
    if ((ef & E.PEND_FIN) !== 0) this.receivePendingFin(s, e);
    if (this.zeek.packet(s, d, seg, this.now)) this.refreshConnState(s);

    let x = eflags[e];
    if (len > 0) hi[e] = (seq + len) | 0;
    const advanced = (x & E.ACKED) === 0 || ((ackNo - ackHi[e]) | 0) > 0;
    if (advanced) ackHi[e] = ackNo;
    if (len === 0 && (advanced || ackNo === ackHi[e])) x |= E.DUP_PEND;
    else x &= ~E.DUP_PEND;
    st.win[e] = window;
    eflags[e] = x | E.ACKED | E.WIN;

    if (this.apply(s, 1 - d, ROLE.RECEIVER, CL.ACK_FIN, o)) this.checkClosed(s, Kind.FIN);
    const class1 = st.st[2 * s] | (st.st[2 * s + 1] << 8) | ((st.cflags[s] & C.CLASS_MASK) << 16);
    this.lists.touch(s, class1 === class0 ? st.lclass[s] : this.classOf(s));
    return true;
  }

  /** What every segment of a known connection does first: the ladder, the clocks, the counts. */
  private arrive(s: number, e: number, d: number, seg: Segment, o: number): void {
    const st = this.st;
    const now = this.now;
    this.ord = o;
    const r = this.ladder.record(s, o, seg.seq | 0, seg.ack | 0, seg.payloadLen, packMeta(seg.flags, seg.window, d === 1));
    if (r >= 0) this.ladder.pool.setTs(r, now);
    st.nseg[s] = o + 1;
    if (now > st.tLast[s]) st.tLast[s] = now;
    st.tRef[s] = now;
    st.pkts[e]++;
    st.bytes[e] += seg.payloadLen;
  }
}
