/**
 * Fixed-size blocks of records, handed out to connections on demand and linked through `next`.
 * Connections that never need a block cost nothing; a freed block goes back on the free list.
 * Record i of block b is record b * BLOCK + i.
 *
 * The records live in pages that are added as the pool grows and never copied: growing by copying
 * touched every byte several times over (and left up to a quarter of the last copy unused), which
 * cost more than writing the records. A record's fields sit side by side in its page, so one
 * segment or event is one or two cache lines, not one per field.
 */
// The sizes as constants the compiler writes in place (a module constant is a context load at each use).
export const enum PG {
  BLOCK = 4,
  BLOCK_SHIFT = 2,
  /** Records per page (a power of two). */
  PAGE_SHIFT = 14,
  PAGE_RECORDS = 1 << PAGE_SHIFT,
  PAGE_MASK = PAGE_RECORDS - 1,
  PAGE_BLOCKS = PAGE_RECORDS >> BLOCK_SHIFT,
  BLOCK_PAGE_SHIFT = PAGE_SHIFT - BLOCK_SHIFT,
  BLOCK_PAGE_MASK = PAGE_BLOCKS - 1,
}

/** Words (4 bytes) per record of the ladder's pool and of the pinned copies. */
const enum REC { SEG_WORDS = 6, PIN_WORDS = 8 }

/** Writes a segment record (time, seq, ack, length, meta) at word i of a page's two views. */
function store(f64: Float64Array, i32: Int32Array, i: number, ts: number, seq: number, ack: number, len: number, meta: number): void {
  f64[i >> 1] = ts;
  i32[i + 2] = seq;
  i32[i + 3] = ack;
  i32[i + 4] = len;
  i32[i + 5] = meta;
}

/**
 * The blocks of one pool: how many exist, which are free, and each block's link to the next in its
 * chain. One class for every pool, so that the code that hands out a block (the ladder's every
 * fourth segment, the event log's every fourth event) meets one kind of object and V8 can inline it
 * (in the pools' shared base class its loads saw three).
 */
export class Blocks {
  /** Blocks that exist (whole pages of them). */
  count = 0;
  inUse = 0;
  private freeHead = -1;
  private hwm = 0;
  private readonly nextPages: Int32Array[] = [];

  /** `addRecordPage` adds a page of records to the pool when a page of blocks is added here. */
  constructor(private readonly addRecordPage: () => void) {}

  /** The block after b in its chain, or -1. */
  next(b: number): number {
    return this.nextPages[b >>> PG.BLOCK_PAGE_SHIFT][b & PG.BLOCK_PAGE_MASK];
  }

  setNext(b: number, n: number): void {
    this.nextPages[b >>> PG.BLOCK_PAGE_SHIFT][b & PG.BLOCK_PAGE_MASK] = n;
  }

  /**
   * A block, chained before `next` (-1: none): the pools' blocks chain newest first, so a new
   * block is linked in the same call that hands it out.
   */
  alloc(next: number): number {
    let b = this.freeHead;
    if (b >= 0) {
      this.freeHead = this.next(b);
    } else {
      if (this.hwm >= this.count) this.addPage();
      b = this.hwm++;
    }
    this.setNext(b, next);
    this.inUse++;
    return b;
  }

  /** Frees a whole chain starting at `b`. */
  freeChain(b: number): void {
    while (b >= 0) {
      const nx = this.next(b);
      this.setNext(b, this.freeHead);
      this.freeHead = b;
      this.inUse--;
      b = nx;
    }
  }

  /** Pages of blocks that exist. */
  get pages(): number {
    return this.nextPages.length;
  }

  private addPage(): void {
    this.nextPages.push(new Int32Array(PG.PAGE_BLOCKS));
    this.addRecordPage();
    this.count += PG.PAGE_BLOCKS;
  }
}

abstract class BlockPool {
  /** The pool's blocks (the hot callers use it directly: see Blocks). */
  readonly blocks = new Blocks(() => this.addRecordPage(PG.PAGE_RECORDS));

  get inUse(): number {
    return this.blocks.inUse;
  }

  /** The block after b in its chain, or -1. */
  next(b: number): number {
    return this.blocks.next(b);
  }

  setNext(b: number, n: number): void {
    this.blocks.setNext(b, n);
  }

  /** A block, chained before `next` (-1: none). */
  alloc(next: number): number {
    return this.blocks.alloc(next);
  }

  /** Frees a whole chain starting at `b`. */
  freeChain(b: number): void {
    this.blocks.freeChain(b);
  }

  byteSize(): number {
    return this.blocks.pages * (PG.PAGE_BLOCKS * 4 + PG.PAGE_RECORDS * this.recordBytes());
  }

  protected abstract addRecordPage(records: number): void;
  protected abstract recordBytes(): number;
}

/**
 * Ladder segments: headers only, 24 bytes each (time, seq, ack, len, meta). `meta` packs flags
 * (9 bits), window (16 bits), from, pinned. A record's ordinal follows from where it sits (head or
 * ring), so only pinned copies store it.
 */
export class SegPool extends BlockPool {
  /** Words (4 bytes) per record: the time as a double at word 0, then seq, ack, len, meta, … */
  protected readonly words: number = REC.SEG_WORDS;
  protected readonly f64: Float64Array[] = [];
  protected readonly i32: Int32Array[] = [];

