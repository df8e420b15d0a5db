// The reader thread of readDecodedThreaded (reader-thread.ts): reads, parses and decodes the file
// with the same readers and decoder the main thread would use, and posts the results in batches.
import { parentPort, workerData } from 'node:worker_threads';
import { readCaptureFile } from '../capture/file';
import { frameTimeMs, type Frame, type FrameNote } from '../capture/frame';
import { decodeFrame } from '../decode/decode';
import { Segment } from '../decode/segment';
import { SegmentBatchWriter } from './segment-batch';
import type { ReaderData, ToMain, ToReader } from './reader-thread-protocol';

const port = parentPort!;
const { input, batchBytes, batches, decode } = workerData as ReaderData;

const spare: ArrayBuffer[] = [];
let made = 0;
let wake: (() => void) | null = null;
const abort = new AbortController();
let decodeHere = decode !== 'main';
let bytesRead = 0;
let totalBytes: number | null = null;
const seg = new Segment();

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

let batch: SegmentBatchWriter | null = new SegmentBatchWriter(takeBuffer()!);
/** The batch's frames that carry a note (pcapng comments), by their index in it. */
let notes: [number, FrameNote][] = [];

function send(): void {
  if (batch === null || batch.count === 0) return;
  const msg: ToMain = { type: 'batch', buffer: batch.buffer, used: batch.used, count: batch.count, bytesRead, totalBytes, ...(notes.length > 0 ? { notes } : {}) };
  port.postMessage(msg, [batch.buffer]);
  batch = null;
  notes = [];
}

/** Waits for the main thread to give a batch back: this is what bounds the memory in flight. */
async function nextBatch(): Promise<void> {
  for (let waited = false; ; waited = true) {
    const b = takeBuffer();
    if (b !== null) {
      batch = new SegmentBatchWriter(b);
      // Waiting means the main thread is behind: take the decoding off it while that lasts.
      if (decode === 'balance') decodeHere = waited;
      return;
    }
    if (abort.signal.aborted) return;
    await new Promise<void>((resolve) => (wake = resolve));
  }
}

function onFrame(f: Frame): void | Promise<void> {
  // After a stop the reader ends at this frame; nothing more is sent.
  if (batch === null) return;
  const ts = frameTimeMs(f);
  if (f.note) notes.push([batch.count, f.note]);
  if (!decodeHere && batch.writeFrame(ts, f)) return;
  const status = decodeFrame(f.linkType, f.data, f.origLen, seg);
  if (batch.write(ts, f.origLen, status, seg)) return;
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
