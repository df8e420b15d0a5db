// The record thread of analyze (record-thread.ts).
import { parentPort, workerData } from 'node:worker_threads';
import type { RecordThreadData } from './record-thread-protocol';
import { serveRecords } from './record-serve';

serveRecords(parentPort!, (workerData as RecordThreadData).format);
