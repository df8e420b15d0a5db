/**
 * Zeek's timers for the records of its connections: a binary heap ordered by time (then by the
 * order they were set), in typed arrays. An entry names the slot, the kind of timer and the record
 * (and the record's timer epoch) it was set for; the owner drops entries that no longer apply.
 */
export class ZeekTimerQueue {
  private time = new Float64Array(64);
  private order = new Float64Array(64);
  private slot = new Int32Array(64);
  private kind = new Uint8Array(64);
  private rec = new Float64Array(64);
  private epoch = new Uint32Array(64);
  private n = 0;
  private set = 0;

  get size(): number {
    return this.n;
  }

  /** The earliest time, or Infinity when empty. */
  get next(): number {
    return this.n > 0 ? this.time[0] : Infinity;
  }

  push(time: number, slot: number, kind: number, rec: number, epoch: number): void {
    if (this.n === this.time.length) this.grow();
    let i = this.n++;
    const ord = this.set++;
    while (i > 0) {
      const up = (i - 1) >> 1;
      if (!this.before(time, ord, up)) break;
      this.move(up, i);
      i = up;
    }
    this.put(i, time, ord, slot, kind, rec, epoch);
  }

  /** Removes the earliest entry; its fields are then in top*. */
  pop(): void {
    this.topTime = this.time[0];
    this.topSlot = this.slot[0];
    this.topKind = this.kind[0];
    this.topRec = this.rec[0];
    this.topEpoch = this.epoch[0];
    const last = --this.n;
    if (last === 0) return;
    const t = this.time[last], o = this.order[last], s = this.slot[last], k = this.kind[last];
    const r = this.rec[last], e = this.epoch[last];
    let i = 0;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= last) break;
      if (c + 1 < last && this.before(this.time[c + 1], this.order[c + 1], c)) c++;
      // stop where the moved entry comes before both children
      if (!(this.time[c] < t || (this.time[c] === t && this.order[c] < o))) break;
      this.move(c, i);
      i = c;
    }
    this.put(i, t, o, s, k, r, e);
  }

  topTime = 0;
  topSlot = 0;
  topKind = 0;
  topRec = 0;
  topEpoch = 0;

  private before(time: number, ord: number, j: number): boolean {
    return time < this.time[j] || (time === this.time[j] && ord < this.order[j]);
  }

  private move(from: number, to: number): void {
    this.put(to, this.time[from], this.order[from], this.slot[from], this.kind[from], this.rec[from], this.epoch[from]);
  }

  private put(i: number, time: number, ord: number, slot: number, kind: number, rec: number, epoch: number): void {
    this.time[i] = time;
    this.order[i] = ord;
    this.slot[i] = slot;
    this.kind[i] = kind;
    this.rec[i] = rec;
    this.epoch[i] = epoch;
  }

  private grow(): void {
    const cap = this.time.length * 2;
    const g = <T extends Float64Array | Int32Array | Uint8Array | Uint32Array>(a: T, b: T): T => {
      b.set(a);
      return b;
    };
    this.time = g(this.time, new Float64Array(cap));
    this.order = g(this.order, new Float64Array(cap));
    this.slot = g(this.slot, new Int32Array(cap));
    this.kind = g(this.kind, new Uint8Array(cap));
    this.rec = g(this.rec, new Float64Array(cap));
    this.epoch = g(this.epoch, new Uint32Array(cap));
  }
}