  ts(r: number): number {
    return this.f64[r >>> PG.PAGE_SHIFT][((r & PG.PAGE_MASK) * this.words) >> 1];
  }

  setTs(r: number, t: number): void {
    this.f64[r >>> PG.PAGE_SHIFT][((r & PG.PAGE_MASK) * this.words) >> 1] = t;
  }

  seq(r: number): number {
    return this.i32[r >>> PG.PAGE_SHIFT][(r & PG.PAGE_MASK) * this.words + 2];
  }

  ack(r: number): number {
    return this.i32[r >>> PG.PAGE_SHIFT][(r & PG.PAGE_MASK) * this.words + 3];
  }

  len(r: number): number {
    return this.i32[r >>> PG.PAGE_SHIFT][(r & PG.PAGE_MASK) * this.words + 4];
  }

  meta(r: number): number {
    return this.i32[r >>> PG.PAGE_SHIFT][(r & PG.PAGE_MASK) * this.words + 5];
  }

  setMeta(r: number, m: number): void {
    this.i32[r >>> PG.PAGE_SHIFT][(r & PG.PAGE_MASK) * this.words + 5] = m;
  }

  /**
   * Writes a whole record, the time included (the ladder's every segment: its stride a constant,
   * where `words` is a field load and a checked multiplication). The page's two views are kept from
   * the last write: blocks are mostly handed out page after page, and the two lookups in the lists
   * of pages (each a list's map, length and element checked, then the view's) cost 10
   * instructions a segment of the bench capture's second pass, measured alone (BENCHMARKS.md; 28
   * together with Conns.change()'s, with which V8 inlines differently).
   */
  writeAll(r: number, ts: number, seq: number, ack: number, len: number, meta: number): void {
    const page = r >>> PG.PAGE_SHIFT;
    if (page !== this.wPage) {
      this.wPage = page;
      this.wF64 = this.f64[page];
      this.wI32 = this.i32[page];
    }
    store(this.wF64, this.wI32, (r & PG.PAGE_MASK) * REC.SEG_WORDS, ts, seq, ack, len, meta);
  }

  /** The page writeAll() wrote last, and its two views: records are mostly written page after page. */
  private wPage = -1;
  private wF64: Float64Array = new Float64Array(0);
  private wI32: Int32Array = new Int32Array(0);

  protected addRecordPage(records: number): void {
    const buf = new ArrayBuffer(records * this.words * 4);
    this.f64.push(new Float64Array(buf));
    this.i32.push(new Int32Array(buf));
  }

  protected recordBytes(): number {
    return this.words * 4;
  }
}

/** Segments that events refer to, kept after the ladder's ring moved past them. */
export class PinPool extends SegPool {
  protected override readonly words: number = REC.PIN_WORDS; // … and the segment's ordinal at word 6

  /** SegPool's writeAll with this pool's stride (the base has the segment pool's as a constant). */
  override writeAll(r: number, ts: number, seq: number, ack: number, len: number, meta: number): void {
    const page = r >>> PG.PAGE_SHIFT;
    store(this.f64[page], this.i32[page], (r & PG.PAGE_MASK) * REC.PIN_WORDS, ts, seq, ack, len, meta);
  }

  ord(r: number): number {
    return this.i32[r >>> PG.PAGE_SHIFT][(r & PG.PAGE_MASK) * this.words + 6] >>> 0;
  }

  /** Copies record `from` of `src` to record `to` here, as segment `o`. */
  copyFrom(src: SegPool, from: number, to: number, o: number): void {
    this.writeAll(to, src.ts(from), src.seq(from), src.ack(from), src.len(from), src.meta(from));
    this.i32[to >>> PG.PAGE_SHIFT][(to & PG.PAGE_MASK) * this.words + 6] = o;
  }
}

/** Bits of a ladder record's meta word above the flags and the window. */
export const enum META { FROM_SERVER = 1 << 25, PINNED = 1 << 26 }

export function packMeta(flags: number, win: number, fromServer: boolean): number {
  return (flags & 0x1ff) | ((win & 0xffff) << 9) | (fromServer ? META.FROM_SERVER : 0);
}

/** Compact events: a packed word and a reference (segment ordinal, or REF.TIMER). */
export class EventPool extends BlockPool {
  private readonly pages: Uint32Array[] = [];

  word(r: number): number {
    return this.pages[r >>> PG.PAGE_SHIFT][(r & PG.PAGE_MASK) << 1];
  }

  /** The reference stored (REF.TIMER, -1, comes back from the unsigned store as 0xffffffff). */
  ref(r: number): number {
    const v = this.pages[r >>> PG.PAGE_SHIFT][((r & PG.PAGE_MASK) << 1) + 1];
    return v === 0xffffffff ? -1 : v;
  }

  set(r: number, word: number, ref: number): void {
    const a = this.pages[r >>> PG.PAGE_SHIFT];
    const i = (r & PG.PAGE_MASK) << 1;
    a[i] = word;
    a[i + 1] = ref;
  }

  protected addRecordPage(records: number): void {
    this.pages.push(new Uint32Array(records * 2));
  }

  protected recordBytes(): number {
    return 8;
  }
}
