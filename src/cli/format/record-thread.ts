import { Worker, type MessagePort } from 'node:worker_threads';
import type { ConnectionView } from '../../track/connection';
import type { ZeekRecord } from '../../track/zeek';
import { ConnFields, type ConnectionSource } from '../../track/record';
import type { OutputGate } from '../stdout';
import { RECORD_BATCH_BYTES, RecordBatchWriter } from './record-batch';
import type { FromRecordThread, ToRecordThread } from './record-thread-protocol';
import { RECORD_SCRIPT, type ReaderHost } from './read-write';

/** What each kind of record is packed from. */
interface Packed {
  view: ConnectionView;
  fields: ConnFields;
  table: ConnFields;
  zeek: ZeekRecord;
}

/** Batches in flight before reading waits for one to come back: 4 MiB in all. */
const BATCHES = 4;
/** The record thread's young generation (V8's default would be 16 times this). */
const YOUNG_MIB = 2;

/**
 * analyze's records formatted and encoded in a thread of their own: this thread packs each record
 * as numbers and bytes into a batch (record-batch.ts), the record thread makes the format's text of
 * it with the same functions and hands back the bytes to write, in order. So the tracking thread
 * builds no line, no number's text and no string to collect. While the record thread is behind
 * (every batch out), the gate is held and reading pauses, so memory stays flat.
 */
export class RecordThread {
  private readonly worker: Worker;
  /** Where records go and output comes from: the worker itself, or a port to its record writer. */
  private readonly port: Worker | MessagePort;
  private readonly owned: boolean;
  private readonly batch = new RecordBatchWriter(new ArrayBuffer(RECORD_BATCH_BYTES));
  private readonly spare: ArrayBuffer[] = [];
  private made = 1;
  /** Output buffers written out, to go back with the next batch. */
  private written: ArrayBuffer[] = [];
  private waiting = false;
  /** Whether anything has been sent to the record thread. */
  private posted = false;
  private failure: unknown = null;
  private readonly ended: Promise<void>;
  private readonly scratch = new ConnFields();
  /** Called when the output of every record before a mark() has been handed to `write`. */
  onMark: () => void = () => {};
  /** Called if the thread fails: no more marks will come (end() reports the failure). */
  onFailure: () => void = () => {};

  constructor(
    /** Takes each piece of output, in order; calls `written` once it no longer needs the bytes. */
    write: (bytes: Uint8Array, written?: () => void) => void,
    private readonly gate: OutputGate,
    /** Called before a batch goes out: text this thread wrote itself (a header) must go first. */
    private readonly beforeSend: () => void,
    /**
     * A thread that writes the records sent to `port` (recordWriter, loaded once the first come),
     * beside other work (the reader's): its owner ends it. Without, the record thread is made here.
     */
    host?: ReaderHost,
  ) {
    // Nothing the record thread makes outlives its batch: a small young generation collects it as
    // well and keeps the thread's heap at a tenth of the default's (40 MiB on a 300 000-connection
    // run), with no more CPU (bench/sections/memory.mjs).
    this.worker = host?.worker ?? new Worker(RECORD_SCRIPT, { resourceLimits: { maxYoungGenerationSizeMb: YOUNG_MIB } });
    this.port = host?.port ?? this.worker;
    this.owned = host === undefined;
    this.ended = new Promise<void>((resolve, reject) => {
      this.port.on('message', (m: FromRecordThread) => {
        if (m.type === 'out') {
          const data = m.data;
          // the buffer goes back with the next batch, to be filled again
          write(data, () => this.written.push(data.buffer as ArrayBuffer));
        }
        else if (m.type === 'free') this.free(m.buffer);
        else if (m.type === 'mark') this.onMark();
        else resolve();
      });
      // a thread that failed while reading was held must not keep it held: end() is reached only
      // once the file has been read
      this.worker.on('error', (e) => {
        this.failure = e;
        this.unblock();
        this.onFailure();
        reject(e);
      });
      this.worker.on('exit', () => {
        const e = new Error('the record thread ended early');
        this.failure ??= e;
        this.unblock();
        this.onFailure();
        reject(e);
      });
    });
    // a failure is reported by end(); until then it must not count as unhandled
    this.ended.catch(() => {});
  }

  /** Whether the thread has failed (or ended) already, as far as this thread has heard. */
  get failed(): boolean {
    return this.failure !== null;
  }

