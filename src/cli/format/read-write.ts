import { existsSync } from 'node:fs';
import path from 'node:path';
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import { readerData } from '../../ingest/reader-thread';

const SCRIPT = path.join(__dirname, 'read-write-worker.js');
/** Its young generation, as the record thread's (record-thread.ts): nothing it makes outlives a batch. */
const YOUNG_MIB = 2;

/** The compiled script is there when running from dist/, as the CLI does. */
export function readWriteAvailable(): boolean {
  return existsSync(SCRIPT);
}

/**
 * Starts one thread that reads and decodes `file` (for readDecodedThreaded, on the worker's own
 * port) and writes the records sent to `port` (for RecordThread). The caller terminates it once
 * both are done.
 */
export function startReadWrite(file: string): { worker: Worker; port: MessagePort } {
  const { port1, port2 } = new MessageChannel();
  const worker = new Worker(SCRIPT, {
    workerData: { reading: readerData(file), records: port2 },
    transferList: [port2],
    resourceLimits: { maxYoungGenerationSizeMb: YOUNG_MIB },
  });
  return { worker, port: port1 };
}
