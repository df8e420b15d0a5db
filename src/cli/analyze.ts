import { statSync } from 'node:fs';
import os from 'node:os';
import type { FileReadResult } from '../capture/file';
import { EXIT_FAILURE, EXIT_OK, fileErrorMessage } from './errors';
import type { AnalyzeFormat, CommonOptions, ReadThreadMode, WriteThreadMode } from './options';
import type { Progress } from './progress';
import type * as Run from './analyze-file';
import { guardStdout, OutputGate } from './stdout';
import { readsInHost, readWriteAvailable, recordThreadAvailable, startReadWrite, type ReaderHost } from './format/read-write';

// The analyze command. This module loads little: it decides on the threads and starts the one that
// reads before it loads the rest (analyze-file.ts: the tracker, the readers, the formats), so that
// the two load at once.

export interface AnalyzeCommandOptions extends CommonOptions {
  file: string;
  format: AnalyzeFormat;
  readThread?: ReadThreadMode;
  writeThread?: WriteThreadMode;
  /** Thresholds of the diagnoses the table ends with. */
  closeWaitAfter?: number;
  synFlood?: number;
  timeWaitPileup?: number;
}

/** analyzeFile (analyze-file.ts), loaded when first called. */
export async function analyzeFile(...args: Parameters<typeof Run.analyzeFile>): ReturnType<typeof Run.analyzeFile> {
  return (await import('./analyze-file')).analyzeFile(...args);
}

/** Files this large get a record thread under `--write-thread auto`, for the table and jsonl (below, its start costs more than it saves). */
const RECORD_THREAD_MIN_BYTES = 4 << 20;

function useRecordThread(o: AnalyzeCommandOptions): boolean {
  const mode = o.writeThread ?? 'auto';
  if (mode === 'off' || !recordThreadAvailable()) return false;
  if (mode === 'on') return true;
  // A Zeek row costs little more to write than to pack (the tracker builds the record either
  // way): a thread for it would add its own CPU and save this one none.
  if (o.format === 'zeek') return false;
  // On two cores the second is already V8's (its compiler and collector threads) and the reader
  // thread's: the record thread measured no faster there (1.41 against 1.31 s on the bench pcapng,
  // 1.52 against 1.56 s on classic pcap, for 0.35 CPU s more), so it waits for a third.
  if (os.availableParallelism() < 3) return false;
  if (o.file === '-') return true;
  try {
    const st = statSync(o.file);
    return !st.isFile() || st.size >= RECORD_THREAD_MIN_BYTES;
  } catch {
    return false; // the reader reports what is wrong with the file
  }
}

/**
 * Whether the records left at the end of the file are shared with the thread that read it
 * (SharedEnd), under `--write-thread auto`, when no record thread takes them all; analyzeFile
 * shares jsonl's and the table's. The end of a capture is where most of its records are written
 * (every connection still in the table, and the closed ones of its last 2×MSL: on the bench
 * capture, which spans 18 s, all of them), on the tracking thread, while the reader thread, its
 * reading done, idles. The tracking thread packs each record's fields (it reads them either way:
 * the table's summary and diagnoses too) and the other writes its text, while the tracking thread
 * goes on removing the next round. (Rows packed as views once cost the reader thread more than
 * they saved.) A thread started only for them (pcapng, read on the tracking thread) costs more
 * than it saves: its isolate's start and compiling, 0.2–0.3 CPU s, for 0.035 s of the tracking
 * thread's, and its compiling slows that thread's own.
 */
function useSharedEnd(o: AnalyzeCommandOptions, readerThread: boolean): boolean {
  return readerThread && (o.writeThread ?? 'auto') === 'auto' && recordThreadAvailable();
}

export async function runAnalyze(o: AnalyzeCommandOptions): Promise<number> {
  guardStdout();
  const recordThread = useRecordThread(o);
  const readWrite = recordThread && o.format === 'jsonl' && o.readThread === 'on' && o.writeThread === 'on' && readWriteAvailable();
  // A pipe to a slower reader holds what it cannot take yet: reading waits until it has drained,
  // so memory stays flat however slow the reader is.
  const gate = new OutputGate();
  let draining = false;
  const write = (chunk: string | Uint8Array, written?: () => void) => {
    if (!process.stdout.write(chunk, written && (() => written())) && !draining) {
      draining = true;
      gate.hold();
      process.stdout.once('drain', () => {
        draining = false;
        gate.release();
      });
    }
  };
  let progress: Progress | null = null;
  let host: ReaderHost | undefined;
  let result: FileReadResult;
  try {
    // the thread that reads starts first, and loads its code while this one loads the rest
    host = readsInHost(o, { recordThread, readWrite }) ? startReadWrite(o.file) : undefined;
    const sharedEnd = !recordThread && useSharedEnd(o, host !== undefined);
    const run = await import('./analyze-file');
    // a progress bar only on a terminal (its code loads only then)
    progress = process.stderr.isTTY ? (await import('./progress')).fileProgress('analyze') : { update() {}, stop() {} };
    ({ result } = await run.analyzeFile(o, write, { onProgress: progress.update, gate, recordThread, readWrite, sharedEnd, host }));
  } catch (e) {
    progress?.stop();
    // (analyzeFile ends the thread itself; not if it failed before)
    void host?.worker.terminate();
    process.stderr.write(`tcpscope: cannot write the records: ${(await import('../capture/file')).describeError(e)}\n`);
    return EXIT_FAILURE;
  }
  progress.stop();
  if (result.error) {
    process.stderr.write(`tcpscope: ${fileErrorMessage(o.file, result.error, result.frames)}\n`);
    return EXIT_FAILURE;
  }
  return EXIT_OK;
}
