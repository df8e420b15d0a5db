// One thread that reads and decodes the capture for analyze (ingest/reader-serve.ts) and writes
// its jsonl records (record-serve.ts): on two cores the tracking thread keeps one to itself, and
// the other runs one isolate, not two (each compiles its code and collects its garbage).
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import type { ReaderData } from '../../ingest/reader-thread-protocol';
import { serveReading } from '../../ingest/reader-serve';
import { serveRecords } from './record-serve';

const data = workerData as { reading: ReaderData; records: MessagePort };
serveRecords(data.records);
serveReading(parentPort!, data.reading);
