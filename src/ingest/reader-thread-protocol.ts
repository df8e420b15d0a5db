import type { FileReadResult } from '../capture/file';
import type { FrameNote } from '../capture/frame';

/** What the reader thread starts with. */
export interface ReaderData {
  input: string;
  batchBytes: number;
  /** Batches in flight at most: the reader waits for one to come back before filling another. */
  batches: number;
  /**
   * Where frames are decoded: `balance` decodes in the reader thread while the main thread is the
   * slower one (the reader had to wait for a batch to come back) and leaves it to the main thread
   * otherwise; `reader` and `main` pin it (tests).
   */
  decode: 'balance' | 'reader' | 'main';
  /** The first batch goes out once this much of it is filled: tracking starts while the rest is read. */
  firstBatchBytes: number;
}

/** Reader thread → main thread. Batches arrive in file order, then one `end`. */
export type ToMain =
  | { type: 'batch'; buffer: ArrayBuffer; used: number; count: number; bytesRead: number; totalBytes: number | null; notes?: [number, FrameNote][] }
  | { type: 'end'; result: FileReadResult };

/** Main thread → reader thread: an emptied batch to fill again, or stop. */
export type ToReader = { type: 'buffer'; buffer: ArrayBuffer } | { type: 'stop' };
