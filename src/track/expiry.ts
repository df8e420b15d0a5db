import { CONN, Kind, TrackerCore } from './core';
import { EV, REF, evWord } from './eventlog';
import { E, K } from './store';
import { S } from './transitions';

/**
 * Time-driven changes: FIN receptions still pending, TIME_WAIT expiry, idle timeouts, the end of a
 * closed connection's retention, and eviction when the table is full.
 */
export abstract class TrackerExpiry extends TrackerCore {
  expire(nowMs: number): void {
    const st = this.st;
    if (this.pendSlots.length > 0) {
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
          const r = this.ladder.find(s, st.pendOrd[x]);
          if (r !== -1 && this.ladder.ts(r) > nowMs) {
            this.pendSlots.push(s);
            this.pendIds.push(ids[i]);
            continue;
          }
          this.ord = st.pendOrd[x];
          this.now = r !== -1 ? this.ladder.ts(r) : nowMs;
          this.changed = false;
          this.receivePendingFin(s, x);
          if (this.changed) this.checkClosed(s, Kind.FIN);
          this.lists.touch(s, this.classOf(s));
        }
      }
    }
    for (let k = 0; k < K.COUNT; k++) {
      const timeout = this.timeoutByClass[k];
      for (;;) {
        const s = this.lists.head[k];
        if (s < 0) break;
        const deadline = st.tRef[s] + timeout;
        if (deadline > nowMs) break;
        this.fire(s, k, deadline);
      }
    }
  }

  /**
   * The peer x of a FIN's sender may yet send its own FIN before this one reaches it (simultaneous
   * close), so its reception waits for x's next segment, or the next one from the sender, or here.
   */
  protected awaitFin(s: number, x: number, ref: number): void {
    const st = this.st;
    st.eflags[x] |= E.PEND_FIN;
    st.pendOrd[x] = ref;
    this.ladder.pin(s, ref);
    if (this.pendSlots.length >= 4096) this.compactPending();
    this.pendSlots.push(s);
    this.pendIds.push(st.idNum[s]);
  }

  /** Drops entries whose FIN has been received meanwhile (or whose connection is gone). */
  protected compactPending(): void {
    const st = this.st;
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

  protected fire(s: number, k: number, deadline: number): void {
    const st = this.st;
    st.tTimer[s] = deadline;
    this.now = deadline;
    if (k === K.CLOSED) {
      this.drop(s);
      return;
    }
    if (k === K.TIME_WAIT) {
      for (let side = 0; side < 2; side++) {
        if (st.st[2 * s + side] === S.TIME_WAIT) this.setState(s, side, S.CLOSED, REF.TIMER);
      }
      st.tRef[s] = deadline;
      this.lists.touch(s, K.CLOSED);
      return;
    }
    this.closeByTimer(s);
  }

  /**
   * Makes room for one more connection: closed and never-established ones go first, oldest
   * first, then the longest-idle of the rest.
   */
  protected evictOne(): boolean {
    const first = [K.CLOSED, K.TIME_WAIT, K.SYN_SENT, K.SYN_RECV];
    const then = [K.ESTABLISHED, K.FIN_WAIT, K.CLOSE_WAIT, K.LAST_ACK];
    const s = this.oldestHead(first);
    const victim = s >= 0 ? s : this.oldestHead(then);
    if (victim < 0) return false;
    this.counters.evictions++;
    this.ord = 0;
    this.st.tTimer[victim] = this.now;
    this.emit(victim, evWord(EV.CONNECTION, 0, false, CONN.EVICTED, 0, 0), REF.TIMER);
    this.drop(victim);
    return true;
  }

  protected oldestHead(classes: readonly number[]): number {
    let best = -1;
    let bestT = Infinity;
    for (const k of classes) {
      const s = this.lists.head[k];
      if (s >= 0 && this.st.tRef[s] < bestT) {
        best = s;
        bestT = this.st.tRef[s];
      }
    }
    return best;
  }}
