import { TcpFlag, type Segment } from '../decode/segment';
import type { TrackerApi } from './api';
import { By, CONN, HS, Kind } from './core';
import { AK, EV, REF, evWord } from './eventlog';
import { TrackerFastPath } from './fastpath';
import { packMeta } from './pools';
import { C, E, K } from './store';
import { CL, ROLE, S } from './transitions';
import { zeekSenderIsOrig } from './zeek';

export { DEFAULT_TRACKER_OPTIONS } from './options';

const FIN = TcpFlag.FIN;
const SYN = TcpFlag.SYN;
const RST = TcpFlag.RST;
const ACK = TcpFlag.ACK;

/**
 * The connection tracker: a flow table of 4-tuples, and for each connection the RFC 9293 state of
 * both endpoints as their kernels hold them (shared/design/tcp-states.md), Zeek's conn_state and
 * history, handshake timing, counts, a bounded ladder of segments and a bounded event log.
 *
 * Pure: time comes only from process(seg, ts) and expire(now), events go synchronously to the
 * sinks. An ordinary data or ACK segment of a known connection allocates nothing.
 */
export class Tracker extends TrackerFastPath implements TrackerApi {
  process(seg: Segment, tsMs: number): void {
    this.counters.packets++;
    this.counters.bytes += seg.payloadLen;
    this.now = tsMs;
    let s = this.flows.lookup(seg);
    let d = this.flows.dir;
    if (s >= 0) {
      // the common segments of a connection's life first (fastpath.ts), the general path otherwise
      const k = seg.flags & (SYN | FIN | RST | ACK);
      if (k === ACK) {
        if (this.ordinary(s, d, seg) || this.ackFin(s, d, seg)) return;
      } else if (k === (FIN | ACK)) {
        if (this.fin(s, d, seg)) return;
      } else if (k === (SYN | ACK)) {
        if (this.synAck(s, d, seg)) return;
      } else if ((k & (SYN | ACK | RST)) === SYN && this.startsNewConnection(s, d, seg)) {
        this.supersede(s);
        s = -1;
      }
    }
    if (s < 0) {
      s = this.create(seg, this.flows.hash);
      if (s < 0) return;
      d = this.flows.dir;
      if (d === 0 && this.opening(s, seg)) return;
    }
    this.segment(s, d, seg);
  }

  /** A plain SYN on a known 4-tuple: is it a new connection (port reuse) or part of this one? */
  private startsNewConnection(s: number, d: number, seg: Segment): boolean {
    const st = this.st;
    const e = 2 * s + d;
    const p = e ^ 1;
    const seq = seg.seq | 0;
    if ((st.eflags[e] & E.SEQ_INIT) !== 0) {
      // the same initial sequence number: a retransmission, or the handshake's SYN seen late
      return seq !== st.isn[e];
    }
    // This side never spoke and nothing numbered it: a simultaneous open if the other side is
    // still opening, otherwise a new connection.
    return !(st.st[p] === S.SYN_SENT && (st.cflags[s] & C.CLOSED) === 0);
  }

  /** Takes an older connection off its 4-tuple when a new one starts there. */
  private supersede(s: number): void {
    const st = this.st;
    this.flows.remove(s);
    st.tTimer[s] = this.now;
    if ((st.cflags[s] & C.CLOSED) !== 0) {
      // A TIME_WAIT endpoint gives way to the new connection (RFC 9293 §3.6.1, Linux tw reuse).
      for (let side = 0; side < 2; side++) {
        if (st.st[2 * s + side] === S.TIME_WAIT) this.setState(s, side, S.CLOSED, REF.TIMER);
      }
      // Retention runs from the end of TIME_WAIT, which is now only if it was still running; a
      // connection already past it keeps its clock, or every reuse of a 4-tuple would keep the
      // old connection another full retention (seen live: ~20% more closed connections held).
      if (st.lclass[s] === K.TIME_WAIT) {
        this.lists.touch(s, K.CLOSED);
        st.tRef[s] = this.now;
      }
    } else {
      // Its end was never seen; it cannot receive packets any more, so close it now.
      this.closeByTimer(s);
    }
  }

