/** Bytes of one slab the stream's batch frames are cut from. */
const SLAB_BYTES = 2 * 1024 * 1024;
/** Slabs kept for reuse once every write of their frames is done; more are let go. */
const SPARE_SLABS = 4;

/** One slab: frames are cut from it in turn; it is reused once it is full and no write of them is pending. */
export class Slab {
  readonly buf = Buffer.allocUnsafeSlow(SLAB_BYTES);
  off = 0;
  /** Writes handed to sockets and not yet done. */
  pending = 0;
  /** Full: no more frames are cut from it. */
  retired = false;
  /** For each write's callback: one function per slab, not one per write. */
  readonly done: () => void;

  constructor(owner: FrameSlabs) {
    this.done = () => {
      this.pending--;
      if (this.retired && this.pending === 0) owner.recycle(this);
    };
  }
}

/**
 * Where the /ws stream's batch frames are written: slabs of SLAB_BYTES, each cut into frames and
 * taken back once every write of every frame cut from it is done, rather than a new Buffer per
 * frame and flush pass. Buffers are external memory, which V8 counts towards its next full
 * collection: the frames made new for every pass were the largest part of what started this
 * process's full collections at a busy stream (BENCHMARKS.md, "Timers on packet time").
 *
 * A frame larger than half a slab gets a Buffer of its own (slab null). A slab filled during a
 * flush pass may still have frames of that pass waiting to be written to other clients: it is
 * looked at again only at the end of the pass (endPass) or when its last write is done.
 */
export class FrameSlabs {
  private cur: Slab | null = null;
  private readonly spare: Slab[] = [];
  private readonly filled: Slab[] = [];
  /** Slabs made, for tests. */
  made = 0;

  /** A frame of `size` bytes to write into, and the slab it is cut from. */
  take(size: number): { frame: Buffer; slab: Slab | null } {
    if (size > SLAB_BYTES / 2) return { frame: Buffer.allocUnsafe(size), slab: null };
    let s = this.cur;
    if (s === null || s.off + size > s.buf.length) {
      if (s !== null) {
        s.retired = true;
        this.filled.push(s);
      }
      s = this.cur = this.spare.pop() ?? this.make();
    }
    const frame = s.buf.subarray(s.off, s.off + size);
    s.off += size;
    return { frame, slab: s };
  }

  /** The flush pass is over: slabs filled in it with no write pending are free again. */
  endPass(): void {
    for (const s of this.filled) if (s.pending === 0) this.recycle(s);
    this.filled.length = 0;
  }

  recycle(s: Slab): void {
    if (!s.retired) return;
    s.retired = false;
    s.off = 0;
    if (this.spare.length < SPARE_SLABS) this.spare.push(s);
  }

  private make(): Slab {
    this.made++;
    return new Slab(this);
  }
}
