import { TIMER_CLASSES, type ConnStore } from './store';

/**
 * One intrusive list per timer class, each ordered by `tRef` (the start of the connection's current
 * timer phase), so the next connection to time out in a class is always its list's head and
 * expire() touches only connections that actually expire. Activity moves a connection to the tail.
 */
export class TimerLists {
  readonly head = new Int32Array(TIMER_CLASSES.length).fill(-1);
  readonly tail = new Int32Array(TIMER_CLASSES.length).fill(-1);
  readonly count = new Uint32Array(TIMER_CLASSES.length);

  constructor(private readonly st: ConnStore) {}

  /** Appends s (not in any list) to class k. */
  push(s: number, k: number): void {
    const st = this.st;
    st.lclass[s] = k;
    st.lnext[s] = -1;
    const t = this.tail[k];
    st.lprev[s] = t;
    if (t >= 0) st.lnext[t] = s;
    else this.head[k] = s;
    this.tail[k] = s;
    this.count[k]++;
  }

  unlink(s: number): void {
    const st = this.st;
    const k = st.lclass[s];
    const p = st.lprev[s];
    const n = st.lnext[s];
    if (p >= 0) st.lnext[p] = n;
    else this.head[k] = n;
    if (n >= 0) st.lprev[n] = p;
    else this.tail[k] = p;
    st.lprev[s] = st.lnext[s] = -1;
    this.count[k]--;
  }

  /** Moves s to the tail of class k (activity, or a change of class). */
  touch(s: number, k: number): void {
    const st = this.st;
    const t = this.tail[k];
    if (st.lclass[s] !== k) {
      this.unlink(s);
      this.push(s, k);
      return;
    }
    if (t === s) return;
    // within its list, the common case: s is not the tail, so it has a successor
    const p = st.lprev[s];
    const n = st.lnext[s];
    if (p >= 0) st.lnext[p] = n;
    else this.head[k] = n;
    st.lprev[n] = p;
    st.lprev[s] = t;
    st.lnext[s] = -1;
    st.lnext[t] = s;
    this.tail[k] = s;
  }
}