  private create(seg: Segment, h: number): number {
    const st = this.st;
    if (st.full && !this.evictOne()) return -1;
    const s = st.alloc();
    if (s < 0) return -1;
    const f = seg.flags;
    const plainSyn = (f & (SYN | ACK)) === SYN;
    const synAck = (f & (SYN | ACK)) === (SYN | ACK);
    let dir: number;
    let cf = 0;
    if (plainSyn) dir = 0;
    else if (synAck) dir = 1;
    else {
      dir = serverPort(seg.srcPort, seg.dstPort) ? 1 : 0;
      cf |= C.PARTIAL | C.ROLES_GUESSED | C.EST_ONCE;
    }
    this.flows.assign(s, dir);
    st.family[s] = seg.family;
    const id = this.nextId++;
    st.idNum[s] = id;
    this.ids.add(id, s);
    st.tStart[s] = this.now;
    st.tLast[s] = this.now;
    st.tRef[s] = this.now;

    // Zeek decides its originator by its own rule; '^' records that it chose the receiver.
    const senderIsOrig = zeekSenderIsOrig(f, seg.srcPort, seg.dstPort);
    const zOrigSide = senderIsOrig ? dir : 1 - dir;
    if (zOrigSide === 1) cf |= C.ZFLIP;
    st.cflags[s] = cf;
    if (!senderIsOrig) this.hist.append(s, 94 /* ^ */);

    const c = 2 * s;
    if (plainSyn) {
      st.st[c] = S.CLOSED;
      st.st[c + 1] = S.LISTEN; // assumed once a SYN is seen
    } else if (synAck) {
      st.st[c] = S.SYN_SENT; // it must have sent the SYN we missed
      st.st[c + 1] = S.LISTEN;
    } else {
      st.st[c] = S.ESTABLISHED; // mid-stream: inferred, so no events for these
      st.st[c + 1] = S.ESTABLISHED;
    }
    this.counters.byState[st.st[c]]++;
    this.counters.byState[11 + st.st[c + 1]]++;
    this.pair(s);
    this.counters.byPort[st.cport[s]]++;
    if (st.sport[s] !== st.cport[s]) this.counters.byPort[st.sport[s]]++;
    st.zconn[s] = this.zeek.connState(s);
    this.counters.byConn[st.zconn[s]]++;

    this.flows.insert(s, h);
    this.flows.dir = dir;
    this.append(s);
    if (this.index !== null) this.index.add(s);
    this.lists.push(s, this.classOf(s));
    this.counters.open++;
    this.counters.connectionsTotal++;
    return s;
  }

