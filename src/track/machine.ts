import type { Segment } from '../decode/segment';
import type { Conns } from './conns';
import { AK, CONN, EV, HS, evWord } from './eventlog';
import type { Expiry } from './expiry';
import type { Mirror } from './mirror';
import { packMeta } from './pools';
import { NO_PLAIN_PAIRS, PLAIN, PLAIN_PAIRS, awaitsSynAck } from './plain';
import { S, STATES } from './states';
import { By, C, E, Kind } from './store';
import { CL, F, IGNORE, NO_ANOMALY, ROLE, flagAnomaly, nextState, segmentClass } from './transitions';


/**
 * The endpoint machine: one segment of a known connection, in one path. The segment is recorded
 * (ladder, clocks, counts), judged (anomalies), handed to the Zeek mirror, numbered (what its
 * sender has sent and acknowledged), and then its class is looked up in the transition table for
 * the sender and the receiver (transitions.ts), with the few exceptions named in transitions().
 */
export class Machine {
  /** The pairs of states the plain path serves (plain.ts); none when it is switched off. */
  private pairs: Uint8Array = PLAIN_PAIRS;

  constructor(
    private readonly c: Conns,
    private readonly expiry: Expiry,
    private readonly zeek: Mirror,
  ) {}

  /**
   * One segment of connection s, sent by side d (0 client, 1 server), at tsMs (also in c.now; the
   * argument is handed on as it came, so no number is boxed again on the way).
   */
  segment(s: number, d: number, seg: Segment, tsMs: number): void {
    if ((seg.flags & PLAIN.MASK) === PLAIN.FLAGS && this.plain(s, d, seg, tsMs)) return;
    const c = this.c;
    const st = c.st;
    const e = 2 * s + d;
    const p = e ^ 1;
    const f = seg.flags;
    const cls = segmentClass(f);
    this.arrive(s, e, seg, tsMs);
    const finAfterSend = this.settleFins(s, e, p, f, seg.ack | 0);

    const ef = st.eflags[e];
    const seq = seg.seq | 0;
    const syn = (f & F.SYN) !== 0;
    const synRetransmit = syn && (ef & ((f & F.ACK) !== 0 ? E.SYNACK : E.SYN)) !== 0 && seq === st.isn[e];
    const finRetransmit = (f & F.FIN) !== 0 && (ef & E.FIN) !== 0;
    c.changed = false;
    this.judge(s, d, seg, synRetransmit);
    // the RST check needs the sender's sequence position before this segment
    const rstValid = cls === CL.RST && this.rstAcceptable(s, d, seq, seg.ack | 0, (f & F.ACK) !== 0, (ef & E.SENT) !== 0);
    if (this.zeek.packet(s, d, seg, tsMs)) this.refreshConnState(s);
    this.number(s, e, seg, finRetransmit);

    let closeKind: number = Kind.FIN;
    if (cls !== CL.INVALID) {
      closeKind = this.transitions(s, d, cls, f, seg.ack | 0, synRetransmit, finRetransmit, rstValid, finAfterSend);
      if (syn || (st.cflags[s] & (C.HS_EST | C.PARTIAL)) === 0) this.handshakeEvents(s, d, f, synRetransmit);
    } else if (finAfterSend) {
      c.receivePendingFin(s, e);
    }
    if (c.changed) c.checkClosed(s, closeKind);
    c.touch(s);
  }

  /** Switches the plain path on (the default) or off; the output is the same either way. */
  usePlainPath(on: boolean): void {
    this.pairs = on ? PLAIN_PAIRS : NO_PLAIN_PAIRS;
  }

