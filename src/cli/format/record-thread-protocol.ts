/** Main thread → record thread: records to write, in order, then `end`. */
export type ToRecordThread =
  /** `written`: output buffers written out since the last message, to fill again. */
  | { type: 'batch'; buffer: ArrayBuffer; used: number; count: number; written: ArrayBuffer[] }
  /** A record's finished text too long for any batch. */
  | { type: 'text'; text: string }
  | { type: 'end' };

/** Record thread → main thread: output in order, emptied batches, and `ended` after the last output. */
export type FromRecordThread = { type: 'out'; data: Uint8Array } | { type: 'free'; buffer: ArrayBuffer } | { type: 'ended' };