  /** One segment of connection s, sent by side d (0 client, 1 server). */
  private segment(s: number, d: number, seg: Segment): void {
    const st = this.st;
    // The arrays are only replaced when the store grows, which never happens in here.
    const eflags = st.eflags;
    const hi = st.hi;
    const ackHi = st.ackHi;
    const isn = st.isn;
    const now = this.now;
    const e = 2 * s + d;
    const p = e ^ 1;
    const f = seg.flags;
    const seq = seg.seq | 0;
    const ackNo = seg.ack | 0;
    const len = seg.payloadLen;
    const window = seg.window;
    const syn = (f & SYN) !== 0;
    const fin = (f & FIN) !== 0;
    const rst = (f & RST) !== 0;
    const ack = (f & ACK) !== 0;

    // what the timer class depends on, to skip recomputing it when none of it changes
    const class0 = st.st[2 * s] | (st.st[2 * s + 1] << 8) | ((st.cflags[s] & C.CLASS_MASK) << 16);
    const o = st.nseg[s];
    this.ord = o;
    const r = this.ladder.record(s, o, seq, ackNo, len, packMeta(f, window, d === 1));
    if (r >= 0) this.ladder.pool.setTs(r, now);
    st.nseg[s] = o + 1;
    if (o === 0) this.emit(s, evWord(EV.CONNECTION, 0, false, CONN.OPENED, 0, 0), 0);
    if (now > st.tLast[s]) st.tLast[s] = now;
    st.tRef[s] = now;
    st.pkts[e]++;
    st.bytes[e] += len;

    // Segments from the other side arrive in order: its FIN was received before this.
    if ((eflags[p] & E.PEND_FIN) !== 0) this.receivePendingFin(s, p);
    // The sender itself got the peer's FIN before sending this if its ACK covers that FIN.
    let finAfterSend = false;
    if ((eflags[e] & E.PEND_FIN) !== 0) {
      if (ack && ((ackNo - st.finSeq[p] - 1) | 0) >= 0) this.receivePendingFin(s, e);
      else finAfterSend = true;
    }

    // ------------------------------------------------------------ what the segment is
    const ef = eflags[e];
    const sentBefore = (ef & E.SENT) !== 0;
    const numbered = (ef & E.SEQ_INIT) !== 0;
    const synRetransmit = syn && (ef & (ack ? E.SYNACK : E.SYN)) !== 0 && seq === isn[e];
    const finRetransmit = fin && (ef & E.FIN) !== 0;
    const oddFlags = (syn && (fin || rst)) || (f & (SYN | RST | ACK)) === 0;
    const segEnd = (seq + (rst ? 0 : len) + (syn ? 1 : 0) + (fin ? 1 : 0)) | 0;
    this.changed = false;

    if (oddFlags) {
      this.anomaly(s, d, syn && fin ? AK.SYN_FIN : syn && rst ? AK.SYN_RST : AK.INVALID_FLAGS);
    } else if (fin && rst) {
      this.anomaly(s, d, AK.INVALID_FLAGS);
    }
    if (synRetransmit) {
      if (!ack) st.synRetx[s]++;
      this.anomaly(s, d, ack ? AK.RETRANSMISSION : AK.SYN_RETRANSMISSION);
    } else if (numbered && !rst && !syn && (len > 0 || fin || seq === ((hi[e] - 1) | 0))) {
      this.dataAnomalies(s, d, seq, segEnd, len, fin);
    }
    if (window === 0 && !rst && !syn) this.anomaly(s, d, AK.ZERO_WINDOW);
    if (ack && !rst && !syn && !fin && len === 0 && (ef & E.ACKED) !== 0 &&
        ackNo === ackHi[e] && window === st.win[e] && ((hi[p] - ackNo) | 0) > 0 &&
        (eflags[p] & E.SENT) !== 0 && (ef & E.DUP_PEND) !== 0) {
      this.anomaly(s, d, AK.DUP_ACK);
    }
    if (ack && !rst && (eflags[p] & E.SENT) !== 0 && ((ackNo - hi[p]) | 0) > 0) {
      this.anomaly(s, d, AK.BAD_ACK);
    }

    // The RST check needs the sender's sequence position before this segment.
    let rstValid = false;
    if (rst && !oddFlags) rstValid = this.rstAcceptable(s, d, seq, ackNo, ack, sentBefore);

    // ------------------------------------------------------------ Zeek's view
    if (this.zeek.packet(s, d, seg, this.now)) this.refreshConnState(s);

    // ------------------------------------------------------------ sender bookkeeping
    // (the flags are read again: the calls above may have set bits of their own)
    let x = eflags[e];
    if (!numbered) {
      isn[e] = syn ? seq : (seq - 1) | 0;
      hi[e] = seq;
      x |= E.SEQ_INIT;
    } else if (syn && (x & E.ISN_KNOWN) === 0 && !rst) {
      isn[e] = seq; // the handshake's SYN, seen late: now the ISN is known
    }
    if (syn && !rst) x |= E.ISN_KNOWN | (ack ? E.SYNACK : E.SYN);
    if (fin && !rst && !finRetransmit) {
      st.finSeq[e] = (segEnd - 1) | 0;
      x |= E.FIN;
    }
    if (!sentBefore && !numbered) hi[e] = segEnd;
    else if (((segEnd - hi[e]) | 0) > 0) hi[e] = segEnd;
    x |= E.SENT;
    if (syn) {
      if (seg.mss >= 0) st.mss[e] = seg.mss;
      st.wscale[e] = seg.wscale >= 0 ? Math.min(seg.wscale, 14) : -1;
      if (seg.sackPermitted) x |= E.SACK_OK;
      if (seg.hasTimestamps) x |= E.TS;
    }
    if (ack) {
      const advanced = (x & E.ACKED) === 0 || ((ackNo - ackHi[e]) | 0) > 0;
      if (advanced) ackHi[e] = ackNo;
      // an identical pure ACK is a duplicate only after one that carried nothing either
      if (len === 0 && !syn && !fin && !rst && (advanced || ackNo === ackHi[e])) x |= E.DUP_PEND;
      else x &= ~E.DUP_PEND;
      x |= E.ACKED;
    }
    st.win[e] = window;
    eflags[e] = x | E.WIN;
    if (ack && (eflags[p] & E.SEQ_INIT) === 0) {
      // the silent side is numbered from what is acknowledged, as if its SYN had been seen
      isn[p] = (ackNo - 1) | 0;
      hi[p] = ackNo;
      eflags[p] |= E.SEQ_INIT;
    }

    // ------------------------------------------------------------ transitions
    let closeKind = Kind.FIN;
    if (!oddFlags) {
      closeKind = this.transitions(s, d, f, ackNo, synRetransmit, finRetransmit, rstValid, finAfterSend);
    } else if (finAfterSend) {
      this.receivePendingFin(s, e);
    }

    // ------------------------------------------------------------ lifecycle
    if (!oddFlags && (syn || (st.cflags[s] & (C.HS_EST | C.PARTIAL)) === 0)) this.handshakeEvents(s, d, f, synRetransmit);
    if (this.changed) this.checkClosed(s, closeKind);
    const class1 = st.st[2 * s] | (st.st[2 * s + 1] << 8) | ((st.cflags[s] & C.CLASS_MASK) << 16);
    this.lists.touch(s, class1 === class0 ? st.lclass[s] : this.classOf(s));
  }

