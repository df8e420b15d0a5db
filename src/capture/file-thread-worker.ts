// The reader thread of readCaptureFileThreaded (file-thread.ts): reads and parses the file with the
// same readers as the main thread would, and posts the frames in batches.
import { parentPort, workerData } from 'node:worker_threads';
import { readCaptureFile } from './file';
import { BatchWriter } from './frame-batch';
import type { Frame } from './frame';
import type { ToMain, ToReader, ReaderData } from './file-thread-protocol';

const port = parentPort!;
const { input, batchBytes, batches } = workerData as ReaderData;

const spare: ArrayBuffer[] = [];
let made = 0;
let wake: (() => void) | null = null;
const abort = new AbortController();
let bytesRead = 0;
let totalBytes: number | null = null;

port.on('message', (m: ToReader) => {
  if (m.type === 'buffer') spare.push(m.buffer);
  else abort.abort();
  const w = wake;
  wake = null;
  w?.();
});

function takeBuffer(): ArrayBuffer | null {
  const b = spare.pop();
  if (b !== undefined) return b;
  if (made < batches) {
    made++;
    return new ArrayBuffer(batchBytes);
  }
  return null;
}

let batch: BatchWriter | null = new BatchWriter(takeBuffer()!);

function send(): void {
  if (batch === null || batch.count === 0) return;
  const msg: ToMain = { type: 'batch', buffer: batch.buffer, used: batch.used, count: batch.count, bytesRead, totalBytes };
  port.postMessage(msg, [batch.buffer]);
  batch = null;
}

/** Waits for the main thread to give a batch back: this is what bounds the memory in flight. */
async function nextBatch(): Promise<void> {
  for (;;) {
    const b = takeBuffer();
    if (b !== null) {
      batch = new BatchWriter(b);
      return;
    }
    if (abort.signal.aborted) return;
    await new Promise<void>((resolve) => (wake = resolve));
  }
}

function onFrame(f: Frame): void | Promise<void> {
  // After an abort the reader stops at this frame; nothing more is sent.
  if (batch === null) return;
  if (batch.write(f)) return;
  send();
  return nextBatch();
}

void readCaptureFile(input, onFrame, {
  signal: abort.signal,
  onProgress: (n, total) => {
    bytesRead = n;
    totalBytes = total;
  },
}).then((result) => {
  if (!abort.signal.aborted) send();
  const msg: ToMain = { type: 'end', result };
  port.postMessage(msg);
});
