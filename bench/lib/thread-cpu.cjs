// CPU seconds of each thread of a Node process, printed to stderr when it exits: which thread a
// command's CPU goes to (the tracking thread, the reader and record threads, V8's helper threads
// for compiling and collecting garbage, libuv's for file reads). Load it before the command:
//
//   node -r ./bench/lib/thread-cpu.cjs bin/tcpscope.js analyze .bench-data/loopback.pcapng --format jsonl > /dev/null
//
// Threads are read from /proc/self/task every 10 ms (a thread that ends keeps its last reading),
// so a thread that lives less than that may be missed. "main" is the thread Node started on;
// worker threads are "worker" and their thread id, and are read once more just before the command
// terminates them (a thread that is terminated is gone before the next reading); the rest are V8's
// and libuv's helpers, by thread id, in the order they were started.
'use strict';
const fs = require('node:fs');
const { isMainThread, BroadcastChannel, Worker } = require('node:worker_threads');

const CHANNEL = 'bench-thread-cpu';
/** This thread's id in the kernel's numbering (/proc/thread-self links to PID/task/TID). */
const ownTid = () => Number(fs.readlinkSync('/proc/thread-self').split('/').pop());

if (!isMainThread) {
  // (this file is loaded in worker threads too, as -r is): tell the main thread which one is a worker
  const ch = new BroadcastChannel(CHANNEL);
  ch.postMessage(ownTid());
  ch.close();
} else {
  const workers = new Set();
  const ch = new BroadcastChannel(CHANNEL);
  ch.onmessage = (m) => workers.add(m.data);
  ch.unref();
  const ticks = 100; // USER_HZ: /proc times are in 1/100 s on Linux
  const seen = new Map();
  const read = () => {
    let tasks;
    try {
      tasks = fs.readdirSync('/proc/self/task');
    } catch {
      return;
    }
    for (const t of tasks) {
      try {
        const s = fs.readFileSync(`/proc/self/task/${t}/stat`, 'utf8');
        const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
        seen.set(Number(t), (Number(f[11]) + Number(f[12])) / ticks);
      } catch {
        // the thread ended between the listing and the read
      }
    }
  };
  setInterval(read, 10).unref();
  const terminate = Worker.prototype.terminate;
  Worker.prototype.terminate = function (...args) {
    read();
    return terminate.apply(this, args);
  };
  process.on('exit', () => {
    read();
    const parts = [...seen]
      .sort((a, b) => a[0] - b[0])
      .filter(([, cpu]) => cpu >= 0.02)
      .map(([tid, cpu]) => `${tid === process.pid ? 'main' : workers.has(tid) ? `worker ${tid}` : tid} ${cpu.toFixed(2)}`);
    process.stderr.write(`thread CPU s: ${parts.join(', ')}\n`);
  });
}