  /** Retransmission, out-of-order, keep-alive and gap, judged against what the sender sent before. */
  private dataAnomalies(s: number, d: number, seq: number, segEnd: number, len: number, fin: boolean): void {
    const st = this.st;
    const e = 2 * s + d;
    const hi = st.hi[e];
    if (len <= 1 && !fin && seq === ((hi - 1) | 0)) {
      this.anomaly(s, d, AK.KEEP_ALIVE);
    } else if (len === 0 && !fin) {
      // a pure ACK: nothing to judge
    } else if (((seq - hi) | 0) > 0) {
      this.anomaly(s, d, AK.GAP);
    } else if (((segEnd - hi) | 0) <= 0) {
      const inHole = (st.eflags[e] & E.R_ABOVE) !== 0 && ((seq - st.rContig[e]) | 0) >= 0 &&
        ((seq - st.rAboveS[e]) | 0) < 0;
      this.anomaly(s, d, inHole ? AK.OUT_OF_ORDER : AK.RETRANSMISSION);
    }
  }

  /**
   * Whether the receiver of a RST from side d accepts it: in SYN_SENT only a RST that acknowledges
   * the SYN (RFC 9293 §3.10.7.3); otherwise its sequence number must fall in the receive window.
   */
  private rstAcceptable(s: number, d: number, seq: number, ackNo: number, ack: boolean, sentBefore: boolean): boolean {
    const st = this.st;
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
    if (!ok) this.anomaly(s, d, AK.RST_OUT_OF_WINDOW);
    return ok;
  }

