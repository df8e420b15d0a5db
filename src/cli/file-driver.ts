import { frameTimeMs, type Frame } from '../capture/frame';
import { readCaptureFile, type FileReadResult, type ReadCaptureOptions } from '../capture/file';
import { readDecodedThreaded } from '../ingest/reader-thread';
import { readsInThread, sizeOf } from './reader-choice';
import type { Engine } from '../ingest/engine';
import type { FileSourceInfo } from '../capture/source';
import { CommentOwners } from '../ingest/comments';
import type { Worker } from 'node:worker_threads';
import { speedText, type ReadThreadMode, type Speed } from './options';

/** Timers advance at most this often (capture time) while a file plays: deterministic, as it depends only on the packets. */
const EXPIRE_EVERY_MS = 1000;
/** Waits shorter than this are not worth a timer; the next frame catches up. */
const MIN_WAIT_MS = 2;
/** Frames handled between two looks at the clock while yielding (see `yieldEveryMs`). */
const YIELD_CHECK_FRAMES = 128;

export interface FileRun {
  source: FileSourceInfo;
  done: Promise<FileReadResult>;
}

/**
 * Feeds a capture file through the engine. Timers (TIME_WAIT, idle timeouts) are driven only by
 * packet timestamps, and at the end by the last packet's timestamp, so the same file always gives
 * the same connections, however fast it is read.
 */
export function playFile(
  engine: Engine,
  input: string,
  speed: Speed,
  opts: {
    onProgress?: (bytesRead: number, total: number | null) => void;
    signal?: AbortSignal;
    readThread?: ReadThreadMode;
    /**
     * At --speed max, hand the event loop back after this long of tracking (HTTP requests,
     * WebSocket writes, timers), then go on: a server replaying a big file keeps answering.
     */
    yieldEveryMs?: number;
    /** At --speed max, reading pauses while `wait` is a promise (the output is behind). */
    gate?: { wait: Promise<void> | null };
    /** At --speed max, read in this thread (started with readerData(input), beside the caller's work), whatever readThread says. */
    readerThread?: Worker;
  } = {},
): FileRun {
  const gate = opts.gate;
  const source: FileSourceInfo = {
    kind: 'file',
    path: input,
    format: null,
    gzip: null,
    speed: speedText(speed),
    bytesRead: 0,
    totalBytes: input === '-' ? null : sizeOf(input),
    frames: 0,
    done: false,
    error: null,
  };
  let nextExpire = -Infinity;
  const afterFrame = () => {
    source.frames++;
    const ts = engine.lastTs;
    if (ts >= nextExpire) {
      engine.tracker.expire(ts);
      nextExpire = ts + EXPIRE_EVERY_MS;
    }
  };

  // pcapng comments that name a process (ptcpdump, tcpscope live -w) name the endpoints
  const owners = new CommentOwners(engine.tracker);
  const pause = yielder(opts.yieldEveryMs);
  let onFrame: (f: Frame) => void | Promise<void>;
  if (speed.kind === 'max') {
    onFrame = (f) => {
      engine.onFrame(f);
      if (f.note) owners.onFrame(f);
      afterFrame();
      return gate?.wait ?? pause();
    };
  } else {
    const factor = speed.factor;
    let wall0 = -1;
    let ts0 = 0;
    const held: Frame = { tsSec: 0, tsNsec: 0, linkType: 0, data: Buffer.alloc(0), capLen: 0, origLen: 0, note: null };
    onFrame = (f) => {
      const ts = frameTimeMs(f);
      if (wall0 < 0) {
        wall0 = performance.now();
        ts0 = ts;
      }
      const wait = wall0 + (ts - ts0) / factor - performance.now();
      if (wait < MIN_WAIT_MS) {
        engine.onFrame(f);
        if (f.note) owners.onFrame(f);
        afterFrame();
        return;
      }
      // The reader may reuse its frame once we return, so keep a copy for the wait.
      held.tsSec = f.tsSec;
      held.tsNsec = f.tsNsec;
      held.linkType = f.linkType;
      held.data = Buffer.from(f.data);
      held.capLen = f.capLen;
      held.origLen = f.origLen;
      held.note = f.note ?? null;
      return new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          opts.signal?.removeEventListener('abort', stop);
          engine.onFrame(held);
          if (held.note) owners.onFrame(held);
          afterFrame();
          resolve();
        }, wait);
        const stop = () => {
          clearTimeout(t);
          resolve();
        };
        opts.signal?.addEventListener('abort', stop, { once: true });
      });
    };
  }

  const readOpts: ReadCaptureOptions = {
    signal: opts.signal,
    onProgress: (bytesRead, totalBytes) => {
      source.bytesRead = bytesRead;
      if (totalBytes !== null) source.totalBytes = totalBytes;
      opts.onProgress?.(bytesRead, source.totalBytes);
    },
  };
  const hosted = opts.readerThread !== undefined;
  const read = hosted || (speed.kind === 'max' && readsInThread(input, opts.readThread ?? 'auto', source.totalBytes))
    ? readDecodedThreaded(
        input,
        (ts, origLen, status, seg, note) => {
          engine.onDecoded(ts, origLen, status, seg);
          if (note && status === 'ok') owners.onDecoded(note, seg);
          afterFrame();
          return gate?.wait ?? pause();
        },
        hosted ? { ...readOpts, thread: opts.readerThread } : readOpts,
      )
    : readCaptureFile(input === '-' ? '-' : input, onFrame, readOpts);
  const done = read.then((r) => {
    if (engine.lastTs > 0) engine.tracker.expire(engine.lastTs);
    source.format = r.format ?? null;
    source.gzip = r.gzip ?? null;
    source.bytesRead = Math.max(source.bytesRead, r.bytes);
    source.error = r.error ? { ...r.error } : null;
    source.done = true;
    return r;
  });
  return { source, done };
}

/**
 * A function to call after each frame: undefined while the current slice of `everyMs` lasts, then
 * a promise that resolves on the next turn of the event loop (setImmediate runs after the poll
 * phase, so requests that arrived meanwhile are answered first). The readers pause on it.
 */
function yielder(everyMs: number | undefined): () => Promise<void> | undefined {
  if (everyMs === undefined || !(everyMs > 0)) return () => undefined;
  let n = 0;
  let sliceStart = performance.now();
  const resume = (resolve: () => void) =>
    setImmediate(() => {
      sliceStart = performance.now();
      resolve();
    });
  return () => {
    if (++n % YIELD_CHECK_FRAMES !== 0 || performance.now() - sliceStart < everyMs) return undefined;
    return new Promise<void>(resume);
  };
}
