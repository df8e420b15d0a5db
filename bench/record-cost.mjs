#!/usr/bin/env node
// CPU per record of what analyze does for each connection it writes: the view, and each format
// (and the Zeek uid alone), over the bench capture's 113 k connections, in-process.
//
//   node bench/record-cost.mjs [.bench-data/loopback.pcapng]
//   TCPSCOPE_DIST=.bench-data/rev-31c2ea7/dist node bench/record-cost.mjs   # another build
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = process.env.TCPSCOPE_DIST ? path.resolve(process.env.TCPSCOPE_DIST) : path.join(root, 'dist');
const require = createRequire(import.meta.url);
const load = (m) => {
  try {
    return require(path.join(dist, m));
  } catch {
    return {};
  }
};
const { Engine } = load('engine.js');
const { readCaptureFile } = load('capture/file.js');
const { zeekRow, zeekUid } = load('cli/format/zeek.js');
const { tableLine } = load('cli/format/table.js');
const { jsonLine } = load('cli/format/jsonl.js');
const file = process.argv[2] ?? path.join(root, '.bench-data/loopback.pcapng');
const e = new Engine({ maxConnections: 1e7, timeouts: { closedRetention: 1e12 } });
await readCaptureFile(file, e.onFrame);
const views = e.tracker.list();
const cases = {
  'view (tracker.list)': null,
  'JSON.stringify': (c) => JSON.stringify(c),
  jsonLine,
  zeekRow,
  zeekUid,
  tableLine,
};
console.log(`${views.length} connections; CPU µs per record, third of three rounds`);
for (let round = 0; round < 3; round++) {
  for (const [name, f] of Object.entries(cases)) {
    if (f === undefined) continue;
    const c0 = process.cpuUsage();
    let len = 0;
    if (f === null) len = e.tracker.list().length;
    else for (const v of views) len += f(v).length;
    const cpu = process.cpuUsage(c0);
    if (round === 2) console.log(`${name.padEnd(20)} ${((cpu.user + cpu.system) / views.length).toFixed(2)}`);
  }
}