  /**
   * The plain path: a plain ACK (plain.ts) between endpoints in a pair of states the table leaves
   * where they are, when nothing else in the one path would act on it: no FIN waits for its
   * reception, the handshake's events are done (or were never to be), both sides are numbered, and
   * judge() would find nothing (the segment starts where its sender's last one ended, its window is
   * open, it acknowledges nothing unsent and is no duplicate ACK). Then it does what the one path
   * does for it, in a straight line; otherwise it returns false having changed nothing. The
   * bad-ACK and duplicate-ACK checks and the ACK's numbering are copies of judge()'s and number()'s
   * (each marked there): shared through small methods they cost 60–140 instructions a segment on
   * the bench capture (BENCHMARKS.md), so a change to either side goes to both.
   */
  private plain(s: number, d: number, seg: Segment, tsMs: number): boolean {
    const c = this.c;
    const st = c.st;
    const e = 2 * s + d;
    const p = e ^ 1;
    const ef = st.eflags[e];
    const pf = st.eflags[p];
    const ackNo = seg.ack | 0;
    const len = seg.payloadLen;
    const window = seg.window;
    if (this.pairs[st.st[e] * STATES.COUNT + st.st[p]] === 0 || ((ef | pf) & E.PEND_FIN) !== 0 ||
        (ef & pf & E.SEQ_INIT) === 0 || (st.cflags[s] & (C.HS_EST | C.PARTIAL)) === 0 ||
        (seg.seq | 0) !== st.hi[e] || window === 0) return false;
    if ((pf & E.SENT) !== 0) {
      const unsent = (st.hi[p] - ackNo) | 0;
      if (unsent < 0) return false; // a bad ACK
      if (len === 0 && unsent > 0 && (ef & (E.ACKED | E.DUP_PEND)) === (E.ACKED | E.DUP_PEND) &&
          ackNo === st.ackHi[e] && window === st.win[e]) return false; // a duplicate ACK
    }
    this.arrive(s, e, seg, tsMs);
    if (this.zeek.packet(s, d, seg, tsMs)) this.refreshConnState(s);
    // number(), for this segment (read again: the mirror may have set bits of its own)
    const x = st.eflags[e];
    st.hi[e] = (st.hi[e] + len) | 0;
    const advanced = (x & E.ACKED) === 0 || ((ackNo - st.ackHi[e]) | 0) > 0;
    if (advanced) st.ackHi[e] = ackNo;
    // an identical pure ACK is a duplicate only after one that carried nothing either
    const dupPend = len === 0 && (advanced || ackNo === st.ackHi[e]) ? E.DUP_PEND : 0;
    st.win[e] = window;
    st.eflags[e] = (x & ~E.DUP_PEND) | dupPend | E.SENT | E.ACKED | E.WIN;
    c.touch(s);
    return true;
  }

  /** What every segment does first: the ladder, the clocks, the counts (`now` is c.now, as it came). */
  private arrive(s: number, e: number, seg: Segment, now: number): void {
    const c = this.c;
    const st = c.st;
    const o = st.nseg[s];
    c.ord = o;
    if (c.keepsSegments === true) {
      c.ladder.record(s, o, now, seg.seq | 0, seg.ack | 0, seg.payloadLen, packMeta(seg.flags, seg.window, (e & 1) === 1));
    }
    st.nseg[s] = o + 1;
    if (o === 0) c.announce(s, evWord(EV.CONNECTION, 0, false, CONN.OPENED, 0, 0), 0);
    if (now > st.tLast[s]) st.tLast[s] = now;
    st.tRef[s] = now;
    st.pkts[e]++;
    st.bytes[e] += seg.payloadLen;
  }

  /**
   * FINs seen earlier whose reception waited (Expiry.awaitFin): segments from the other side
   * arrive in order, so the peer's FIN was received before this; the sender itself got it if its
   * ACK covers it. True if the sender had not received it (it sent this first).
   */
  private settleFins(s: number, e: number, p: number, f: number, ackNo: number): boolean {
    const st = this.c.st;
    if ((st.eflags[p] & E.PEND_FIN) !== 0) this.c.receivePendingFin(s, p);
    if ((st.eflags[e] & E.PEND_FIN) === 0) return false;
    if ((f & F.ACK) !== 0 && ((ackNo - st.finSeq[p] - 1) | 0) >= 0) {
      this.c.receivePendingFin(s, e);
      return false;
    }
    return true;
  }

  /** The segment's anomalies, judged against what both sides sent and acknowledged before it. */
  private judge(s: number, d: number, seg: Segment, synRetransmit: boolean): void {
    const c = this.c;
    const st = c.st;
    const e = 2 * s + d;
    const p = e ^ 1;
    const f = seg.flags;
    const ef = st.eflags[e];
    const pf = st.eflags[p];
    const seq = seg.seq | 0;
    const ackNo = seg.ack | 0;
    const len = seg.payloadLen;
    const window = seg.window;
    const rst = (f & F.RST) !== 0;
    const syn = (f & F.SYN) !== 0;
    const fin = (f & F.FIN) !== 0;
    const ack = (f & F.ACK) !== 0;
    const ak = flagAnomaly(f);
    if (ak !== NO_ANOMALY) c.anomaly(s, d, ak);
    if (synRetransmit) {
      if (!ack) st.synRetx[s]++;
      c.anomaly(s, d, ack ? AK.RETRANSMISSION : AK.SYN_RETRANSMISSION);
    } else if ((ef & E.SEQ_INIT) !== 0 && !rst && !syn && (len > 0 || fin || seq === ((st.hi[e] - 1) | 0))) {
      const segEnd = (seq + len + (fin ? 1 : 0)) | 0;
      this.dataAnomalies(s, d, seq, segEnd, len, fin);
    }
    if (window === 0 && !rst && !syn) c.anomaly(s, d, AK.ZERO_WINDOW);
    // these two rules have a copy in plain()
    if (ack && !rst && !syn && !fin && len === 0 && (ef & (E.ACKED | E.DUP_PEND)) === (E.ACKED | E.DUP_PEND) &&
        ackNo === st.ackHi[e] && window === st.win[e] && ((st.hi[p] - ackNo) | 0) > 0 && (pf & E.SENT) !== 0) {
      c.anomaly(s, d, AK.DUP_ACK);
    }
    if (ack && !rst && (pf & E.SENT) !== 0 && ((ackNo - st.hi[p]) | 0) > 0) c.anomaly(s, d, AK.BAD_ACK);
  }

