// Loaded into tcpscope with `--node '--require /ABSOLUTE/PATH/bench/lib/heap-spaces.cjs'`
// (bench/load.mjs): the main thread's heap by V8 space (new, old, code, large objects, new large
// objects) and the external memory, in MB, every HEAP_SPACES_EVERY_MS (default 200) ms, one line a
// reading, to HEAP_SPACES_DIR/heap-spaces-PID.txt (default /tmp); beside `--trace-gc`, it shows
// which space grows between two collections.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const v8 = require('node:v8');
const { isMainThread } = require('node:worker_threads');

if (isMainThread) {
  const out = fs.openSync(path.join(process.env.HEAP_SPACES_DIR ?? '/tmp', `heap-spaces-${process.pid}.txt`), 'w');
  const every = Number(process.env.HEAP_SPACES_EVERY_MS ?? 200);
  const mb = (n) => (n / 1e6).toFixed(2);
  setInterval(() => {
    const used = Object.fromEntries(v8.getHeapSpaceStatistics().map((s) => [s.space_name, s.space_used_size]));
    const line = [
      `${Math.round(performance.now())} ms`,
      `new ${mb(used.new_space)}`,
      `old ${mb(used.old_space)}`,
      `code ${mb(used.code_space)}`,
      `lo ${mb(used.large_object_space)}`,
      `new-lo ${mb(used.new_large_object_space)}`,
      `external ${mb(process.memoryUsage().external)}`,
    ].join(' ');
    fs.writeSync(out, `${line}\n`);
  }, every).unref();
}
