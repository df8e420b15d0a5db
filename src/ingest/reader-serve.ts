// The reader thread's side of readDecodedThreaded (reader-thread.ts): reads, parses and decodes the
// file with the same readers and decoder the main thread would use, and posts the results in
// batches. It runs in reader-thread-worker.ts, or beside analyze's record writer in one thread.
import type { MessagePort } from 'node:worker_threads';
import { readCaptureFile } from '../capture/file';
import { frameTimeMs, type Frame, type FrameNote } from '../capture/frame';
import { decodeFrame } from '../decode/decode';
import { Segment } from '../decode/segment';
import { SegmentBatchWriter } from './segment-batch';
import type { ReaderData, ToMain, ToReader } from './reader-thread-protocol';

/** Reads `data.input` and posts its frames, decoded, to `port` (ToMain), taking batches back (ToReader). */
export function serveReading(port: MessagePort, data: ReaderData): void {
  const r = new ReaderSide(port, data);
  void r.run();
}

class ReaderSide {
  private readonly spare: ArrayBuffer[] = [];
  private made = 0;
  private wake: (() => void) | null = null;
  private readonly abort = new AbortController();
  private decodeHere: boolean;
  private bytesRead = 0;
  private totalBytes: number | null = null;
  private readonly seg = new Segment();
  private batch: SegmentBatchWriter | null;
  /** The batch's frames that carry a note (pcapng comments), by their index in it. */
  private notes: [number, FrameNote][] = [];

  constructor(
    private readonly port: MessagePort,
    private readonly data: ReaderData,
  ) {
    this.decodeHere = data.decode !== 'main';
    port.on('message', (m: ToReader) => {
      if (m.type === 'buffer') this.spare.push(m.buffer);
      else this.abort.abort();
      const w = this.wake;
      this.wake = null;
      w?.();
    });
    this.batch = new SegmentBatchWriter(this.takeBuffer()!, data.firstBatchBytes);
    this.onFrame = this.onFrame.bind(this);
  }

  async run(): Promise<void> {
    const result = await readCaptureFile(this.data.input, this.onFrame, {
      signal: this.abort.signal,
      onProgress: (n, total) => {
        this.bytesRead = n;
        this.totalBytes = total;
      },
    });
    if (!this.abort.signal.aborted) this.send();
    const msg: ToMain = { type: 'end', result };
    this.port.postMessage(msg);
  }

  private takeBuffer(): ArrayBuffer | null {
    const b = this.spare.pop();
    if (b !== undefined) return b;
    if (this.made < this.data.batches) {
      this.made++;
      return new ArrayBuffer(this.data.batchBytes);
    }
    return null;
  }

  private send(): void {
    const batch = this.batch;
    if (batch === null || batch.count === 0) return;
    const notes = this.notes;
    const msg: ToMain = {
      type: 'batch',
      buffer: batch.buffer,
      used: batch.used,
      count: batch.count,
      bytesRead: this.bytesRead,
      totalBytes: this.totalBytes,
      ...(notes.length > 0 ? { notes } : {}),
    };
    this.port.postMessage(msg, [batch.buffer]);
    this.batch = null;
    this.notes = [];
  }

  /** Waits for the main thread to give a batch back: this is what bounds the memory in flight. */
  private async nextBatch(): Promise<void> {
    for (let waited = false; ; waited = true) {
      const b = this.takeBuffer();
      if (b !== null) {
        this.batch = new SegmentBatchWriter(b);
        // Waiting means the main thread is behind: take the decoding off it while that lasts.
        if (this.data.decode === 'balance') this.decodeHere = waited;
        return;
      }
      if (this.abort.signal.aborted) return;
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  private onFrame(f: Frame): void | Promise<void> {
    // After a stop the reader ends at this frame; nothing more is sent.
    const batch = this.batch;
    if (batch === null) return;
    const ts = frameTimeMs(f);
    if (f.note) this.notes.push([batch.count, f.note]);
    if (!this.decodeHere && batch.writeFrame(ts, f)) return;
    const status = decodeFrame(f.linkType, f.data, f.origLen, this.seg);
    if (batch.write(ts, f.origLen, status, this.seg)) return;
    this.send();
    return this.nextBatch();
  }
}
