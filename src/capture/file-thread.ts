import { existsSync } from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { describeError, type FileReadResult, type ReadCaptureOptions } from './file';
import { BATCH_BYTES, BatchReader } from './frame-batch';
import type { Frame } from './frame';
import type { ReaderData, ToMain, ToReader } from './file-thread-protocol';
import { FrameBytes } from './parser';

const READER = path.join(__dirname, 'file-thread-worker.js');
/** Batches in flight: enough that neither thread waits for the other, 4 MiB in all. */
const BATCHES = 4;

/**
 * Reading in a thread of its own needs the compiled reader script: it is there when running from
 * dist/, as the CLI does, and not when the TypeScript sources run directly.
 */
export function readerThreadAvailable(): boolean {
  return existsSync(READER);
}

/**
 * readCaptureFile with the reading and parsing in a second thread: frames reach `onFrame` on this
 * thread, in file order, as from readCaptureFile, while the next ones are being read. Same frames,
 * same result (format, damage with its offset and packet number, every frame before it); only
 * a frame handler's failure or an abort is counted in frames delivered here.
 */
export async function readCaptureFileThreaded(
  input: string,
  onFrame: (f: Frame) => void | Promise<void>,
  opts: ReadCaptureOptions = {},
): Promise<FileReadResult> {
  const signal = opts.signal;
  if (signal?.aborted) {
    return { format: null, gzip: false, frames: 0, bytes: 0, error: { code: 'aborted', message: 'reading was aborted before it started' } };
  }
  const data: ReaderData = { input, batchBytes: BATCH_BYTES, batches: BATCHES };
  const reader = new Worker(READER, { workerData: data });
  const queue: ToMain[] = [];
  let wake: (() => void) | null = null;
  const poke = () => {
    const w = wake;
    wake = null;
    w?.();
  };
  let crashed: unknown = null;
  let exited = false;
  reader.on('message', (m: ToMain) => {
    queue.push(m);
    poke();
  });
  reader.on('error', (e) => {
    crashed = e;
    poke();
  });
  reader.on('exit', () => {
    exited = true;
    poke();
  });
  signal?.addEventListener('abort', poke, { once: true });
  const post = (m: ToReader, transfer?: ArrayBuffer[]) => reader.postMessage(m, transfer);

  const frame: Frame = { tsSec: 0, tsNsec: 0, linkType: 0, data: Buffer.alloc(0), capLen: 0, origLen: 0 };
  const out = new FrameBytes();
  let delivered = 0;
  let total: number | null = null;
  /** Why delivery stopped early; the reader is told to stop and its result is still awaited. */
  let stopped: FileReadResult['error'] = null;
  const stop = (error: NonNullable<FileReadResult['error']>) => {
    if (stopped !== null) return;
    stopped = error;
    post({ type: 'stop' });
  };
  const handlerFailed = (e: unknown, what = 'frame handler') =>
    stop({ code: 'handler-error', packet: delivered, message: `the ${what} failed on packet ${delivered}: ${describeError(e)}` });

  try {
    for (;;) {
      if (signal?.aborted && stopped === null) {
        stop({ code: 'aborted', message: `reading ${input} was aborted after ${delivered} packets` });
      }
      const m = queue.shift();
      if (m === undefined) {
        if (crashed !== null || exited) {
          const why = crashed !== null ? describeError(crashed) : 'it ended without a result';
          return {
            format: null,
            gzip: false,
            frames: delivered,
            bytes: 0,
            error: stopped ?? { code: 'io-error', message: `cannot read ${input}: the reader thread failed: ${why}` },
          };
        }
        await new Promise<void>((resolve) => (wake = resolve));
        continue;
      }
      if (m.type === 'end') {
        const r = m.result;
        if (stopped !== null) return { ...r, frames: delivered, error: stopped };
        if (opts.onProgress !== undefined) {
          try {
            opts.onProgress(r.bytes, total);
          } catch (e) {
            return { ...r, error: { code: 'handler-error', packet: delivered, message: `the progress callback failed on packet ${delivered}: ${describeError(e)}` } };
          }
        }
        return r;
      }
      if (stopped === null) {
        const batch = new BatchReader(m.buffer, m.used, m.count, out);
        while (stopped === null && signal?.aborted !== true && batch.next(frame)) {
          delivered++;
          let r: void | Promise<void>;
          try {
            r = onFrame(frame);
          } catch (e) {
            handlerFailed(e);
            break;
          }
          if (r != null && typeof (r as PromiseLike<void>).then === 'function') {
            try {
              await waitUnlessAborted(r, signal);
            } catch (e) {
              handlerFailed(e);
            }
            if (signal?.aborted) break;
          }
        }
        total = m.totalBytes;
        if (stopped === null && opts.onProgress !== undefined) {
          try {
            opts.onProgress(m.bytesRead, m.totalBytes);
          } catch (e) {
            handlerFailed(e, 'progress callback');
          }
        }
      }
      post({ type: 'buffer', buffer: m.buffer }, [m.buffer]);
    }
  } finally {
    signal?.removeEventListener('abort', poke);
    void reader.terminate();
  }
}

function waitUnlessAborted(p: Promise<void>, signal: AbortSignal | undefined): Promise<void> {
  if (signal === undefined) return p;
  return new Promise<void>((resolve, reject) => {
    const done = () => resolve();
    signal.addEventListener('abort', done, { once: true });
    p.then(
      () => {
        signal.removeEventListener('abort', done);
        resolve();
      },
      (e: unknown) => {
        signal.removeEventListener('abort', done);
        reject(e);
      },
    );
  });
}