  /**
   * Applies the table to sender then receiver, with the exceptions the table cannot express.
   * Returns how a close caused by this segment should be labelled.
   */
  private transitions(
    s: number,
    d: number,
    f: number,
    ackNo: number,
    synRetransmit: boolean,
    finRetransmit: boolean,
    rstValid: boolean,
    finAfterSend: boolean,
  ): number {
    const st = this.st;
    const e = 2 * s + d;
    const p = e ^ 1;
    const syn = (f & SYN) !== 0;
    const fin = (f & FIN) !== 0;
    const rst = (f & RST) !== 0;
    const ack = (f & ACK) !== 0;
    const ref = this.ord;
    let kind = Kind.FIN;

    if (rst) {
      if (!rstValid) {
        if (finAfterSend) this.receivePendingFin(s, e);
        return kind;
      }
      kind = Kind.RST;
      const refused = st.st[p] === S.SYN_SENT;
      let changed = false;
      if (st.st[e] === S.LISTEN) {
        // No socket was listening after all: the endpoint was CLOSED all along, so no event.
        this.setStateSilently(s, d, S.CLOSED);
      } else {
        changed = this.apply(s, d, ROLE.SENDER, CL.RST, ref);
      }
      if (finAfterSend) this.receivePendingFin(s, e);
      if (this.apply(s, 1 - d, ROLE.RECEIVER, CL.RST, ref)) changed = true;
      if (refused && st.st[p] === S.CLOSED) {
        kind = Kind.REFUSED;
        st.cflags[s] |= C.REFUSED;
        this.counters.refused++;
        this.emit(s, evWord(EV.REFUSED, 0, false, 0, 0, 0), ref);
      } else if (changed) {
        if ((st.cflags[s] & C.RESET) === 0) this.counters.resets++;
        st.cflags[s] |= C.RESET;
        this.emit(s, evWord(EV.RESET, d, true, 0, 0, 0), ref);
      }
      if (changed || refused) this.setClosedBy(s, d === 0 ? By.CLIENT : By.SERVER, false);
      return kind;
    }

    // sender
    if (syn && !ack) {
      if (!synRetransmit) {
        if (st.st[e] === S.LISTEN && st.st[p] === S.SYN_SENT) {
          // Simultaneous open: this side never listened; it opened too, and had the peer's SYN
          // in flight when it sent its own.
          this.setStateSilently(s, d, S.CLOSED);
          this.setState(s, d, S.SYN_SENT, ref);
          this.setState(s, d, S.SYN_RECEIVED, ref);
        } else {
          this.apply(s, d, ROLE.SENDER, CL.SYN, ref);
        }
      }
    } else if (syn) {
      this.apply(s, d, ROLE.SENDER, CL.SYNACK, ref);
    } else if (fin && !finRetransmit) {
      if (this.apply(s, d, ROLE.SENDER, CL.FIN, ref)) this.finSent(s, d, finAfterSend);
    }
    if (finAfterSend) this.receivePendingFin(s, e);

    // receiver: the ACK part first
    if (ack) {
      const r = st.st[p];
      if ((r === S.SYN_SENT || r === S.SYN_RECEIVED) && (st.eflags[p] & E.SEQ_INIT) !== 0) {
        if (this.acksSyn(p, ackNo)) this.apply(s, 1 - d, ROLE.RECEIVER, CL.ACK_SYN, ref);
        else this.anomaly(s, d, AK.BAD_HANDSHAKE_ACK);
      } else if ((st.eflags[p] & E.FIN) !== 0 && ((ackNo - st.finSeq[p] - 1) | 0) >= 0 && ((ackNo - st.hi[p]) | 0) <= 0) {
        this.apply(s, 1 - d, ROLE.RECEIVER, CL.ACK_FIN, ref);
      }
    }
    // then SYN / FIN
    if (syn && !ack && !synRetransmit) this.apply(s, 1 - d, ROLE.RECEIVER, CL.SYN, ref);
    if (fin && !finRetransmit) {
      if ((st.eflags[p] & E.FIN) !== 0) {
        this.apply(s, 1 - d, ROLE.RECEIVER, CL.FIN, ref);
      } else {
        this.awaitFin(s, p, ref);
      }
    }
    return kind;
  }

  private handshakeEvents(s: number, d: number, f: number, synRetransmit: boolean): void {
    const st = this.st;
    const cf = st.cflags[s];
    if ((f & (SYN | ACK | RST)) === SYN && d === 0 && (cf & C.HS_SYN) === 0) {
      st.cflags[s] |= C.HS_SYN;
      if (Number.isNaN(st.tSyn[s])) st.tSyn[s] = this.now;
      if ((cf & C.SYNACK_SEEN) === 0) this.emit(s, evWord(EV.HANDSHAKE, 0, false, HS.SYN, 0, 0), this.ord);
    } else if ((f & (SYN | ACK | RST)) === (SYN | ACK) && (cf & C.HS_SYNACK) === 0 && !synRetransmit) {
      st.cflags[s] |= C.HS_SYNACK | C.SYNACK_SEEN;
      st.tSynAck[s] = this.now;
      this.emit(s, evWord(EV.HANDSHAKE, d, false, HS.SYNACK, 0, 0), this.ord);
    }
    if ((st.cflags[s] & (C.HS_EST | C.PARTIAL)) === 0 && st.st[2 * s] >= S.ESTABLISHED &&
        st.st[2 * s + 1] >= S.ESTABLISHED) {
      st.cflags[s] |= C.HS_EST | C.EST_ONCE;
      st.tAck[s] = this.now;
      this.counters.handshakesCompleted++;
      this.emit(s, evWord(EV.HANDSHAKE, 0, false, HS.EST, 0, 0), this.ord);
    }
  }
}

/**
 * Guessed roles for a connection picked up mid-stream: a well-known port (< 1024) is the server's,
 * otherwise the lower port. True if the source is the server.
 */
function serverPort(src: number, dst: number): boolean {
  const srcWk = src < 1024;
  const dstWk = dst < 1024;
  if (srcWk !== dstWk) return srcWk;
  return src < dst;
}
