import type { Segment } from '../decode/segment';
import type { Conns } from './conns';
import { REF } from './eventlog';
import type { Expiry } from './expiry';
import { S } from './states';
import { C, E, K } from './store';
import { F } from './transitions';
import type { Mirror } from './mirror';
import { takeZeekOrigin } from './zeek/origin';


/**
 * Which connection a segment belongs to: the one on its 4-tuple, or a new one (the first segment
 * of a 4-tuple, or a plain SYN with a new ISN where an older connection gives way), with its
 * client and server, its starting states and its id. Returns the slot; `flows.dir` is the side
 * that sent the segment.
 */
export class Identity {
  private nextId = 1;

  constructor(
    private readonly c: Conns,
    private readonly expiry: Expiry,
    private readonly zeek: Mirror,
  ) {}

  /** The connection of seg, made when needed; -1 when the table is full and nothing can go. */
  find(seg: Segment): number {
    const flows = this.c.flows;
    const s = flows.lookup(seg);
    if (s >= 0) {
      if ((seg.flags & (F.SYN | F.ACK | F.RST)) !== F.SYN || !this.startsNewConnection(s, flows.dir, seg)) return s;
      this.supersede(s);
      this.zeek.superseded(s);
      return this.create(seg, flows.keyed(seg));
    }
    return this.create(seg, flows.hash);
  }

  /** A plain SYN on a known 4-tuple: is it a new connection (port reuse) or part of this one? */
  private startsNewConnection(s: number, d: number, seg: Segment): boolean {
    const st = this.c.st;
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
    const c = this.c;
    const st = c.st;
    c.flows.remove(s);
    st.tTimer[s] = c.now;
    if ((st.cflags[s] & C.CLOSED) !== 0) {
      // A TIME_WAIT endpoint gives way to the new connection (RFC 9293 §3.6.1, Linux tw reuse).
      for (let side = 0; side < 2; side++) {
        if (st.st[2 * s + side] === S.TIME_WAIT) c.setState(s, side, S.CLOSED, REF.TIMER);
      }
      // Retention runs from the end of TIME_WAIT, which is now only if it was still running; a
      // connection already past it keeps its clock, or every reuse of a 4-tuple would keep the
      // old connection another full retention (seen live: ~20% more closed connections held).
      if (st.lclass[s] === K.TIME_WAIT) {
        c.lists.touch(s, K.CLOSED);
        st.tRef[s] = c.now;
      }
    } else {
      // Its end was never seen; it cannot receive packets any more, so close it now.
      c.closeByTimer(s);
    }
  }

  private create(seg: Segment, h: number): number {
    const c = this.c;
    const st = c.st;
    if (st.full && !this.expiry.evictOne()) return -1;
    const s = st.alloc();
    if (s < 0) return -1;
    const f = seg.flags;
    const plainSyn = (f & (F.SYN | F.ACK)) === F.SYN;
    const synAck = (f & (F.SYN | F.ACK)) === (F.SYN | F.ACK);
    let dir: number;
    let cf = 0;
    if (plainSyn) dir = 0;
    else if (synAck) dir = 1;
    else {
      dir = serverPort(seg.srcPort, seg.dstPort) ? 1 : 0;
      cf |= C.PARTIAL | C.ROLES_GUESSED | C.EST_ONCE;
    }
    c.flows.assign(s, dir);
    st.family[s] = seg.family;
    const id = this.nextId++;
    st.idNum[s] = id;
    c.ids.add(id, s);
    st.tStart[s] = c.now;
    st.tLast[s] = c.now;
    st.tRef[s] = c.now;

    st.cflags[s] = cf;
    // Zeek decides its originator by its own rule; '^' records that it chose the receiver.
    takeZeekOrigin(st, c.hist, s, dir, seg);

    this.startStates(s, plainSyn, synAck);
    c.pair(s);
    c.counters.byPort[st.cport[s]]++;
    if (st.sport[s] !== st.cport[s]) c.counters.byPort[st.sport[s]]++;
    st.zconn[s] = this.zeek.connState(s);
    c.counters.byConn[st.zconn[s]]++;

    c.flows.insert(s, h);
    c.flows.dir = dir;
    c.append(s);
    if (c.index !== null) c.index.add(s);
    c.lists.push(s, c.classOf(s));
    c.counters.open++;
    c.counters.connectionsTotal++;
    return s;
  }

  /** The states a connection starts in, from what its first segment was (no events: nothing moved). */
  private startStates(s: number, plainSyn: boolean, synAck: boolean): void {
    const st = this.c.st;
    const x = 2 * s;
    if (plainSyn) {
      st.st[x] = S.CLOSED;
      st.st[x + 1] = S.LISTEN; // assumed once a SYN is seen
    } else if (synAck) {
      st.st[x] = S.SYN_SENT; // it must have sent the SYN we missed
      st.st[x + 1] = S.LISTEN;
    } else {
      st.st[x] = S.ESTABLISHED; // mid-stream: inferred, so no events for these
      st.st[x + 1] = S.ESTABLISHED;
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
