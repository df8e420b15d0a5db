/**
 * Fixed-size blocks of records in shared typed arrays, handed out to connections on demand and
 * linked through `next`. Connections that never need a block cost nothing; a freed block goes back
 * on the free list. Record i of block b lives at index b * size + i.
 */
abstract class BlockPool {
  next = new Int32Array(0);
  blocks = 0;
  private freeHead = -1;
  private hwm = 0;
  inUse = 0;

  constructor(readonly size: number) {}

  alloc(): number {
    let b = this.freeHead;
    if (b >= 0) {
      this.freeHead = this.next[b];
    } else {
      // 1.25× growth: the arrays are large, so doubling would leave up to half of them unused
      if (this.hwm >= this.blocks) this.growTo(Math.max(64, Math.ceil(this.blocks * 1.25)));
      b = this.hwm++;
    }
    this.next[b] = -1;
    this.inUse++;
    return b;
  }

  /** Frees a whole chain starting at `b`. */
  freeChain(b: number): void {
    while (b >= 0) {
      const nx = this.next[b];
      this.next[b] = this.freeHead;
      this.freeHead = b;
      this.inUse--;
      b = nx;
    }
  }

  private growTo(blocks: number): void {
    const n = new Int32Array(blocks);
    n.set(this.next);
    this.next = n;
    this.growRecords(blocks * this.size);
    this.blocks = blocks;
  }

  protected abstract growRecords(records: number): void;
  abstract byteSize(): number;
}

/**
 * Ladder segments: headers only. `meta` packs flags (9 bits), window (16 bits), from, pinned. A
 * record's ordinal follows from where it sits (head or ring), so only pinned copies store it.
 */
export class SegPool extends BlockPool {
  ts = new Float64Array(0);
  seq = new Int32Array(0);
  ack = new Int32Array(0);
  len = new Uint32Array(0);
  meta = new Uint32Array(0);

  protected growRecords(n: number): void {
    this.ts = grow(this.ts, new Float64Array(n));
    this.seq = grow(this.seq, new Int32Array(n));
    this.ack = grow(this.ack, new Int32Array(n));
    this.len = grow(this.len, new Uint32Array(n));
    this.meta = grow(this.meta, new Uint32Array(n));
  }

  byteSize(): number {
    return this.next.byteLength + this.ts.byteLength + this.seq.byteLength + this.ack.byteLength +
      this.len.byteLength + this.meta.byteLength;
  }
}

/** Segments that events refer to, kept after the ladder's ring moved past them. */
export class PinPool extends SegPool {
  ord = new Uint32Array(0);

  protected override growRecords(n: number): void {
    super.growRecords(n);
    this.ord = grow(this.ord, new Uint32Array(n));
  }

  /** Copies record `from` of `src` to record `to` here, as segment `o`. */
  copyFrom(src: SegPool, from: number, to: number, o: number): void {
    this.ts[to] = src.ts[from];
    this.seq[to] = src.seq[from];
    this.ack[to] = src.ack[from];
    this.len[to] = src.len[from];
    this.meta[to] = src.meta[from];
    this.ord[to] = o;
  }

  override byteSize(): number {
    return super.byteSize() + this.ord.byteLength;
  }
}

export const META_FROM_SERVER = 1 << 25;
export const META_PINNED = 1 << 26;

export function packMeta(flags: number, win: number, fromServer: boolean): number {
  return (flags & 0x1ff) | ((win & 0xffff) << 9) | (fromServer ? META_FROM_SERVER : 0);
}

/** Compact events: a packed word and a reference (segment ordinal, or REF_TIMER). */
export class EventPool extends BlockPool {
  word = new Uint32Array(0);
  ref = new Uint32Array(0);

  protected growRecords(n: number): void {
    this.word = grow(this.word, new Uint32Array(n));
    this.ref = grow(this.ref, new Uint32Array(n));
  }

  byteSize(): number {
    return this.next.byteLength + this.word.byteLength + this.ref.byteLength;
  }
}

function grow<T extends Float64Array | Int32Array | Uint32Array>(old: T, next: T): T {
  next.set(old as never);
  return next;
}
