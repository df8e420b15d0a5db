import { setPriority } from 'node:os';
import { parentPort } from 'node:worker_threads';
import { SocketScanner } from './scan';
import type { ScanRequest } from './scan-thread';

// The thread that reads /proc for the main thread: a scan of every process's fds can take
// milliseconds on a busy machine, which the packet path must not wait for.
//
// At the lowest priority (on Linux a thread has its own nice value, and the `ss` processes it
// starts inherit it): the readings then take only cores that the capture process, the main thread
// and the programs being watched leave over, and wait when the machine is busy.
try {
  setPriority(19);
} catch {
  // not allowed here: the readings run at the process's priority
}
const scanner = new SocketScanner();
parentPort?.on('message', (m: ScanRequest) => {
  if (m.type === 'scan') parentPort?.postMessage(scanner.scan(m.ask));
});
