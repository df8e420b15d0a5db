// The record thread's side of analyze's records (record-thread.ts): turns packed records into the
// format's text and hands it back as UTF-8 bytes, in the order the records came. It runs in
// record-thread-worker.ts, or beside the reader in one thread (read-write-worker.ts).
import type { MessagePort } from 'node:worker_threads';
import { JsonBytes } from '../../events/json-bytes';
import type { ConnectionView } from '../../track/connection';
import { writeJsonLine } from './jsonl';
import { RecordBatchReader } from './record-batch';
import type { FromRecordThread, ToRecordThread } from './record-thread-protocol';
import { ConnFields } from '../../track/record';
import { writeTableFields, writeTableLine } from './table';
import { zeekRow } from './zeek';

/** Output goes back in pieces of this many bytes (or fewer). */
const CHUNK = 1 << 20;

/** Writes the records that come to `port` (ToRecordThread) and posts the output back. */
export function serveRecords(port: MessagePort): void {
  const w = recordWriter(port);
  port.on('message', w);
}

/** What writes each message of records that comes, in order, posting the output to `port`. */
export function recordWriter(port: MessagePort): (m: ToRecordThread) => void {
  const w = new RecordWriter(port);
  return (m) => w.onMessage(m);
}

class RecordWriter {
  // Each line is written into the output buffer as it is made: a line is a rope of a few dozen
  // pieces, and copying it out once costs less than joining lines into a longer string first.
  private out = Buffer.allocUnsafeSlow(CHUNK);
  private used = 0;
  /** Output buffers written out and given back: no more are made than were once out at the same time. */
  private readonly spare: ArrayBuffer[] = [];
  /** A jsonl line or a table row, before it is copied into the output buffer. */
  private readonly line = new JsonBytes(4096);
  /** A table row's fields, read back. */
  private readonly scratch = new ConnFields();

  constructor(private readonly port: MessagePort) {}

  onMessage(m: ToRecordThread): void {
    if (m.type === 'batch') {
      for (const b of m.written) if (b.byteLength === CHUNK) this.spare.push(b);
      const r = new RecordBatchReader(m.buffer, m.used, m.count);
      for (let rec = r.next(); rec !== null; rec = r.next()) {
        if (rec.kind === 'fields') {
          writeJsonLine(this.line, rec.fields);
          this.putLine();
        } else if (rec.kind === 'table') {
          rec.fields.fill(this.scratch);
          writeTableFields(this.line, this.scratch);
          this.putLine();
        } else if (rec.kind === 'view') {
          // the table's row from a view (with a record thread for every record), as the tracking thread writes it
          writeTableLine(this.line, rec.view);
          this.putLine();
        } else if (rec.kind === 'zeek') this.put(zeekRow(rec.zeek), true);
        else this.put(rec.text, false);
      }
      const free: FromRecordThread = { type: 'free', buffer: m.buffer };
      this.port.postMessage(free, [m.buffer]);
    } else if (m.type === 'text') {
      this.put(m.text, false);
    } else if (m.type === 'mark') {
      this.flush();
      const mark: FromRecordThread = { type: 'mark' };
      this.port.postMessage(mark);
    } else {
      this.flush();
      const ended: FromRecordThread = { type: 'ended' };
      this.port.postMessage(ended);
    }
  }

  private flush(): void {
    if (this.used === 0) return;
    const msg: FromRecordThread = { type: 'out', data: new Uint8Array(this.out.buffer, 0, this.used) };
    this.port.postMessage(msg, [this.out.buffer as ArrayBuffer]);
    const again = this.spare.pop();
    this.out = again !== undefined ? Buffer.from(again) : Buffer.allocUnsafeSlow(CHUNK);
    this.used = 0;
  }

  /** Appends a line; `ascii`: it holds no character above 0x7f, so each is one byte. */
  private put(line: string, ascii: boolean): void {
    const max = ascii ? line.length : Buffer.byteLength(line);
    if (max > CHUNK - this.used) {
      this.flush();
      if (max > CHUNK) {
        const msg: FromRecordThread = { type: 'out', data: Buffer.from(line, 'utf8') };
        this.port.postMessage(msg);
        return;
      }
    }
    this.used += this.out.write(line, this.used, ascii ? 'latin1' : 'utf8');
  }

  /** Appends the line in `line`. */
  private putLine(): void {
    const line = this.line;
    const n = line.pos;
    if (n > CHUNK - this.used) {
      this.flush();
      if (n > CHUNK) {
        const msg: FromRecordThread = { type: 'out', data: Buffer.from(line.result()) };
        this.port.postMessage(msg);
        line.pos = 0;
        return;
      }
    }
    line.buf.copy(this.out, this.used, 0, n);
    this.used += n;
    line.pos = 0;
  }
}
