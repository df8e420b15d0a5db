/**
 * The one thing every capture source yields: a raw link-layer frame and when it was seen.
 *
 * A Frame handed to a callback is only valid during that call: sources reuse the object and,
 * for live capture, the byte buffer too. Copy what must outlive the call.
 */
export interface Frame {
  /** Whole seconds since the Unix epoch. */
  tsSec: number;
  /** Nanoseconds within the second, 0..999_999_999. */
  tsNsec: number;
  /** LINKTYPE_* value (see src/decode/linktype.ts). */
  linkType: number;
  /** The captured bytes; `data.length === capLen`. */
  data: Buffer;
  /** Bytes captured (may be less than origLen when the snap length cut the packet). */
  capLen: number;
  /** Bytes the packet had on the wire. */
  origLen: number;
  /**
   * What the file says of the packet beside its bytes (a pcapng packet block's comments and
   * direction flag); absent or null for every other source.
   */
  note?: FrameNote | null;
}

/** A pcapng packet block's options that tcpscope reads. */
export interface FrameNote {
  /** opt_comment, each one as written (UTF-8). */
  comments: string[];
  /** epb_flags' direction: the packet was received by (in) or sent from (out) the capturing host; null when not said. */
  direction: 'in' | 'out' | null;
}

/** Epoch milliseconds (fractional) of a frame, the unit every later stage uses. */
export function frameTimeMs(f: Frame): number {
  return f.tsSec * 1000 + f.tsNsec / 1e6;
}

export type FrameHandler = (frame: Frame) => void;
