// What it takes to decide on and start a reader thread, apart from the reading itself: a command
// can start the thread before it loads its own code (the tracker, the formats), so that both load at
// once. Nothing here loads the readers or the decoder.
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { ReaderData } from './reader-thread-protocol';

/** The reader thread's script (reader-thread-worker.ts, compiled). */
export const READER_SCRIPT = path.join(__dirname, 'reader-thread-worker.js');
/** A batch of decoded frames (segment-batch.ts). */
export const BATCH_BYTES = 1 << 20;
/** Batches in flight: enough that neither thread waits for the other, 4 MiB in all. */
const BATCHES = 4;
/** The first batch: some 700 frames, so that tracking starts a few ms after the thread has. */
const FIRST_BATCH_BYTES = 64 << 10;

/**
 * Reading in a thread of its own needs the compiled reader script: it is there when running from
 * dist/, as the CLI does, and not when the TypeScript sources run directly.
 */
export function readerThreadAvailable(): boolean {
  return existsSync(READER_SCRIPT);
}

/** What a reader thread starts with, to read `input`. */
export function readerData(input: string, opts: Partial<Pick<ReaderData, 'decode' | 'batchBytes'>> = {}): ReaderData {
  return {
    input,
    batchBytes: opts.batchBytes ?? BATCH_BYTES,
    batches: BATCHES,
    decode: opts.decode ?? 'balance',
    firstBatchBytes: FIRST_BATCH_BYTES,
  };
}
