import { MAX_PACKET } from './file-error';
import type { Frame } from './frame';
import { FrameBytes } from './parser';

/**
 * Frames packed into one ArrayBuffer, so a reader thread can hand thousands of them to the thread
 * that tracks them in one message (a message per frame would cost more than decoding it). The
 * buffer is transferred, not copied, and comes back empty to be filled again, so a file of any
 * size moves through a fixed number of batches.
 *
 * A record starts at a multiple of 8 bytes: tsSec as a float64 (seconds need more than 32 bits for
 * pcapng's offsets), then tsNsec, linkType, capLen and origLen as uint32, then the captured bytes.
 */
export const BATCH_BYTES = 1 << 20;
const HEADER = 24;
/** A batch takes no more records once less than this is left: room for the largest frame. */
const ROOM = HEADER + MAX_PACKET;

const align8 = (n: number) => (n + 7) & ~7;

export class BatchWriter {
  private f64: Float64Array;
  private u32: Uint32Array;
  private u8: Uint8Array;
  /** Bytes used and records written. */
  used = 0;
  count = 0;

  constructor(readonly buffer: ArrayBuffer) {
    this.f64 = new Float64Array(buffer);
    this.u32 = new Uint32Array(buffer);
    this.u8 = new Uint8Array(buffer);
  }

  /** Appends a frame; false when the batch must be sent before another frame could fit. */
  write(f: Frame): boolean {
    const o = this.used;
    this.f64[o >> 3] = f.tsSec;
    const w = o >> 2;
    this.u32[w + 2] = f.tsNsec;
    this.u32[w + 3] = f.linkType;
    this.u32[w + 4] = f.capLen;
    this.u32[w + 5] = f.origLen;
    this.u8.set(f.data, o + HEADER);
    this.used = align8(o + HEADER + f.capLen);
    this.count++;
    return this.buffer.byteLength - this.used >= ROOM;
  }
}

/**
 * Reads a batch back as frames. `next()` fills one reused Frame whose bytes are a view into the
 * batch (short frames: a copy in `out`, which costs less than a view object), valid until the next
 * call, as a Frame from any reader is.
 */
export class BatchReader {
  private f64: Float64Array;
  private u32: Uint32Array;
  private bytes: Buffer;
  private view: DataView<ArrayBufferLike>;
  private off = 0;
  private left: number;

  constructor(
    buffer: ArrayBuffer,
    used: number,
    count: number,
    private readonly out: FrameBytes,
  ) {
    this.f64 = new Float64Array(buffer, 0, used >> 3);
    this.u32 = new Uint32Array(buffer, 0, used >> 2);
    this.bytes = Buffer.from(buffer, 0, used);
    this.view = FrameBytes.view(this.bytes);
    this.left = count;
  }

  next(f: Frame): boolean {
    if (this.left === 0) return false;
    this.left--;
    const o = this.off;
    const w = o >> 2;
    const cap = this.u32[w + 4];
    f.tsSec = this.f64[o >> 3];
    f.tsNsec = this.u32[w + 2];
    f.linkType = this.u32[w + 3];
    f.capLen = cap;
    f.origLen = this.u32[w + 5];
    f.data = this.out.take(this.bytes, this.view, o + HEADER, cap);
    this.off = align8(o + HEADER + cap);
    return true;
  }
}
