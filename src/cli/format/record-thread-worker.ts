// The record thread of analyze (record-thread.ts).
import { parentPort } from 'node:worker_threads';
import { serveRecords } from './record-serve';

serveRecords(parentPort!);
