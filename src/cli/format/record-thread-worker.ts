// The record thread of analyze (record-thread.ts): turns packed records into the format's text and
// hands it back as UTF-8 bytes, in the order the records came.
import { parentPort, workerData } from 'node:worker_threads';
import { JsonBytes } from '../../events/json-bytes';
import { jsonLine, writeJsonLine } from './jsonl';
import { RecordBatchReader } from './record-batch';
import type { FromRecordThread, RecordThreadData, ToRecordThread } from './record-thread-protocol';
import { tableLine } from './table';
import { zeekRow } from './zeek';

const port = parentPort!;
const { format } = workerData as RecordThreadData;
const row = format === 'jsonl' ? jsonLine : tableLine;
/** jsonl and Zeek lines of packed records are ASCII (record-batch.ts); the table writes 'µs'. */
const rowAscii = format !== 'table';
/** Output goes back in pieces of this many bytes (or fewer). */
const CHUNK = 1 << 20;

// Each line is written into the output buffer as it is made: a line is a rope of a few dozen
// pieces, and copying it out once costs less than joining lines into a longer string first.
let out = Buffer.allocUnsafeSlow(CHUNK);
let used = 0;
/** Output buffers written out and given back: no more are made than were once out at the same time. */
const spare: ArrayBuffer[] = [];

function flush(): void {
  if (used === 0) return;
  const msg: FromRecordThread = { type: 'out', data: new Uint8Array(out.buffer, 0, used) };
  port.postMessage(msg, [out.buffer as ArrayBuffer]);
  const again = spare.pop();
  out = again !== undefined ? Buffer.from(again) : Buffer.allocUnsafeSlow(CHUNK);
  used = 0;
}

/** Appends a line; `ascii`: it holds no character above 0x7f, so each is one byte. */
function put(line: string, ascii: boolean): void {
  const max = ascii ? line.length : Buffer.byteLength(line);
  if (max > CHUNK - used) {
    flush();
    if (max > CHUNK) {
      const big = Buffer.from(line, 'utf8');
      const msg: FromRecordThread = { type: 'out', data: big };
      port.postMessage(msg);
      return;
    }
  }
  used += out.write(line, used, ascii ? 'latin1' : 'utf8');
}

/** A jsonl line written from packed fields, before it is copied into the output buffer. */
const line = new JsonBytes(4096);

function putLine(): void {
  const n = line.pos;
  if (n > CHUNK - used) {
    flush();
    if (n > CHUNK) {
      const msg: FromRecordThread = { type: 'out', data: Buffer.from(line.result()) };
      port.postMessage(msg);
      line.pos = 0;
      return;
    }
  }
  line.buf.copy(out, used, 0, n);
  used += n;
  line.pos = 0;
}

port.on('message', (m: ToRecordThread) => {
  if (m.type === 'batch') {
    for (const b of m.written) if (b.byteLength === CHUNK) spare.push(b);
    const r = new RecordBatchReader(m.buffer, m.used, m.count);
    for (let rec = r.next(); rec !== null; rec = r.next()) {
      if (rec.kind === 'fields') {
        writeJsonLine(line, rec.fields);
        putLine();
      } else if (rec.kind === 'view') put(row(rec.view), rowAscii);
      else if (rec.kind === 'zeek') put(zeekRow(rec.zeek), true);
      else put(rec.text, false);
    }
    const free: FromRecordThread = { type: 'free', buffer: m.buffer };
    port.postMessage(free, [m.buffer]);
  } else if (m.type === 'text') {
    put(m.text, false);
  } else {
    flush();
    const ended: FromRecordThread = { type: 'ended' };
    port.postMessage(ended);
  }
});
