// A process that does nothing but wake every 5 ms, at the capture process's priority (nice -10, or SCHED_FIFO 1),
// and notes how late it woke: when it is late, the machine itself held every process of that
// priority up, and no reader of libpcap's ring could have kept up then.
//   IPC: parent sends 'report', child answers { report: { maxMs, over40, over100, over250 } } and ends.
import { execFileSync } from 'node:child_process';
import os from 'node:os';

// the capture process's: SCHED_FIFO with TCPSCOPE_CAPTURE_RT=1, otherwise nice -10
let fifo = false;
if (process.env.TCPSCOPE_CAPTURE_RT === '1') {
  try {
    execFileSync('chrt', ['--fifo', '--pid', '1', String(process.pid)], { stdio: 'ignore' });
    fifo = true;
  } catch {
    // no chrt, or not root
  }
}
if (!fifo) {
  try {
    os.setPriority(-10);
  } catch {
    // not root: measures at the default priority
  }
}
const EVERY = 5;
const r = { maxMs: 0, over40: 0, over100: 0, over250: 0 };
let last = performance.now();
setInterval(() => {
  const now = performance.now();
  const late = now - last - EVERY;
  last = now;
  if (late > r.maxMs) r.maxMs = Math.round(late);
  if (late > 40) r.over40++;
  if (late > 100) r.over100++;
  if (late > 250) r.over250++;
}, EVERY);
process.on('message', (m) => {
  if (m !== 'report') return;
  process.send({ report: r }, () => process.exit(0));
});
process.on('disconnect', () => process.exit(0));
