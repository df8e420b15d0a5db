import type { AnalyzeFormat } from '../options';

/** What the record thread starts with. */
export interface RecordThreadData {
  format: AnalyzeFormat;
}

/** Main thread → record thread: records to write, in order, then `end`. */
export type ToRecordThread =
  | { type: 'batch'; buffer: ArrayBuffer; used: number; count: number }
  /** A record's finished text too long for any batch. */
  | { type: 'text'; text: string }
  /** An output buffer written out, to fill again. */
  | { type: 'written'; buffer: ArrayBuffer }
  | { type: 'end' };

/** Record thread → main thread: output in order, emptied batches, and `ended` after the last output. */
export type FromRecordThread = { type: 'out'; data: Uint8Array } | { type: 'free'; buffer: ArrayBuffer } | { type: 'ended' };
