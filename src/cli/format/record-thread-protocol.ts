/** Main thread → record thread: records to write, in order, then `end`. */
export type ToRecordThread =
  /** `written`: output buffers written out since the last message, to fill again. */
  | { type: 'batch'; buffer: ArrayBuffer; used: number; count: number; written: ArrayBuffer[] }
  /** A record's finished text too long for any batch. */
  | { type: 'text'; text: string }
  /** Write out what came before, then answer with `mark`: the end of a round (shared-end.ts). */
  | { type: 'mark' }
  | { type: 'end' };

/** Record thread → main thread: output in order, emptied batches, `mark` after the output of the records before a mark, and `ended` after the last output. */
export type FromRecordThread = { type: 'out'; data: Uint8Array } | { type: 'free'; buffer: ArrayBuffer } | { type: 'mark' } | { type: 'ended' };
