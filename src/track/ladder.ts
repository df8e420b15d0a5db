import { META, PG, PinPool, type SegPool } from './pools';
import type { ConnStore } from './store';

/**
 * The per-connection ladder: the first `head` segments, the last `tail` ones in a ring, and any
 * segment in between that an event refers to (pinned when the ring overwrites it), so a kept event
 * can always show its cause. Segment ordinals count from 0 per connection.
 *
 * A record handle h ≥ 0 is an index in `pool`; h ≤ -2 is index −h − 2 in `pins`; −1 is none.
 */
export class Ladder {
  private readonly ringBlocks: number;
  readonly pins = new PinPool();

  constructor(
    private readonly st: ConnStore,
    readonly pool: SegPool,
    /** (0 with `tail` 0: no segment is kept; Conns.keepSegments() may set it before any is seen) */
    public head: number,
    readonly tail: number,
  ) {
    this.ringBlocks = Math.ceil(tail / PG.BLOCK);
  }

  /**
   * Stores segment `o` (= st.nseg[s] before it is incremented) at time `ts`; returns its record
   * index, or -1 when it is not kept. (The one caller, Machine.arrive, has it inlined: the time
   * is never boxed on the way, test/track/alloc.test.ts.)
   */
  record(s: number, o: number, ts: number, seq: number, ack: number, len: number, meta: number): number {
    const st = this.st;
    const p = this.pool;
    let r: number;
    if (o < this.head) {
      // the head's blocks chain newest first, so appending never walks the chain
      let b = st.segLast[s];
      if ((o & (PG.BLOCK - 1)) === 0) {
        const nb = p.blocks.alloc(b);
        st.segLast[s] = nb;
        b = nb;
      }
      r = (b << PG.BLOCK_SHIFT) + (o & (PG.BLOCK - 1));
    } else if (this.tail > 0) {
      if (st.ring[s] < 0) this.allocRing(s);
      const pos = (o - this.head) % this.tail;
      r = this.ringRecord(s, pos);
      if (o - this.head >= this.tail && (p.meta(r) & META.PINNED) !== 0) this.keepPinned(s, r, o - this.tail);
    } else {
      return -1;
    }
    p.writeAll(r, ts, seq, ack, len, meta);
    return r;
  }

  /** Record index of segment `o`, or -1 when it was not kept. */
  find(s: number, o: number): number {
    const st = this.st;
    const n = st.nseg[s];
    if (o >= n) return -1;
    if (o < this.head) return this.headRecord(s, o);
    if (this.tail > 0 && o >= Math.max(this.head, n - this.tail)) {
      return this.ringRecord(s, (o - this.head) % this.tail);
    }
    const p = this.pins;
    let b = st.pinHead[s];
    let left = st.pinCount[s];
    while (b >= 0 && left > 0) {
      for (let i = 0; i < PG.BLOCK && left > 0; i++, left--) {
        const r = (b << PG.BLOCK_SHIFT) + i;
        if (p.ord(r) === o) return -r - 2;
      }
      b = p.next(b);
    }
    return -1;
  }

  ts(h: number): number {
    return h >= 0 ? this.pool.ts(h) : this.pins.ts(-h - 2);
  }

  seq(h: number): number {
    return h >= 0 ? this.pool.seq(h) : this.pins.seq(-h - 2);
  }

  ack(h: number): number {
    return h >= 0 ? this.pool.ack(h) : this.pins.ack(-h - 2);
  }

  len(h: number): number {
    return h >= 0 ? this.pool.len(h) : this.pins.len(-h - 2);
  }

  meta(h: number): number {
    return h >= 0 ? this.pool.meta(h) : this.pins.meta(-h - 2);
  }

  /** Marks segment `o` as referenced by a kept event. */
  pin(s: number, o: number): void {
    if (o < this.head) return; // never overwritten
    const r = this.find(s, o);
    if (r >= 0) this.pool.setMeta(r, this.pool.meta(r) | META.PINNED);
    else if (r < -1) this.pins.setMeta(-r - 2, this.pins.meta(-r - 2) | META.PINNED);
  }

  /** Record handles in ladder order, and how many segments were left out. */
  collect(s: number): { records: number[]; omitted: number } {
    const st = this.st;
    const n = st.nseg[s];
    const records: number[] = [];
    const headN = Math.min(n, this.head);
    for (let o = 0; o < headN; o++) records.push(this.headRecord(s, o));
    const ringFrom = Math.max(this.head, n - this.tail);
    let b = st.pinHead[s];
    let left = st.pinCount[s];
    while (b >= 0 && left > 0) {
      for (let i = 0; i < PG.BLOCK && left > 0; i++, left--) {
        const r = (b << PG.BLOCK_SHIFT) + i;
        if (this.pins.ord(r) < ringFrom) records.push(-r - 2);
      }
      b = this.pins.next(b);
    }
    if (this.tail > 0) for (let o = ringFrom; o < n; o++) records.push(this.ringRecord(s, (o - this.head) % this.tail));
    return { records, omitted: n - records.length };
  }

  release(s: number): void {
    const st = this.st;
    this.pool.freeChain(st.segLast[s]);
    this.pool.freeChain(st.ring[s]);
    this.pins.freeChain(st.pinHead[s]);
    st.segLast[s] = st.ring[s] = st.pinHead[s] = -1;
    st.pinCount[s] = 0;
  }

  private allocRing(s: number): void {
    const p = this.pool;
    let first = -1;
    let prev = -1;
    for (let i = 0; i < this.ringBlocks; i++) {
      const b = p.alloc(-1);
      if (prev < 0) first = b;
      else p.setNext(prev, b);
      prev = b;
    }
    this.st.ring[s] = first;
  }

  /** Record of head segment `o` (< min(nseg, head)): its block counted back from the newest. */
  private headRecord(s: number, o: number): number {
    const newest = (Math.min(this.st.nseg[s], this.head) - 1) >> PG.BLOCK_SHIFT;
    return this.walk(this.st.segLast[s], newest - (o >> PG.BLOCK_SHIFT), o & (PG.BLOCK - 1));
  }

  private ringRecord(s: number, pos: number): number {
    return this.walk(this.st.ring[s], pos >> PG.BLOCK_SHIFT, pos & (PG.BLOCK - 1));
  }

  private walk(b: number, steps: number, off: number): number {
    const p = this.pool;
    while (steps-- > 0) b = p.next(b);
    return (b << PG.BLOCK_SHIFT) + off;
  }

  private keepPinned(s: number, r: number, o: number): void {
    const st = this.st;
    const p = this.pins;
    const k = st.pinCount[s];
    if (k >= 0xffff) return; // the count is 16 bits; beyond it causes show as unknown
    let b = st.pinHead[s];
    for (let i = (k - 1) >> PG.BLOCK_SHIFT; i > 0; i--) b = p.next(b);
    if ((k & (PG.BLOCK - 1)) === 0) {
      const nb = p.alloc(-1);
      if (b < 0) st.pinHead[s] = nb;
      else p.setNext(b, nb);
      b = nb;
    }
    p.copyFrom(this.pool, r, (b << PG.BLOCK_SHIFT) + (k & (PG.BLOCK - 1)), o);
    st.pinCount[s] = k + 1;
  }
}

export const LADDER_BLOCK = PG.BLOCK;
