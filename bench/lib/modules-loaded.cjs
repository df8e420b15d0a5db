// Loaded into tcpscope with `--require` (node's option, or bench/load.mjs's `--node '--require
// /ABSOLUTE/PATH/bench/lib/modules-loaded.cjs'`): which modules each process and thread has loaded
// once it is running (the main process, its socket scans' thread, the capture process; each loads
// its own), by package, with how long each module took to load with what it required (wall time,
// so only a guide on a shared machine); one JSON file per process and thread in MODULES_DIR
// (default /tmp), MODULES_AFTER_MS (default 4000) after the start.
//
//   MODULES_DIR=/tmp/m node --require ./bench/lib/modules-loaded.cjs bin/tcpscope.js live -p 3000 --listen 127.0.0.1:0
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const Module = require('node:module');
const { threadId } = require('node:worker_threads');

const dir = process.env.MODULES_DIR ?? '/tmp';
const afterMs = Number(process.env.MODULES_AFTER_MS ?? 4000);
const loadMs = new Map();
const load = Module._load;
// a request is resolved (to find the file it loaded) once per requiring module: the same require
// made again from there (a cached hit) passes straight through; built-ins are not resolved at all
const resolved = new Set();
Module._load = function (request, parent) {
  const t = process.hrtime.bigint();
  try {
    return load.apply(this, arguments);
  } finally {
    const key = `${parent?.filename ?? ''}\0${request}`;
    if (!resolved.has(key) && !Module.isBuiltin(request)) {
      resolved.add(key);
      let file = request;
      try {
        file = Module._resolveFilename(request, parent);
      } catch {
        // a name that did not resolve: keep the request
      }
      // the first load of a file is its own; a later first require of it from elsewhere was a cached hit
      if (!loadMs.has(file)) loadMs.set(file, Number(process.hrtime.bigint() - t) / 1e6);
    }
  }
};

/** A module's package (node_modules/NAME), or its folder under dist/. */
function packageOf(file) {
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(file);
  if (m) return m[1];
  const d = /\/dist\/(.+)$/.exec(file);
  return d ? `dist/${d[1].includes('/') ? d[1].split('/')[0] : d[1]}` : file;
}

setTimeout(() => {
  const files = Object.keys(require.cache);
  const byPackage = {};
  for (const f of files) byPackage[packageOf(f)] = (byPackage[packageOf(f)] ?? 0) + 1;
  const slowest = [...loadMs].sort((a, b) => b[1] - a[1]).slice(0, 30).map(([f, ms]) => [path.relative(process.cwd(), f) || f, Math.round(ms * 10) / 10]);
  const out = { pid: process.pid, thread: threadId, argv: process.argv.slice(1, 3), modules: files.length, byPackage, slowestWithRequiredMs: slowest };
  fs.writeFileSync(path.join(dir, `modules-${process.pid}${threadId ? `-${threadId}` : ''}.json`), JSON.stringify(out, null, 1));
}, afterMs).unref();
