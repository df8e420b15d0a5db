import type { CaptureError, Frame } from './frame';

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
  readonly error: CaptureError | null;
  readonly paused: boolean;
  push(chunk: Buffer): void;
  resume(): void;
  end(): void;
}