  /** Retransmission, out-of-order, keep-alive and gap, judged against what the sender sent before. */
  private dataAnomalies(s: number, d: number, seq: number, segEnd: number, len: number, fin: boolean): void {
    const st = this.c.st;
    const e = 2 * s + d;
    const hi = st.hi[e];
    if (len <= 1 && !fin && seq === ((hi - 1) | 0)) {
      this.c.anomaly(s, d, AK.KEEP_ALIVE);
    } else if (len === 0 && !fin) {
      // a pure ACK: nothing to judge
    } else if (((seq - hi) | 0) > 0) {
      this.c.anomaly(s, d, AK.GAP);
    } else if (((segEnd - hi) | 0) <= 0) {
      const inHole = (st.eflags[e] & E.R_ABOVE) !== 0 && ((seq - st.rContig[e]) | 0) >= 0 &&
        ((seq - st.rAboveS[e]) | 0) < 0;
      this.c.anomaly(s, d, inHole ? AK.OUT_OF_ORDER : AK.RETRANSMISSION);
    }
  }

  /**
   * Whether the receiver of a RST from side d accepts it: in SYN_SENT only a RST that acknowledges
   * the SYN (RFC 9293 §3.10.7.3); otherwise its sequence number must fall in the receive window.
   */
  private rstAcceptable(s: number, d: number, seq: number, ackNo: number, ack: boolean, sentBefore: boolean): boolean {
    const st = this.c.st;
    const e = 2 * s + d;
    const p = e ^ 1;
    let ok: boolean;
    if (st.st[p] === S.SYN_SENT) {
      ok = ack && this.acksSyn(p, ackNo);
    } else if (!sentBefore || (st.eflags[e] & E.SEQ_INIT) === 0) {
      ok = true; // nothing to check against
    } else if (seq === st.hi[e]) {
      ok = true;
    } else {
      const rcvNxt = (st.eflags[p] & E.ACKED) !== 0 ? st.ackHi[p] : st.hi[e];
      let wnd = 65535;
      if ((st.eflags[p] & E.WIN) !== 0) {
        const scale = st.wscale[p] >= 0 && st.wscale[e] >= 0 ? Math.min(st.wscale[p], 14) : 0;
        wnd = Math.max(1, st.win[p] * 2 ** scale);
      }
      const off = (seq - rcvNxt) | 0;
      ok = off >= 0 && off <= wnd;
    }
    if (!ok) this.c.anomaly(s, d, AK.RST_OUT_OF_WINDOW);
    return ok;
  }

  /** An acceptable acknowledgement of endpoint x's SYN: ISN < ack ≤ what x sent. */
  private acksSyn(x: number, ackNo: number): boolean {
    const st = this.c.st;
    return ((ackNo - st.isn[x]) | 0) > 0 && ((ackNo - st.hi[x]) | 0) <= 0;
  }

  private refreshConnState(s: number): void {
    const c = this.c;
    const st = c.st;
    const v = this.zeek.connState(s);
    if (v !== st.zconn[s]) {
      c.counters.byConn[st.zconn[s]]--;
      c.counters.byConn[v]++;
      st.zconn[s] = v;
    }
  }

