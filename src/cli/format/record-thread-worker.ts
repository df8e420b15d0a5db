// The record thread of analyze (record-thread.ts): turns packed records into the format's text and
// hands it back as UTF-8 bytes, in the order the records came.
import { parentPort, workerData } from 'node:worker_threads';
import { jsonLine } from './jsonl';
import { RecordBatchReader } from './record-batch';
import type { FromRecordThread, RecordThreadData, ToRecordThread } from './record-thread-protocol';
import { tableLine } from './table';
import { zeekRow } from './zeek';

const port = parentPort!;
const { format } = workerData as RecordThreadData;
const row = format === 'jsonl' ? jsonLine : tableLine;
/** Output goes back in pieces of about this many characters. */
const CHUNK = 1 << 16;
let out = '';

function flush(): void {
  if (out === '') return;
  const b = Buffer.from(out, 'utf8');
  out = '';
  const msg: FromRecordThread = { type: 'out', data: b };
  // a buffer of its own moves without a copy; a slice of the shared pool is copied
  port.postMessage(msg, b.byteOffset === 0 && b.byteLength === b.buffer.byteLength ? [b.buffer as ArrayBuffer] : []);
}

port.on('message', (m: ToRecordThread) => {
  if (m.type === 'batch') {
    const r = new RecordBatchReader(m.buffer, m.used, m.count);
    for (let rec = r.next(); rec !== null; rec = r.next()) {
      out += rec.kind === 'view' ? row(rec.view) : rec.kind === 'zeek' ? zeekRow(rec.zeek) : rec.text;
      if (out.length >= CHUNK) flush();
    }
    const free: FromRecordThread = { type: 'free', buffer: m.buffer };
    port.postMessage(free, [m.buffer]);
  } else if (m.type === 'text') {
    out += m.text;
    if (out.length >= CHUNK) flush();
  } else {
    flush();
    const ended: FromRecordThread = { type: 'ended' };
    port.postMessage(ended);
  }
});
