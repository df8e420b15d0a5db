// A reference capture beside tcpscope: tcpdump with a large kernel buffer and a short snap length
// (so its ring holds hundreds of thousands of packets), counting what crossed the wire.
import { spawn } from 'node:child_process';
import { sleep } from './proc.mjs';

/**
 * Starts `tcpdump -i lo` on `filter`, writing to `file` (or /dev/null). Resolves once tcpdump says
 * it is listening. stop() ends it and resolves with its own counters.
 */
export function startTcpdump(filter, { file = '/dev/null', bufferKiB = 262144, snaplen = 128, iface = 'lo' } = {}) {
  const child = spawn('tcpdump', ['-i', iface, '-nn', '-U', '-s', String(snaplen), '-B', String(bufferKiB), '-w', file, filter], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  // a benchmark that fails half-way must not leave its reference capture running
  const orphan = () => child.kill('SIGKILL');
  process.on('exit', orphan);
  const exited = new Promise((r) => child.on('close', r));
  exited.then(() => process.off('exit', orphan));
  const ready = (async () => {
    for (let i = 0; i < 200 && !/listening on/.test(err); i++) await sleep(25);
    if (!/listening on/.test(err)) throw new Error(`tcpdump did not start: ${err}`);
    // it reports "listening" just before the socket is bound to the ring; give it a moment
    await sleep(200);
  })();
  return ready.then(() => ({
    pid: child.pid,
    async stop() {
      child.kill('SIGINT');
      await exited;
      const n = (re) => Number((re.exec(err) ?? [])[1] ?? NaN);
      return {
        captured: n(/(\d+) packets? captured/),
        received: n(/(\d+) packets? received by filter/),
        dropped: n(/(\d+) packets? dropped by kernel/),
      };
    },
  }));
}
