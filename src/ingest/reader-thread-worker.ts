// The reader thread of readDecodedThreaded (reader-thread.ts).
import { parentPort, workerData } from 'node:worker_threads';
import type { ReaderData } from './reader-thread-protocol';
import { serveReading } from './reader-serve';

serveReading(parentPort!, workerData as ReaderData);