  /** What the sender has now sent and acknowledged: its numbering, its FIN, its options, its window. */
  private number(s: number, e: number, seg: Segment, finRetransmit: boolean): void {
    const st = this.c.st;
    const eflags = st.eflags;
    const p = e ^ 1;
    const f = seg.flags;
    const seq = seg.seq | 0;
    const ackNo = seg.ack | 0;
    const len = seg.payloadLen;
    const syn = (f & F.SYN) !== 0;
    const fin = (f & F.FIN) !== 0;
    const rst = (f & F.RST) !== 0;
    const segEnd = (seq + (rst ? 0 : len) + (syn ? 1 : 0) + (fin ? 1 : 0)) | 0;
    // (read again: the mirror and the judges may have set bits of their own)
    let x = eflags[e];
    const numbered = (x & E.SEQ_INIT) !== 0;
    if (!numbered) {
      st.isn[e] = syn ? seq : (seq - 1) | 0;
      st.hi[e] = seq;
      x |= E.SEQ_INIT;
    } else if (syn && (x & E.ISN_KNOWN) === 0 && !rst) {
      st.isn[e] = seq; // the handshake's SYN, seen late: now the ISN is known
    }
    if (syn && !rst) x |= E.ISN_KNOWN | ((f & F.ACK) !== 0 ? E.SYNACK : E.SYN);
    if (fin && !rst && !finRetransmit) {
      st.finSeq[e] = (segEnd - 1) | 0;
      x |= E.FIN;
    }
    if (((x & E.SENT) === 0 && !numbered) || ((segEnd - st.hi[e]) | 0) > 0) st.hi[e] = segEnd;
    x |= E.SENT;
    if (syn) x = this.synOptions(e, seg, x);
    if ((f & F.ACK) !== 0) {
      // (this numbering of the ACK has a copy in plain())
      const advanced = (x & E.ACKED) === 0 || ((ackNo - st.ackHi[e]) | 0) > 0;
      if (advanced) st.ackHi[e] = ackNo;
      // an identical pure ACK is a duplicate only after one that carried nothing either
      if (len === 0 && !syn && !fin && !rst && (advanced || ackNo === st.ackHi[e])) x |= E.DUP_PEND;
      else x &= ~E.DUP_PEND;
      x |= E.ACKED;
      if ((eflags[p] & E.SEQ_INIT) === 0) {
        // the silent side is numbered from what is acknowledged, as if its SYN had been seen
        st.isn[p] = (ackNo - 1) | 0;
        st.hi[p] = ackNo;
        eflags[p] |= E.SEQ_INIT;
      }
    }
    st.win[e] = seg.window;
    eflags[e] = x | E.WIN;
  }

  /** The options a SYN carries (MSS, window scale, SACK permitted, timestamps); returns the new eflags. */
  private synOptions(e: number, seg: Segment, x: number): number {
    const st = this.c.st;
    if (seg.mss >= 0) st.mss[e] = seg.mss;
    st.wscale[e] = seg.wscale >= 0 ? Math.min(seg.wscale, 14) : -1;
    if (seg.sackPermitted) x |= E.SACK_OK;
    if (seg.hasTimestamps) x |= E.TS;
    return x;
  }

  /**
   * The table for sender then receiver (see transitions.ts), with the exceptions it cannot say:
   * retransmitted SYNs and FINs move nothing; a plain SYN from the assumed listener while the
   * client is in SYN_SENT is a simultaneous open; a FIN's reception waits while its receiver may
   * still send its own (Expiry.awaitFin); RSTs in reset(). Returns how a close caused by this
   * segment should be labelled.
   */
  private transitions(
    s: number,
    d: number,
    cls: number,
    f: number,
    ackNo: number,
    synRetransmit: boolean,
    finRetransmit: boolean,
    rstValid: boolean,
    finAfterSend: boolean,
  ): number {
    const c = this.c;
    if (cls === CL.RST) return this.reset(s, d, rstValid, finAfterSend);
    const st = c.st;
    const e = 2 * s + d;
    const p = e ^ 1;
    const ref = c.ord;
    // sender (here and for a SYN's receiver the cell is read before Conns.apply() is called: the
    // ACKs and a receiver in LISTEN find IGNORE there, and the call is saved)
    if (cls === CL.SYN ? synRetransmit : cls === CL.FIN && finRetransmit) {
      // a retransmission: moves nothing
    } else if (cls === CL.SYN && st.st[e] === S.LISTEN && st.st[p] === S.SYN_SENT) {
      // Simultaneous open: this side never listened; it opened too, and had the peer's SYN in
      // flight when it sent its own.
      c.correctState(s, d, S.CLOSED);
      c.setState(s, d, S.SYN_SENT, ref);
      c.setState(s, d, S.SYN_RECEIVED, ref);
    } else if (nextState(ROLE.SENDER, cls, st.st[e]) !== IGNORE && c.apply(s, d, ROLE.SENDER, cls, ref) && cls === CL.FIN) {
      c.finSent(s, d, finAfterSend);
    }
    if (finAfterSend) c.receivePendingFin(s, e);

    // receiver: the ACK part first
    if ((f & F.ACK) !== 0) {
      const r = st.st[p];
      if (awaitsSynAck(r) && (st.eflags[p] & E.SEQ_INIT) !== 0) {
        if (this.acksSyn(p, ackNo)) c.apply(s, 1 - d, ROLE.RECEIVER, CL.ACK_SYN, ref);
        else c.anomaly(s, d, AK.BAD_HANDSHAKE_ACK);
      } else if ((st.eflags[p] & E.FIN) !== 0 && ((ackNo - st.finSeq[p] - 1) | 0) >= 0 && ((ackNo - st.hi[p]) | 0) <= 0) {
        c.apply(s, 1 - d, ROLE.RECEIVER, CL.ACK_FIN, ref);
      }
    }
    // then SYN / FIN
    if (cls === CL.SYN && !synRetransmit && nextState(ROLE.RECEIVER, CL.SYN, st.st[p]) !== IGNORE) {
      c.apply(s, 1 - d, ROLE.RECEIVER, CL.SYN, ref);
    }
    if (cls === CL.FIN && !finRetransmit) {
      if ((st.eflags[p] & E.FIN) !== 0) c.apply(s, 1 - d, ROLE.RECEIVER, CL.FIN, ref);
      else this.expiry.awaitFin(s, p, ref);
    }
    return Kind.FIN;
  }

