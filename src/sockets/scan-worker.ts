import { writeFileSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';
import { SocketScanner, ssKey, type Prefetched, type ScanResult } from './scan';
import type { ScanRequest } from './scan-thread';
import { SsHelper, type SsOutput } from './ss';
import { THREAD_NAME } from './scan-thread';

// The thread that reads /proc for the main thread: a scan of every process's fds can take
// milliseconds on a busy machine, which the packet path must not wait for. The `ss` runs of
// tcpscope's own network namespace go through a small shell started once (SsHelper, at nice 19):
// not a fork of tcpscope each. Those of other namespaces (a listener's backlog, tcp_info, read
// through nsenter while the scan reads /proc) are still forked from here, as is every run of the
// first scan, at tcpscope's priority (the first listeners and owners come at once).
const scanner = new SocketScanner();
// Named, so that `top -H`, `ps -L` and a look at /proc/PID/task tell this thread's CPU apart from V8's own threads.
try {
  writeFileSync('/proc/thread-self/comm', THREAD_NAME);
} catch {
  // not Linux, or /proc not mounted: unnamed
}
let helper: SsHelper | null = null;
/** Helpers started so far; one that ended is started again up to this many in all, then ss is forked from here (counted per run in ScanResult: ssRuns − ssViaHelper). */
const HELPER_STARTS = 4;
let starts = 0;
let queue: Promise<void> = Promise.resolve();

async function answer(m: Extract<ScanRequest, { type: 'scan' }>): Promise<ScanResult> {
  let restarts = 0;
  if (scanner.count > 0) {
    // a shell that ended (killed, out of memory) is started again, a few times at most: a dead
    // one kept would fork tcpscope for every later run without a word
    if (!helper?.alive && starts < HELPER_STARTS) {
      if (helper) restarts++;
      starts++;
      helper = SsHelper.start();
    }
    if (helper?.alive) {
      const t0 = performance.now();
      const plan = scanner.ownPlan(m.ask);
      const out = new Map<string, SsOutput>();
      for (const args of [plan.listeners, plan.connected, plan.timeWait]) if (args) out.set(ssKey(args), await helper.run(args));
      // the helper ended under a run: that run is made again by the scan itself
      for (const [k, o] of out) if (o.text === null && !helper.alive) out.delete(k);
      const pre: Prefetched = { plan, out };
      // its time is the reading's whole, ss runs included (the watch spaces readings by it)
      return { ...scanner.scan(m.ask, pre), costMs: performance.now() - t0, ssHelperRestarts: restarts };
    }
  }
  return { ...scanner.scan(m.ask), ssHelperRestarts: restarts };
}

parentPort?.on('message', (m: ScanRequest) => {
  // one scan at a time, in order; a scan that throws ends the thread, as it did when scans were synchronous
  const fail = (e: unknown): void => {
    setImmediate(() => {
      throw e;
    });
  };
  if (m.type === 'scan')
    queue = queue
      .then(async () => {
        parentPort?.postMessage(await answer(m));
      })
      .catch(fail);
  else if (m.type === 'close')
    queue = queue
      .then(async () => {
        await helper?.close();
        parentPort?.postMessage({ type: 'closed' });
      })
      .catch(fail);
});
