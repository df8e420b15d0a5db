import type { FileError } from './errors';
import type { Frame } from './frame';

export type CaptureFormat = 'pcap' | 'pcap-ns' | 'pcapng';

/**
 * Receives each frame. Returning true asks the reader to pause (the consumer is busy with an
 * asynchronous step): the reader keeps its place and continues on `resume()`.
 */
export type FrameSink = (frame: Frame) => boolean;

/**
 * A push parser for one capture format. Feed it chunks as they arrive (split anywhere); it
 * delivers every whole frame to its sink and stops at the first damage, recording it in `error`.
 * `end()` says the input is over, which turns an unfinished header or record into an error.
 * While `paused`, the caller must not push: it waits for the consumer, then calls `resume()`.
 */
export interface CaptureParser {
  readonly format: CaptureFormat;
  /** Frames delivered to the sink so far. */
  readonly frames: number;
  readonly error: FileError | null;
  readonly paused: boolean;
  push(chunk: Buffer): void;
  resume(): void;
  end(): void;
}

/** Frames up to this many bytes are copied into one reused buffer; longer ones get a view. */
const SCRATCH_MAX = 256;

/**
 * Hands out a frame's bytes without allocating. A view (`subarray`) per packet costs a Buffer
 * object, more than copying a short frame does, so short frames are copied into one scratch buffer
 * and returned as the cached view of exactly their length (`data.length === capLen` holds). What
 * it returns is valid until the next call, which is all a Frame promises.
 */
export class FrameBytes {
  /** A DataView over exactly the bytes of `b`. */
  static view(b: Buffer): DataView<ArrayBufferLike> {
    return new DataView(b.buffer, b.byteOffset, b.length);
  }

  private readonly scratch = Buffer.from(new ArrayBuffer(SCRATCH_MAX));
  private readonly out = new DataView(this.scratch.buffer, this.scratch.byteOffset, SCRATCH_MAX);
  private readonly outWords = new Int32Array(this.scratch.buffer, this.scratch.byteOffset, SCRATCH_MAX >> 2);
  private readonly views: Buffer[] = [];

  constructor() {
    for (let n = 0; n <= SCRATCH_MAX; n++) this.views.push(this.scratch.subarray(0, n));
  }

  /** Bytes [off, off + len) of `src`; `from` is a DataView over exactly `src`. */
  take(src: Buffer, from: DataView<ArrayBufferLike>, off: number, len: number): Buffer {
    if (len > SCRATCH_MAX) return src.subarray(off, off + len);
    const to = this.out;
    const words = len & ~3;
    let i = 0;
    for (; i < words; i += 4) to.setInt32(i, from.getInt32(off + i));
    for (; i < len; i++) this.scratch[i] = src[off + i];
    return this.views[len];
  }

  /**
   * Bytes [4 * at, 4 * at + len) of `src`, where `words` is an Int32Array over `src` from its first
   * byte and the record is padded to a whole word inside `src` (as pcapng pads every packet): whole
   * words are copied, one typed-array load and store each.
   */
  takeWords(src: Buffer, words: Int32Array, at: number, len: number): Buffer {
    if (len > SCRATCH_MAX) return src.subarray(at << 2, (at << 2) + len);
    const to = this.outWords;
    const n = (len + 3) >> 2;
    // Eight words a turn: each turn of a loop re-checks both arrays (its interrupt check may run
    // anything), which costs more than the copy itself. Indices are below 2^17: `| 0` tells the
    // compiler so, where it would otherwise check every addition for overflow.
    let i = 0;
    for (; i + 8 <= n; i = (i + 8) | 0) {
      const k = (at + i) | 0;
      to[i] = words[k];
      to[(i + 1) | 0] = words[(k + 1) | 0];
      to[(i + 2) | 0] = words[(k + 2) | 0];
      to[(i + 3) | 0] = words[(k + 3) | 0];
      to[(i + 4) | 0] = words[(k + 4) | 0];
      to[(i + 5) | 0] = words[(k + 5) | 0];
      to[(i + 6) | 0] = words[(k + 6) | 0];
      to[(i + 7) | 0] = words[(k + 7) | 0];
    }
    for (; i < n; i = (i + 1) | 0) to[i] = words[(at + i) | 0];
    return this.views[len];
  }
}
