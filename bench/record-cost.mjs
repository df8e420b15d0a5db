#!/usr/bin/env node
// CPU per record of what analyze does for each connection it writes: the view, and each format
// (and the Zeek uid alone; jsonl also from the store's fields, as analyze writes it), over the
// bench capture's 113 k connections, in-process.
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
const { Engine } = load('ingest/engine.js').Engine ? load('ingest/engine.js') : load('engine.js');
const { readCaptureFile } = load('capture/file.js');
const { zeekUid } = load('cli/format/zeek.js');
const { tableLine, writeTableLine } = load('cli/format/table.js');
const { jsonLine, writeJsonLine } = load('cli/format/jsonl.js');
const { ConnFields } = load('track/record.js');
const { JsonBytes } = load('events/json-bytes.js');
const { RecordBatchWriter, RecordBatchReader, RECORD_BATCH_BYTES } = load('cli/format/record-batch.js');
const file = process.argv[2] ?? path.join(root, '.bench-data/loopback.pcapng');
const e = new Engine({ maxConnections: 1e7, timeouts: { closedRetention: 1e12 } });
await readCaptureFile(file, e.onFrame);
const views = e.tracker.list();
// analyze's jsonl path: each record's fields as the store gives them when it is removed, copied
// here, then written as lines into one output buffer as analyze does (a source copies them back)
const stored = [];
if (writeJsonLine && ConnFields && e.tracker.onRemoveRecord) {
  const again = new Engine({ maxConnections: 1e7, timeouts: { closedRetention: 1e12 } });
  again.tracker.onRemoveRecord((r) => {
    const f = new ConnFields();
    r.fill(f);
    f.hist = f.hist.slice();
    stored.push(f);
  });
  await readCaptureFile(file, again.onFrame);
  again.tracker.removeAll();
}
const copy = (t, f) => {
  t.num.set(f.num);
  t.id = f.id;
  t.idText = f.idText;
  t.family = f.family;
  for (let i = 0; i < 2; i++) {
    t.ip4[i] = f.ip4[i];
    t.ipText[i] = f.ipText[i];
    t.state[i] = f.state[i];
    t.opts[i] = f.opts[i];
    t.notes[i] = f.notes[i];
  }
  t.flags = f.flags;
  t.connState = f.connState;
  t.closedBy = f.closedBy;
  t.closeKind = f.closeKind;
  t.histRoom(f.histLen).set(f.hist.subarray(0, f.histLen));
  t.histLen = f.histLen;
};
const source = { f: null, fill(t) { copy(t, this.f); } };
const storeLines = () => {
  const out = new JsonBytes(1 << 16);
  for (const f of stored) {
    source.f = f;
    writeJsonLine(out, source);
    if (out.pos >= 1 << 16) out.pos = 0;
  }
};
// The record thread's two halves: packing a view into a batch (tracking thread), and reading it
// back and writing its line as UTF-8 bytes (record thread).
const packed = [];
const pack = (keep) => {
  let w = new RecordBatchWriter(new ArrayBuffer(RECORD_BATCH_BYTES));
  for (const v of views) {
    if (w.view(v) !== true) {
      if (keep) packed.push([w.buffer, w.used, w.count]);
      w = keep ? new RecordBatchWriter(new ArrayBuffer(RECORD_BATCH_BYTES)) : (w.reset(w.buffer), w);
      w.view(v);
    }
  }
  if (keep) packed.push([w.buffer, w.used, w.count]);
};
if (RecordBatchWriter) pack(true);
// as the record thread does: each line written into a 1 MiB output buffer as it is made
const unpack = (line, encoding) => {
  const out = Buffer.allocUnsafeSlow(1 << 20);
  let used = 0;
  let len = 0;
  for (const [b, u, count] of packed) {
    const r = new RecordBatchReader(b, u, count);
    for (let rec = r.next(); rec !== null; rec = r.next()) {
      if (!line) continue;
      const t = line(rec.view);
      if (used + 3 * t.length > out.length) (len += used), (used = 0);
      used += out.write(t, used, encoding);
    }
  }
  return len + used;
};
let batchCases = RecordBatchWriter
  ? {
      'pack (record batch)': () => pack(false),
      'unpack': () => unpack(null),
      'unpack + jsonLine, written': () => unpack(jsonLine, 'latin1'),
      'unpack + tableLine, written': () => unpack(tableLine, 'utf8'),
    }
  : {};
// the table's rows as analyze writes them: into one output buffer, from the views
const tableRows = () => {
  const out = new JsonBytes(1 << 16);
  for (const v of views) {
    writeTableLine(out, v);
    if (out.pos >= 1 << 16) out.pos = 0;
  }
};
if (writeTableLine && JsonBytes) batchCases['writeTableLine, written'] = tableRows;
const storeCases = stored.length > 0 ? { 'store fields, copied': () => { const t = new ConnFields(); for (const f of stored) copy(t, f); }, 'store fields + writeJsonLine': storeLines } : {};
const cases = {
  'view (tracker.list)': null,
  ...batchCases,
  ...storeCases,
  'JSON.stringify': (c) => JSON.stringify(c),
  jsonLine,
  zeekUid: zeekUid && ((c) => zeekUid(Number(c.id), c.startedAt, c.client.ip, c.client.port)),
  tableLine,
};
console.log(`${views.length} connections; CPU µs per record, third of three rounds`);
for (let round = 0; round < 3; round++) {
  for (const [name, f] of Object.entries(cases)) {
    if (f === undefined) continue;
    const c0 = process.cpuUsage();
    let len = 0;
    if (f === null) len = e.tracker.list().length;
    else if (name in batchCases || name in storeCases) f();
    else for (const v of views) len += f(v).length;
    const cpu = process.cpuUsage(c0);
    if (round === 2) console.log(`${name.padEnd(20)} ${((cpu.user + cpu.system) / views.length).toFixed(2)}`);
  }
}
