import { setPriority } from 'node:os';
import { parentPort } from 'node:worker_threads';
import { SocketScanner } from './scan';
import type { ScanRequest } from './scan-thread';

// The thread that reads /proc for the main thread: a scan of every process's fds can take
// milliseconds on a busy machine, which the packet path must not wait for.
//
// After the first reading (made at once, so that listeners and owners are there when a user first
// looks), at the lowest priority: on Linux a thread has its own nice value, and the `ss` processes
// it starts inherit it, so the readings take only the cores that the capture process, the main
// thread and the programs being watched leave over, and wait while the machine is busy.
const scanner = new SocketScanner();
let first = true;
parentPort?.on('message', (m: ScanRequest) => {
  if (m.type !== 'scan') return;
  parentPort?.postMessage(scanner.scan(m.ask));
  if (first) {
    first = false;
    try {
      setPriority(19);
    } catch {
      // not allowed here: the readings run at the process's priority
    }
  }
});
