import { Worker } from 'node:worker_threads';
import type { FileError } from '../capture/errors';
import { describeError, type FileReadResult, type ReadCaptureOptions } from '../capture/file';
import type { FrameNote } from '../capture/frame';
import { FrameBytes } from '../capture/parser';
import { Segment, type DecodeStatus } from '../decode/segment';
import { SegmentBatchReader } from './segment-batch';
import { READER_SCRIPT, readerData } from './reader-start';
import type { ReaderData, ToMain, ToReader } from './reader-thread-protocol';

/**
 * Takes one frame as the reader thread decoded it into `seg` (read `seg` only when status is 'ok'),
 * with what the file said of it beside its bytes (pcapng comments), if anything.
 */
export type DecodedHandler = (tsMs: number, origLen: number, status: DecodeStatus, seg: Segment, note?: FrameNote | null) => void | Promise<void>;

/**
 * readCaptureFile and decodeFrame in a second thread: each frame reaches `onDecoded` on this
 * thread decoded, in file order, while the next ones are being read, so that reading, parsing and
 * decoding overlap tracking. Decoding happens in whichever thread has time for it (ReaderData).
 * Same frames, same decode, same result (format, damage with its offset and packet number, every
 * frame before it); a handler's failure or an abort counts the frames delivered here.
 */
export async function readDecodedThreaded(
  input: string,
  onDecoded: DecodedHandler,
  opts: ReadCaptureOptions &
    Partial<Pick<ReaderData, 'decode' | 'batchBytes'>> & {
      /**
       * The thread that reads, started by the caller with readerData(input) for serveReading() on
       * its parentPort, beside work of the caller's: the caller ends it. Without, a reader thread is
       * made and ended here.
       */
      thread?: Worker;
    } = {},
): Promise<FileReadResult> {
  const signal = opts.signal;
  if (signal?.aborted) {
    return { format: null, gzip: false, frames: 0, bytes: 0, error: { code: 'aborted', message: 'reading was aborted before it started' } };
  }
  const reader = opts.thread ?? new Worker(READER_SCRIPT, { workerData: readerData(input, opts) });
  const queue: ToMain[] = [];
  let wake: (() => void) | null = null;
  const poke = () => {
    const w = wake;
    wake = null;
    w?.();
  };
  let crashed: unknown = null;
  let exited = false;
  const onMessage = (m: ToMain) => {
    queue.push(m);
    poke();
  };
  const onError = (e: unknown) => {
    crashed = e;
    poke();
  };
  const onExit = () => {
    exited = true;
    poke();
  };
  reader.on('message', onMessage);
  reader.on('error', onError);
  reader.on('exit', onExit);
  signal?.addEventListener('abort', poke, { once: true });
  const post = (m: ToReader, transfer?: ArrayBuffer[]) => reader.postMessage(m, transfer);

  const seg = new Segment();
  const frameBytes = new FrameBytes();
  let delivered = 0;
  let total: number | null = null;
  /** Why delivery stopped early; the reader is told to stop and its result is still awaited. */
  let stopped: FileReadResult['error'] = null;
  const stop = (error: NonNullable<FileReadResult['error']>) => {
    if (stopped !== null) return;
    stopped = error;
    post({ type: 'stop' });
  };
  const handlerError = (e: unknown, what: string): FileError => ({
    code: 'handler-error',
    packet: delivered,
    message: `the ${what} failed on packet ${delivered}: ${describeError(e)}`,
  });
  const handlerFailed = (e: unknown, what = 'frame handler') => stop(handlerError(e, what));

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
            return { ...r, error: handlerError(e, 'progress callback') };
          }
        }
        return r;
      }
      if (stopped === null) {
        const batch = new SegmentBatchReader(m.buffer, m.used, m.count, frameBytes);
        const notes = m.notes;
        let index = 0;
        let k = 0;
        while (stopped === null && signal?.aborted !== true && batch.next(seg)) {
          delivered++;
          const note = notes !== undefined && k < notes.length && notes[k][0] === index ? notes[k++][1] : null;
          index++;
          let r: void | Promise<void>;
          try {
            r = onDecoded(batch.tsMs, batch.origLen, batch.status, seg, note);
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
    if (opts.thread === undefined) void reader.terminate();
    else {
      reader.off('message', onMessage);
      reader.off('error', onError);
      reader.off('exit', onExit);
    }
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
