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

  private readonly scratch = Buffer.alloc(SCRATCH_MAX);
  private readonly out = new DataView(this.scratch.buffer, this.scratch.byteOffset, SCRATCH_MAX);
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
}
