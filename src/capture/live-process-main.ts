// The capture process: opens the capture with `cap` and does nothing else but drain libpcap's ring
// and hand the frames to the main process in batches (fd 3, format in handover.ts). Nothing here
// ever waits for the main process: when it falls behind by more than MAX_QUEUED_BYTES, batches are
// dropped and counted, and a LOST record takes their place in the stream.
//
// Started by live-process.ts as `node live-process-main.js OPTIONS_JSON` with stdin, stdout and
// stderr piped and fd 3 the hand-over pipe. It ends when its stdin closes (the main process
// stopped or died), when the hand-over pipe breaks, and on SIGTERM; SIGINT (Ctrl-C reaches the
// whole process group) is left to the main process, which stops it in order.
import { execFileSync } from 'node:child_process';
import net from 'node:net';
import os from 'node:os';
import { BatchWriter, BEAT_EVERY_MS, Rec, soloRecord } from './handover';
import { handoverOut } from './handover-out';
import { openLive, WATCH_SNAPLEN, type LiveOptions } from './live';
import { nearlyFull, pauseMs, ringPackets } from './live-pause';

/** libpcap's count of the kernel's drops is read at most this often (it opens two sysfs files each time). */
const DROP_CHECK_MS = 50;

/** Records are packed into batches of this size at most (more for a frame that would not fit). */
const BATCH_BYTES = 64 * 1024;
/**
 * What was read goes to the main process once this long has passed since the last batch went out,
 * or once it holds SEND_BYTES: not after every drain. A batch is a write here and a wakeup and a
 * read there, whatever its size; at a drain a millisecond that was a large share of what both
 * processes spent at moderate rates (BENCHMARKS.md, Live capture in its own process).
 */
const SEND_EVERY_MS = 5;
const SEND_BYTES = 32 * 1024;
/**
 * The nice value the capture process asks for (root only; otherwise it keeps its own): with whole
 * packets libpcap's ring holds some 40 ms of a busy loopback, and on a loaded machine a process at
 * the default priority waits longer than that for a core (BENCHMARKS.md, Live capture in its own
 * process).
 */
const NICE = -10;
/** The real-time priority asked for with TCPSCOPE_CAPTURE_RT=1: the lowest, above every ordinary process. */
const RT_PRIORITY = 1;
/** The hand-over pipe's descriptor. */
const OUT_FD = 3;

/** Bytes written but not yet taken by the main process beyond which new batches are dropped. */
export const MAX_QUEUED_BYTES = 32 * 1024 * 1024;

/**
 * Puts this process ahead of the machine's ordinary ones: nice NICE (root only), or with
 * TCPSCOPE_CAPTURE_RT=1 SCHED_FIFO at RT_PRIORITY (root or CAP_SYS_NICE, through util-linux's
 * chrt). Real-time scheduling all but ended its waits for a core on a loaded machine (the longest
 * fell from 30-180 ms to 1-2 ms) but slowed a loopback load on the same two cores
 * by some 40 %, each wakeup preempting it (BENCHMARKS.md, Live capture in its own process): it is
 * a choice for whoever runs tcpscope, not the default. Should it spin, the kernel's real-time
 * throttling (sched_rt_runtime_us, 95 % of each second by default) still bounds it.
 */
function raisePriority(): void {
  if (process.env.TCPSCOPE_CAPTURE_RT === '1') {
    try {
      execFileSync('chrt', ['--fifo', '--pid', String(RT_PRIORITY), String(process.pid)], { stdio: 'ignore', timeout: 2000 });
      return;
    } catch {
      // no chrt, or not permitted
    }
  }
  try {
    os.setPriority(NICE);
  } catch {
    // not permitted: stay at the default priority
  }
}

