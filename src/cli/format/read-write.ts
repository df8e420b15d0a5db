import { existsSync } from 'node:fs';
import path from 'node:path';
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import { readerData } from '../../ingest/reader-start';
import { readsInThread } from '../reader-choice';
import type { AnalyzeFormat, ReadThreadMode } from '../options';

// The threads analyze starts, and when: this module loads none of their code, so a command can
// start them before it loads its own.

/** The record thread's script (record-thread-worker.ts, compiled). */
export const RECORD_SCRIPT = path.join(__dirname, 'record-thread-worker.js');
const SCRIPT = path.join(__dirname, 'read-write-worker.js');
/**
 * Its young generation. Not the record thread's 2 MiB: reading classic pcap makes a few objects per
 * packet (pcap-parser's header and slices), which so small a space collects many times over (a
 * quarter of the thread's time on the bench capture); with 16 MiB, 0.06 s of it.
 */
const YOUNG_MIB = 16;

/**
 * The record thread needs the compiled script: it is there when running from dist/, as the CLI
 * does, and not when the TypeScript sources run directly.
 */
export function recordThreadAvailable(): boolean {
  return existsSync(RECORD_SCRIPT);
}

/** The compiled script is there when running from dist/, as the CLI does. */
export function readWriteAvailable(): boolean {
  return existsSync(SCRIPT);
}

/** A thread that reads the file (for readDecodedThreaded, on the worker's own port) and writes the records sent to `port` (for RecordThread). */
export interface ReaderHost {
  worker: Worker;
  port: MessagePort;
}

/**
 * Starts one thread that reads and decodes `file` and writes the records sent to its port; it loads
 * the writer's code only once records come. The caller terminates it once both are done.
 */
export function startReadWrite(file: string): ReaderHost {
  const { port1, port2 } = new MessageChannel();
  const worker = new Worker(SCRIPT, {
    workerData: { reading: readerData(file), records: port2 },
    transferList: [port2],
    resourceLimits: { maxYoungGenerationSizeMb: YOUNG_MIB },
  });
  return { worker, port: port1 };
}

/**
 * Whether analyze reads `o.file` in a thread that can also write records: with a record thread for
 * every record (`recordThread`), only when asked to (`readWrite`, jsonl); otherwise whenever the
 * file is read in a thread at all, which then takes the share of the records left at the end too.
 */
export function readsInHost(o: { file: string; format: AnalyzeFormat; readThread?: ReadThreadMode }, opts: { recordThread?: boolean; readWrite?: boolean }): boolean {
  if (o.file === '-' || !readWriteAvailable()) return false;
  if (opts.recordThread === true) return opts.readWrite === true && o.format === 'jsonl';
  return readsInThread(o.file, o.readThread);
}
