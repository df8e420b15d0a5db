// One thread that reads and decodes the capture for analyze (ingest/reader-serve.ts) and writes
// its records (record-serve.ts): on two cores the tracking thread keeps one to itself, and the
// other runs one isolate, not two (each compiles its code and collects its garbage). Reading starts
// first; the writer's code is loaded when the first records come.
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import type { ReaderData } from '../../ingest/reader-thread-protocol';
import { serveReading } from '../../ingest/reader-serve';
import type { ToRecordThread } from './record-thread-protocol';
import type * as RecordServe from './record-serve';

const data = workerData as { reading: ReaderData; records: MessagePort };
serveReading(parentPort!, data.reading);

// records that came while the writer's code loads wait here, in order
const waiting: ToRecordThread[] = [];
let write: ((m: ToRecordThread) => void) | null = null;
data.records.on('message', (m: ToRecordThread) => {
  if (write !== null) return write(m);
  waiting.push(m);
  if (waiting.length === 1) void load();
});

async function load(): Promise<void> {
  const serve: typeof RecordServe = await import('./record-serve');
  const w = serve.recordWriter(data.records);
  for (const m of waiting) w(m);
  waiting.length = 0;
  write = w;
}