function main(): void {
  const opts = JSON.parse(process.argv[2] ?? '{}') as LiveOptions;
  // The socket sets the descriptor non-blocking: a write straight to it never waits either.
  const out = new net.Socket({ fd: OUT_FD, readable: false, writable: true });
  out.on('error', () => process.exit(0)); // the main process is gone
  const put = handoverOut(OUT_FD, out, () => process.exit(0)); // the main process is gone

  // frames dropped since the last batch that went out, and the time of the first of them
  let lost = 0;
  const lostAt = Buffer.alloc(8);
  raisePriority();
  const writer = new BatchWriter(BATCH_BYTES, (batch, frames) => {
    if (out.writableLength > MAX_QUEUED_BYTES) {
      if (lost === 0) batch.copy(lostAt, 0, 4, 12);
      lost += frames;
      return;
    }
    if (lost > 0) {
      const r = soloRecord(Rec.LOST, lost);
      lostAt.copy(r, 4);
      put(r);
      lost = 0;
    }
    put(batch);
  });

  const sleeper = new Int32Array(new SharedArrayBuffer(4));
  let flushQueued = false;
  // libpcap's count of packets the kernel dropped, as last reported, and when it was read
  let dropped = 0;
  let checkedAt = process.hrtime();
  let checkedMs = 0;
  let checkDrops: () => number = () => 0;
  // the ring's size in packets, frames read by the last flush, and when it ran
  let ring = 1;
  let framesAtDrain = 0;
  let drainAt = performance.now();
  let sentAt = performance.now();
  let sendTimer: NodeJS.Timeout | null = null;
  const sendNow = () => {
    if (sendTimer !== null) clearTimeout(sendTimer);
    sendTimer = null;
    writer.send();
    sentAt = performance.now();
  };
  const flush = () => {
    flushQueued = false;
    const now = performance.now();
    const frames = writer.count - framesAtDrain;
    // a drain that found the ring nearly full may follow drops: they are placed at once, so that the
    // connections open across them are the ones flagged
    if (now - checkedMs >= DROP_CHECK_MS || nearlyFull(ring, frames)) checkDrops();
    if (now - sentAt >= SEND_EVERY_MS || writer.bytes >= SEND_BYTES) sendNow();
    // the last frames before a quiet spell go out on time all the same
    else if (sendTimer === null) sendTimer = setTimeout(sendNow, SEND_EVERY_MS - (now - sentAt));
    // the rate over the last pause and drain together: frames since the flush before, over its time
    const pause = pauseMs(ring, frames, now - drainAt);
    framesAtDrain = writer.count;
    drainAt = now;
    Atomics.wait(sleeper, 0, 0, pause);
  };
  const opened = openLive({ ...opts, hrtimeStamps: true, snapLength: opts.snapLength ?? WATCH_SNAPLEN }, (f) => {
    writer.frame(f.tsSec, f.tsNsec, f.data, f.capLen, f.origLen);
    // `cap` drains the whole ring in one callback from the event loop: the batch goes out after it.
    if (!flushQueued) {
      flushQueued = true;
      setImmediate(flush);
    }
  });
  if (!opened.ok) {
    out.write(soloRecord(Rec.ERROR, 0, opened.error), () => process.exit(0));
    return;
  }
  const c = opened.capture;
  ring = ringPackets(c.bufferSize, c.snapLength);
  // After a drain, every DROP_CHECK_MS at most: packets the kernel dropped since the last look
  // were dropped while the ring was full, after that look (the ring had room then). They are
  // placed there, in the stream, between the frames read before and after.
  // Returns the frames read so far, from the same look (each look at libpcap's statistics opens two
  // sysfs files: the beat takes its count from here rather than look twice).
  checkDrops = () => {
    const s = c.stats();
    const now = s.dropped;
    const at = checkedAt;
    checkedAt = process.hrtime();
    checkedMs = performance.now();
    if (now !== null && now !== dropped) {
      writer.control(Rec.KERNEL_DROPPED, at[0], at[1], (now - dropped) >>> 0);
      dropped = now;
    }
    return s.frames;
  };
  out.write(soloRecord(Rec.READY, 0, { iface: c.iface, linkType: c.linkType, filter: c.filter, kernelFilter: c.kernelFilter, bufferSize: c.bufferSize, snapLength: c.snapLength }));

  setInterval(() => {
    const frames = checkDrops();
    const t = process.hrtime();
    writer.control(Rec.BEAT, t[0], t[1], frames);
    writer.send();
  }, BEAT_EVERY_MS);

  const stop = () => {
    c.stop();
    writer.send();
    out.end(() => process.exit(0));
    setTimeout(() => process.exit(0), 500).unref();
  };
  process.stdin.on('end', stop);
  process.stdin.on('close', stop);
  process.stdin.on('error', stop);
  process.stdin.resume();
  process.on('SIGTERM', stop);
  process.on('SIGINT', () => {});
}

main();
