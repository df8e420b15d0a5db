import { parentPort } from 'node:worker_threads';
import { SocketScanner } from './scan';
import type { ScanRequest } from './scan-thread';

// The thread that reads /proc for the main thread: a scan of every process's fds can take
// milliseconds on a busy machine, which the packet path must not wait for. (The ss processes it
// starts run at the lowest priority: src/sockets/ss.ts.)
const scanner = new SocketScanner();
parentPort?.on('message', (m: ScanRequest) => {
  if (m.type === 'scan') parentPort?.postMessage(scanner.scan(m.ask));
});