  /** A connection's table row from its view; `textOf` makes its line here when it cannot be packed (endpoint notes). */
  view(c: ConnectionView, textOf: (c: ConnectionView) => string): void {
    this.put('view', c, c, textOf);
  }

  /** A connection's jsonl record from its fields (the tracker's store); `textOf` makes its line here when they cannot be packed. */
  fields(c: ConnectionSource, textOf: (c: ConnectionSource) => string): void {
    if (this.failure !== null) return; // end() reports it
    c.fill(this.scratch);
    this.put('fields', this.scratch, c, textOf);
  }

  /** A connection's table row from its fields, filled already; `textOf` makes its line here when they cannot be packed (endpoint notes). */
  tableFields(f: ConnFields, textOf: (f: ConnFields) => string): void {
    this.put('table', f, f, textOf);
  }

  zeek(r: ZeekRecord, textOf: (r: ZeekRecord) => string): void {
    this.put('zeek', r, r, textOf);
  }

  /** Sends the records given so far; onMark is called once their output has been handed on. */
  mark(): void {
    if (this.failure !== null) return; // end() reports it
    this.send();
    this.post({ type: 'mark' });
  }

  /** Waits until every record has been written; rejects if the record thread failed. */
  async end(): Promise<void> {
    if (this.failure === null) {
      this.send();
      if (!this.owned && !this.posted) {
        // Nothing went to the host's writer (no record, or none left at the end to share): there is
        // nothing to wait for, and an end would only make it load the writer's code to answer.
        (this.port as MessagePort).close();
        this.unblock();
        return;
      }
      this.post({ type: 'end' });
    }
    try {
      await this.ended;
    } finally {
      if (this.owned) void this.worker.terminate();
      else (this.port as MessagePort).close();
      this.unblock();
    }
  }

  /** Lets reading go on if it was held for a batch to come back. */
  private unblock(): void {
    if (this.waiting) {
      this.waiting = false;
      this.gate.release();
    }
  }

  /**
   * Packs `record` as `kind` into the batch (into the next one when this one is full), or, when it
   * cannot be packed, sends the text `textOf` makes of `source` instead.
   */
  private put<K extends keyof Packed, S>(kind: K, record: Packed[K], source: S, textOf: (s: S) => string): void {
    if (this.failure !== null) return; // end() reports it
    let done = this.pack(kind, record);
    if (done === false) {
      this.send();
      done = this.pack(kind, record);
    }
    if (done !== true) this.text(textOf(source));
  }

  /** RecordBatchWriter's answer for `record` packed as `kind`: true, false (no room) or null (text). */
  private pack<K extends keyof Packed>(kind: K, record: Packed[K]): boolean | null {
    const b = this.batch;
    switch (kind) {
      case 'view':
        return b.view(record as ConnectionView);
      case 'fields':
        return b.fields(record as ConnFields);
      case 'table':
        return b.fields(record as ConnFields, true);
      default:
        return b.zeek(record as ZeekRecord);
    }
  }

  private text(s: string): void {
    if (this.batch.text(s)) return;
    this.send();
    if (this.batch.text(s)) return;
    this.beforeSend();
    this.post({ type: 'text', text: s });
  }

  private send(): void {
    const b = this.batch;
    if (b.count === 0 || this.failure !== null) return;
    this.beforeSend();
    const written = this.written;
    this.written = [];
    this.post({ type: 'batch', buffer: b.buffer, used: b.used, count: b.count, written }, [b.buffer, ...written]);
    let next = this.spare.pop();
    if (next === undefined) {
      // every batch is out: take another (the records of the current packet must go somewhere)
      // and hold reading until one comes back
      next = new ArrayBuffer(RECORD_BATCH_BYTES);
      this.made++;
      if (this.made > BATCHES && !this.waiting) {
        this.waiting = true;
        this.gate.hold();
      }
    }
    b.reset(next);
  }

  private free(buffer: ArrayBuffer): void {
    // kept, however many there are: no more are made than were once out at the same time
    this.spare.push(buffer);
    if (this.waiting) {
      this.waiting = false;
      this.gate.release();
    }
  }

  private post(m: ToRecordThread, transfer?: ArrayBuffer[]): void {
    this.posted = true;
    this.port.postMessage(m, transfer);
  }
}