  /**
   * A RST: an accepted one closes both sides through the table, except that a RST from an
   * endpoint still in (assumed) LISTEN means no socket ever listened (refused, no state event).
   */
  private reset(s: number, d: number, rstValid: boolean, finAfterSend: boolean): number {
    const c = this.c;
    const st = c.st;
    const e = 2 * s + d;
    const p = e ^ 1;
    const ref = c.ord;
    if (!rstValid) {
      if (finAfterSend) c.receivePendingFin(s, e);
      return Kind.FIN;
    }
    let kind: number = Kind.RST;
    const refused = st.st[p] === S.SYN_SENT;
    let changed = false;
    if (st.st[e] === S.LISTEN) c.correctState(s, d, S.CLOSED);
    else changed = c.apply(s, d, ROLE.SENDER, CL.RST, ref);
    if (finAfterSend) c.receivePendingFin(s, e);
    if (c.apply(s, 1 - d, ROLE.RECEIVER, CL.RST, ref)) changed = true;
    if (refused && st.st[p] === S.CLOSED) {
      kind = Kind.REFUSED;
      st.cflags[s] |= C.REFUSED;
      c.counters.refused++;
      c.emit(s, evWord(EV.REFUSED, 0, false, 0, 0, 0), ref);
    } else if (changed) {
      if ((st.cflags[s] & C.RESET) === 0) c.counters.resets++;
      st.cflags[s] |= C.RESET;
      c.emit(s, evWord(EV.RESET, d, true, 0, 0, 0), ref);
    }
    if (changed || refused) c.setClosedBy(s, d === 0 ? By.CLIENT : By.SERVER, false);
    return kind;
  }

  private handshakeEvents(s: number, d: number, f: number, synRetransmit: boolean): void {
    const c = this.c;
    const st = c.st;
    const cf = st.cflags[s];
    if ((f & (F.SYN | F.ACK | F.RST)) === F.SYN && d === 0 && (cf & C.HS_SYN) === 0) {
      st.cflags[s] |= C.HS_SYN;
      if (Number.isNaN(st.tSyn[s])) st.tSyn[s] = c.now;
      if ((cf & C.SYNACK_SEEN) === 0) c.emit(s, evWord(EV.HANDSHAKE, 0, false, HS.SYN, 0, 0), c.ord);
    } else if ((f & (F.SYN | F.ACK | F.RST)) === (F.SYN | F.ACK) && (cf & C.HS_SYNACK) === 0 && !synRetransmit) {
      st.cflags[s] |= C.HS_SYNACK | C.SYNACK_SEEN;
      st.tSynAck[s] = c.now;
      c.emit(s, evWord(EV.HANDSHAKE, d, false, HS.SYN_ACK, 0, 0), c.ord);
    }
    if ((st.cflags[s] & (C.HS_EST | C.PARTIAL)) === 0 && st.st[2 * s] >= S.ESTABLISHED &&
        st.st[2 * s + 1] >= S.ESTABLISHED) {
      st.cflags[s] |= C.HS_EST | C.EST_ONCE;
      st.tAck[s] = c.now;
      c.counters.handshakesCompleted++;
      c.emit(s, evWord(EV.HANDSHAKE, 0, false, HS.ESTABLISHED, 0, 0), c.ord);
    }
  }
}
