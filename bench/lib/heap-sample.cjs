// Loaded into tcpscope with `--node '--require bench/lib/heap-sample.cjs'` (bench/load.mjs): V8's
// sampling heap profiler, objects the young generation's collections took included, over a window
// of the run; then what was allocated in it, in all and by the function that allocated, as one
// JSON file per process and thread in HEAP_SAMPLE_DIR (default /tmp): heap-sample-PID.json for a
// process's main thread, heap-sample-PID-THREAD.json for a worker thread (the socket scans').
//
//   HEAP_SAMPLE_START_MS (default 2000, after the process starts), HEAP_SAMPLE_MS (default 8000),
//   HEAP_SAMPLE_INTERVAL (bytes between samples, default 4096)
'use strict';
const inspector = require('node:inspector');
const fs = require('node:fs');
const path = require('node:path');
const { threadId } = require('node:worker_threads');

const startMs = Number(process.env.HEAP_SAMPLE_START_MS ?? 2000);
const windowMs = Number(process.env.HEAP_SAMPLE_MS ?? 8000);
const interval = Number(process.env.HEAP_SAMPLE_INTERVAL ?? 4096);
const dir = process.env.HEAP_SAMPLE_DIR ?? '/tmp';

const session = new inspector.Session();
session.connect();

function summarise(profile) {
  const byFn = new Map();
  let total = 0;
  const walk = (node) => {
    const f = node.callFrame;
    const own = node.selfSize;
    if (own > 0) {
      const key = `${f.functionName || '(anonymous)'} ${path.basename(f.url || '')}:${f.lineNumber + 1}`;
      byFn.set(key, (byFn.get(key) ?? 0) + own);
      total += own;
    }
    for (const c of node.children) walk(c);
  };
  walk(profile.head);
  const top = [...byFn].sort((a, b) => b[1] - a[1]).slice(0, 40).map(([k, v]) => [k, Math.round(v / 1e3) / 1e3]);
  return { pid: process.pid, thread: threadId, argv: process.argv.slice(1, 3), windowMs, totalMB: Math.round(total / 1e3) / 1e3, topMB: top };
}

const t = setTimeout(() => {
  session.post('HeapProfiler.enable', () => {
    session.post('HeapProfiler.startSampling', { samplingInterval: interval, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true }, () => {
      const stop = setTimeout(() => {
        session.post('HeapProfiler.stopSampling', (err, r) => {
          if (err) return;
          // a worker thread (the socket scans') shares its process's id: its file is named by its thread too
          fs.writeFileSync(path.join(dir, `heap-sample-${process.pid}${threadId ? `-${threadId}` : ''}.json`), JSON.stringify(summarise(r.profile), null, 1));
        });
      }, windowMs);
      stop.unref();
    });
  });
}, startMs);
t.unref();
