import type { FileReadResult } from './capture/file';

/** What the reader thread starts with. */
export interface ReaderData {
  input: string;
  batchBytes: number;
  /** Batches in flight at most: the reader waits for one to come back before filling another. */
  batches: number;
}

/** Reader thread → main thread. Batches arrive in file order, then one `end`. */
export type ToMain =
  | { type: 'batch'; buffer: ArrayBuffer; used: number; count: number; bytesRead: number; totalBytes: number | null }
  | { type: 'end'; result: FileReadResult };

/** Main thread → reader thread: an emptied batch to fill again, or stop. */
export type ToReader = { type: 'buffer'; buffer: ArrayBuffer } | { type: 'stop' };
