import type { Conns } from './conns';
import { CONN, EV, REF, evWord } from './eventlog';
import { S } from './states';
import { E, K, Kind, TIMER_CLASSES } from './store';

/**
 * Time-driven changes: FIN receptions still pending, TIME_WAIT expiry, idle timeouts, the end of a
 * closed connection's retention, and eviction when the table is full.
 */
export class Expiry {
  /** Slots (and their ids) with a FIN awaiting reception; expire() settles them. */
  private pendSlots: number[] = [];
  private pendIds: number[] = [];

  constructor(
    private readonly c: Conns,
    private readonly timeoutByClass: Float64Array,
  ) {}

  expire(nowMs: number): void {
    if (this.pendSlots.length > 0) this.settlePending(nowMs);
    const st = this.c.st;
    const lists = this.c.lists;
    for (let k = 0; k < TIMER_CLASSES.length; k++) {
      const timeout = this.timeoutByClass[k];
      for (;;) {
        const s = lists.head[k];
        if (s < 0) break;
        const deadline = st.tRef[s] + timeout;
        if (deadline > nowMs) break;
        this.fire(s, k, deadline);
      }
    }
  }

  /** The earliest time a timer class's head falls due, Infinity when no timer runs (Tracker.nextDue). */
  nextDue(): number {
    const heads = this.c.lists.head;
    const tRef = this.c.st.tRef;
    let due = Infinity;
    for (let k = 0; k < TIMER_CLASSES.length; k++) {
      const s = heads[k];
      if (s >= 0 && tRef[s] + this.timeoutByClass[k] < due) due = tRef[s] + this.timeoutByClass[k];
    }
    return due;
  }

  /** FINs seen on the wire whose receiver has not spoken since: received by now, at their own time. */
  private settlePending(nowMs: number): void {
    const c = this.c;
    const st = c.st;
    const slots = this.pendSlots;
    const ids = this.pendIds;
    this.pendSlots = [];
    this.pendIds = [];
    for (let i = 0; i < slots.length; i++) {
      const s = slots[i];
      if (st.idNum[s] !== ids[i]) continue;
      for (let side = 0; side < 2; side++) {
        const x = 2 * s + side;
        if ((st.eflags[x] & E.PEND_FIN) === 0) continue;
        const t = st.pendTs[x]; // the FIN's own time, kept beside its ordinal
        if (t > nowMs) {
          this.pendSlots.push(s);
          this.pendIds.push(ids[i]);
          continue;
        }
        c.ord = st.pendOrd[x];
        c.now = t;
        c.changed = false;
        c.receivePendingFin(s, x);
        if (c.changed) c.checkClosed(s, Kind.FIN);
        c.lists.touch(s, c.classOf(s));
      }
    }
  }

  /**
   * The peer x of a FIN's sender may yet send its own FIN before this one reaches it (simultaneous
   * close), so its reception waits for x's next segment, or the next one from the sender, or here.
   */
  awaitFin(s: number, x: number, ref: number): void {
    const st = this.c.st;
    st.eflags[x] |= E.PEND_FIN;
    st.pendOrd[x] = ref;
    st.pendTs[x] = this.c.now;
    if (this.pendSlots.length >= 4096) this.compactPending();
    this.pendSlots.push(s);
    this.pendIds.push(st.idNum[s]);
  }

  /** Drops entries whose FIN has been received meanwhile (or whose connection is gone). */
  private compactPending(): void {
    const st = this.c.st;
    const slots: number[] = [];
    const ids: number[] = [];
    for (let i = 0; i < this.pendSlots.length; i++) {
      const s = this.pendSlots[i];
      if (st.idNum[s] !== this.pendIds[i]) continue;
      if (((st.eflags[2 * s] | st.eflags[2 * s + 1]) & E.PEND_FIN) === 0) continue;
      slots.push(s);
      ids.push(this.pendIds[i]);
    }
    this.pendSlots = slots;
    this.pendIds = ids;
  }

  private fire(s: number, k: number, deadline: number): void {
    const c = this.c;
    const st = c.st;
    st.tTimer[s] = deadline;
    c.now = deadline;
    if (k === K.CLOSED) {
      c.drop(s);
      return;
    }
    if (k === K.TIME_WAIT) {
      for (let side = 0; side < 2; side++) {
        if (st.st[2 * s + side] === S.TIME_WAIT) c.setState(s, side, S.CLOSED, REF.TIMER);
      }
      st.tRef[s] = deadline;
      c.lists.touch(s, K.CLOSED);
      return;
    }
    c.closeByTimer(s);
  }

  /**
   * Makes room for one more connection: closed and never-established ones go first, oldest
   * first, then the longest-idle of the rest.
   */
  evictOne(): boolean {
    const c = this.c;
    const s = this.oldestHead(FIRST_OUT);
    const victim = s >= 0 ? s : this.oldestHead(THEN_OUT);
    if (victim < 0) return false;
    c.counters.evictions++;
    c.ord = 0;
    c.st.tTimer[victim] = c.now;
    c.emit(victim, evWord(EV.CONNECTION, 0, false, CONN.EVICTED, 0, 0), REF.TIMER);
    c.drop(victim);
    return true;
  }

  private oldestHead(classes: readonly number[]): number {
    const st = this.c.st;
    let best = -1;
    let bestT = Infinity;
    for (const k of classes) {
      const s = this.c.lists.head[k];
      if (s >= 0 && st.tRef[s] < bestT) {
        best = s;
        bestT = st.tRef[s];
      }
    }
    return best;
  }
}

const FIRST_OUT: readonly number[] = [K.CLOSED, K.TIME_WAIT, K.SYN_SENT, K.SYN_RECV];
const THEN_OUT: readonly number[] = [K.ESTABLISHED, K.FIN_WAIT, K.CLOSE_WAIT, K.LAST_ACK];
