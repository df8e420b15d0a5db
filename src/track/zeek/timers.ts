/** A binary heap of entries ordered by time, then by the order they were set, in typed arrays. */
class Heap {
  private time = new Float64Array(64);
  private order = new Float64Array(64);
  private slot = new Int32Array(64);
  private rec = new Float64Array(64);
  private n = 0;

  /** The fields of the entry pop() took out. */
  topTime = 0;
  topSlot = 0;
  topRec = 0;

  get size(): number {
    return this.n;
  }

  /** The earliest time, or Infinity when empty. */
  get next(): number {
    return this.n > 0 ? this.time[0] : Infinity;
  }

  /** The order of the earliest entry (ties in time go to the earlier set). */
  get nextOrder(): number {
    return this.order[0];
  }

  topOrder = 0;

  push(time: number, ord: number, slot: number, rec: number): void {
    if (this.n === this.time.length) this.grow();
    let i = this.n++;
    while (i > 0) {
      const up = (i - 1) >> 1;
      if (!(time < this.time[up] || (time === this.time[up] && ord < this.order[up]))) break;
      this.move(up, i);
      i = up;
    }
    this.put(i, time, ord, slot, rec);
  }

  /** Removes the earliest entry into top*. */
  pop(): void {
    this.topTime = this.time[0];
    this.topOrder = this.order[0];
    this.topSlot = this.slot[0];
    this.topRec = this.rec[0];
    const last = --this.n;
    if (last === 0) return;
    const t = this.time[last], o = this.order[last], s = this.slot[last], r = this.rec[last];
    let i = 0;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= last) break;
      if (c + 1 < last && (this.time[c + 1] < this.time[c] || (this.time[c + 1] === this.time[c] && this.order[c + 1] < this.order[c]))) c++;
      // stop where the moved entry comes before both children
      if (!(this.time[c] < t || (this.time[c] === t && this.order[c] < o))) break;
      this.move(c, i);
      i = c;
    }
    this.put(i, t, o, s, r);
  }

  private move(from: number, to: number): void {
    this.put(to, this.time[from], this.order[from], this.slot[from], this.rec[from]);
  }

  private put(i: number, time: number, ord: number, slot: number, rec: number): void {
    this.time[i] = time;
    this.order[i] = ord;
    this.slot[i] = slot;
    this.rec[i] = rec;
  }

  private grow(): void {
    const cap = this.time.length * 2;
    const f64 = (a: Float64Array) => {
      const b = new Float64Array(cap);
      b.set(a);
      return b;
    };
    this.time = f64(this.time);
    this.order = f64(this.order);
    this.rec = f64(this.rec);
    const slot = new Int32Array(cap);
    slot.set(this.slot);
    this.slot = slot;
  }
}

/** Entries set in time order: a queue with no sorting to do. */
class Run {
  time = new Float64Array(64);
  order = new Float64Array(64);
  slot = new Int32Array(64);
  rec = new Float64Array(64);
  head = 0;
  tail = 0;

  get last(): number {
    return this.tail > this.head ? this.time[this.tail - 1] : -Infinity;
  }

  push(time: number, ord: number, slot: number, rec: number): void {
    if (this.tail === this.time.length) this.make();
    const i = this.tail++;
    this.time[i] = time;
    this.order[i] = ord;
    this.slot[i] = slot;
    this.rec[i] = rec;
  }

  /** Room at the end: the live part moves to the front, and the arrays double when over half full. */
  private make(): void {
    const n = this.tail - this.head;
    const cap = n * 2 > this.time.length ? this.time.length * 2 : this.time.length;
    const move = <A extends Float64Array | Int32Array>(a: A, b: A): A => {
      b.set(a.subarray(this.head, this.tail));
      return b;
    };
    this.time = move(this.time, new Float64Array(cap));
    this.order = move(this.order, new Float64Array(cap));
    this.slot = move(this.slot, new Int32Array(cap));
    this.rec = move(this.rec, new Float64Array(cap));
    this.head = 0;
    this.tail = n;
  }
}

const RUNS = 4;

/**
 * The due times of Zeek's records. An entry names a slot and the record it was set for; the owner
 * skips entries that no longer apply (each slot keeps one live entry: its earliest timer). Nearly
 * every timer is set at "now + a constant" (5 s, 6 s, 5 min), so entries go to the first of a few
 * runs whose last entry is not later, where they stay in order at no cost; only the rest go to a
 * heap. The earliest entry is the least of the runs' heads and the heap's top.
 */
export class ZeekTimerQueue {
  private readonly runs: Run[] = Array.from({ length: RUNS }, () => new Run());
  private readonly heap = new Heap();
  private set = 0;
  private n = 0;

  /** The fields of the entry pop() took out. */
  topTime = 0;
  topSlot = 0;
  topRec = 0;

  get size(): number {
    return this.n;
  }

  /**
   * The earliest time, or Infinity when empty. Kept up to date by push() and pop(), since it is
   * read before every packet and most packets find no timer due.
   */
  next = Infinity;

  private earliest(): number {
    let t = this.heap.next;
    for (let i = 0; i < RUNS; i++) {
      const r = this.runs[i];
      if (r.tail > r.head && r.time[r.head] < t) t = r.time[r.head];
    }
    return t;
  }

  push(time: number, slot: number, rec: number): void {
    const ord = this.set++;
    this.n++;
    if (time < this.next) this.next = time;
    for (const r of this.runs) {
      if (r.last <= time) {
        r.push(time, ord, slot, rec);
        return;
      }
    }
    this.heap.push(time, ord, slot, rec);
  }

  /** Removes the earliest entry into top*. */
  pop(): void {
    let best: Run | null = null;
    let t = this.heap.next;
    let o = this.heap.size > 0 ? this.heap.nextOrder : Infinity;
    for (const r of this.runs) {
      if (r.tail === r.head) continue;
      const rt = r.time[r.head];
      if (rt < t || (rt === t && r.order[r.head] < o)) {
        best = r;
        t = rt;
        o = r.order[r.head];
      }
    }
    this.n--;
    if (best === null) {
      this.heap.pop();
      this.topTime = this.heap.topTime;
      this.topSlot = this.heap.topSlot;
      this.topRec = this.heap.topRec;
      this.next = this.earliest();
      return;
    }
    const i = best.head++;
    this.topTime = best.time[i];
    this.topSlot = best.slot[i];
    this.topRec = best.rec[i];
    if (best.head === best.tail) best.head = best.tail = 0;
    this.next = this.earliest();
  }
}
