// CPU seconds of each thread of a Node process, printed to stderr when it exits: which thread a
// command's CPU goes to (the tracking thread, the reader and record threads, V8's helper threads
// for compiling and collecting garbage, libuv's for file reads). Load it before the command:
//
//   node -r ./bench/lib/thread-cpu.cjs bin/tcpscope.js analyze .bench-data/loopback.pcapng --format jsonl > /dev/null
//
// Threads are read from /proc/self/task every 10 ms (a thread that ends keeps its last reading),
// so a thread that lives less than that may be missed. "main" is the thread Node started on;
// the rest are named by thread id, in the order they were started (V8's and libuv's helpers
// first, then worker threads in the order they were made).
'use strict';
const fs = require('node:fs');
const { isMainThread } = require('node:worker_threads');

if (isMainThread) {
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
  process.on('exit', () => {
    read();
    const parts = [...seen]
      .sort((a, b) => a[0] - b[0])
      .filter(([, cpu]) => cpu >= 0.02)
      .map(([tid, cpu]) => `${tid === process.pid ? 'main' : tid} ${cpu.toFixed(2)}`);
    process.stderr.write(`thread CPU s: ${parts.join(', ')}\n`);
  });
}
