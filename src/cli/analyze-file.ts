import { describeError, type FileReadResult } from '../capture/file';
import { Engine } from '../ingest/engine';
import type { ZeekRecord } from '../track/zeek';
import { ZEEK_TIMERS } from '../track/zeek/lifetime';
import { ANALYZE_TRACKER_OPTIONS, DEFAULT_TRACKER_OPTIONS } from '../track/options';
import { ConnFields } from '../track/record';
import type { DiagnosedConnection, FileDiagnoser } from '../sockets/diagnose-file';
import type { RecordThread } from './format/record-thread';
import type { SharedEnd } from './format/shared-end';
import type * as JsonlFormat from './format/jsonl';
import { FieldsView } from './format/fields-view';
import type * as TableFormat from './format/table';
import type * as ZeekFormat from './format/zeek';
import { playFile } from './file-driver';
import { JsonBytes } from '../events/json-bytes';
import type { Diagnosis } from '../sockets/diagnose';
import { diagnoseThresholds, type CommonOptions } from './options';
import { OutputGate } from './stdout';
import { readsInHost, startReadWrite, type ReaderHost } from './format/read-write';
import { trackerOptions } from './tracker-options';
import type { AnalyzeCommandOptions } from './analyze';

// analyze's work once it has started (analyze.ts decides on threads and starts them first).


/**
 * How long a closed connection stays in the table before its record is written, in capture time:
 * 2×MSL from its close, or from the end of its TIME_WAIT when one side holds one (the record shows
 * TIME_WAIT ending), so that late segments of it (a retransmitted FIN or RST, the peer's answer to
 * a RST, seconds later) still join it rather than start a row of their own. Zeek waits 5 s
 * (tcp_close_delay) and splits such segments off: `--format zeek` does as Zeek does, through the
 * tracker's Zeek mirror (zeekRecords), whatever this linger is.
 */
function lingerMs(o: CommonOptions): number {
  return 2 * (o.msl !== undefined ? o.msl * 1000 : DEFAULT_TRACKER_OPTIONS.mslMs);
}

/**
 * How long a closed connection stays in the table. For Zeek's records, at least as long as Zeek
 * could still add a packet to its record (tcp_inactivity_timeout after the last one): a record whose
 * connection leaves the table ends there, so a shorter stay would split Zeek's records where Zeek
 * does not (a half-closed connection idle for two minutes, then a packet). A full table still
 * evicts its oldest closed connections first, so memory keeps its bound.
 */
function retentionMs(o: AnalyzeCommandOptions): number {
  return o.format === 'zeek' ? Math.max(lingerMs(o), ZEEK_TIMERS.inactivityTimeout + 5_000) : lingerMs(o);
}

/** Output is written in chunks of about this many bytes. */
const CHUNK = 1 << 16;
/** The records left at the end of the file are removed this many at a time. */
const END_ROUND = 1024;

/**
 * Reads a capture and writes one record per connection as it finishes: when it has been closed
 * for 2×MSL (after TIME_WAIT), when a full table evicts it, or at the end of the
 * file for those still in the table, oldest first. So records come in the order connections leave
 * the table, and only connections not yet finished are held. The zeek format writes Zeek's records
 * instead, each when Zeek would remove its connection (src/track/zeek/lifetime.ts).
 */
export async function analyzeFile(
  o: AnalyzeCommandOptions,
  /** Takes the output in order; `written`, when given, is called once the bytes are no longer needed. */
  write: (chunk: string | Uint8Array, written?: () => void) => void,
  opts: {
    onProgress?: (bytesRead: number, total: number | null) => void;
    /** Reading pauses while the gate is held (the output is behind). */
    gate?: OutputGate;
    /** Format and encode the records in a thread of their own (recordThreadAvailable()). */
    recordThread?: boolean;
    /** With recordThread, for jsonl: that thread also reads and decodes the file (readWriteAvailable()). */
    readWrite?: boolean;
    /**
     * Without recordThread, for jsonl and the table (Zeek's records are written here): a record thread
     * writes a share of the records left at the end of the file while this one writes the rest
     * (SharedEnd); it is the reader thread when there is one (readWriteAvailable()).
     */
    sharedEnd?: boolean;
    /** The thread that reads the file, started by the caller as readsInHost() says (undefined: none); ended here. Without the key, it is started here when readsInHost() says so. */
    host?: ReaderHost;
  } = {},
): Promise<{ result: FileReadResult; connections: number }> {
  // (a caller that says which, none too, has decided already)
  const host = 'host' in opts ? opts.host : readsInHost(o, opts) ? startReadWrite(o.file) : undefined;
  // whatever happens, the thread that reads ends here
  try {
    return await analyzeWith(o, write, opts, host);
  } finally {
    void host?.worker.terminate();
  }
}

type AnalyzeFileOptions = NonNullable<Parameters<typeof analyzeFile>[2]>;

/** The output being written, and where the records removed now go: what the remove sinks and the end share. */
class Writing {
  /** Records are written as bytes into one buffer, handed out CHUNK bytes at a time. */
  readonly out = new JsonBytes(CHUNK + 4096);
  connections = 0;
  started = false;
  /** Whether the records removed now go to the record thread: always with recordThread, by rounds at the end with sharedEnd. */
  toThread: boolean;
  /** While this thread writes a round of the records left at the end: where its bytes wait for their turn. */
  own: Uint8Array[] | null = null;

  constructor(
    private readonly write: (chunk: Uint8Array) => void,
    /** What goes before the first record (Zeek's header says when it was written). */
    private readonly header: (() => string) | null,
    toThread: boolean,
  ) {
    this.toThread = toThread;
  }

  flush(): void {
    if (this.out.pos === 0) return;
    if (this.own !== null) this.own.push(this.out.take(CHUNK + 4096));
    else this.write(this.out.take(CHUNK + 4096));
  }

  /** Before each record: the header before the first. */
  begin(): void {
    if (this.started) return;
    this.started = true;
    if (this.header !== null) this.out.ascii(this.header());
  }

  /** After each record written here: the chunk handed on once full. */
  wrote(): void {
    if (this.out.pos >= CHUNK) this.flush();
  }
}

type Jsonl = typeof JsonlFormat;
type Table = typeof TableFormat;
type Zeek = typeof ZeekFormat;
type TableSummary = InstanceType<Table['TableSummary']>;
/** What the file diagnoser takes its records from: the tracker, or the table's sink. */
type DiagnosedSource = { onRemove(sink: (c: DiagnosedConnection) => void): void };

/** jsonl's remove sink: straight from the store, no view, no string; to the record thread as the store's fields. */
function jsonlSink(engine: Engine, w: Writing, jsonl: Jsonl, thread: RecordThread | null): void {
  const { writeJsonLine, jsonText } = jsonl;
  engine.tracker.onRemoveRecord((r) => {
    w.begin();
    if (w.toThread) thread!.fields(r, jsonText);
    else {
      writeJsonLine(w.out, r);
      w.wrote();
    }
    w.connections++;
  });
}

/**
 * The table's remove sink when its rows, its summary and its diagnoses are read from the store's
 * fields through one reused FieldsView, with no view built (a view costs three times the row).
 * Returns what the diagnoser subscribes to for the same view: not the tracker, which builds a view
 * of each connection it removes while it has such a sink.
 */
function tableFieldsSink(engine: Engine, w: Writing, table: Table, thread: RecordThread | null, summary: TableSummary): DiagnosedSource {
  const { writeTableFields, tableFieldsText } = table;
  const fields = new ConnFields();
  const view = new FieldsView(fields);
  let diagnoserSink: ((c: DiagnosedConnection) => void) | null = null;
  engine.tracker.onRemoveRecord((r) => {
    w.begin();
    r.fill(fields);
    // (the summary and the diagnoses read the fields here either way)
    if (w.toThread) thread!.tableFields(fields, tableFieldsText);
    else {
      writeTableFields(w.out, fields);
      w.wrote();
    }
    summary.add(view);
    diagnoserSink?.(view);
    w.connections++;
  });
  return {
    onRemove: (sink) => {
      diagnoserSink = sink;
    },
  };
}

/** The table's remove sink with a record thread for every record: it takes views. */
function tableViewSink(engine: Engine, w: Writing, table: Table, thread: RecordThread, summary: TableSummary): void {
  const { tableLine } = table;
  engine.tracker.onRemove((c) => {
    w.begin();
    thread.view(c, tableLine);
    summary.add(c);
    w.connections++;
  });
}

/** Where Zeek's records go (from the tracker's mirror): to the record thread for the whole run, or written here. */
function zeekSink(w: Writing, zeek: Zeek, thread: RecordThread | null): (r: ZeekRecord) => void {
  if (thread !== null) {
    return (r) => {
      w.begin();
      thread.zeek(r, zeek.zeekRow);
    };
  }
  return (r) => {
    w.begin();
    zeek.writeZeekRow(w.out, r);
    w.wrote();
  };
}

/**
 * The records left at the end of the file, round by round, to whichever thread is free; a turn of
 * the event loop between rounds lets the record thread's answers in.
 */
async function shareTheEnd(engine: Engine, w: Writing, sharedEnd: SharedEnd, gate: OutputGate): Promise<void> {
  for (;;) {
    await new Promise<void>((resolve) => setImmediate(resolve));
    w.toThread = sharedEnd.threadTakes();
    if (!w.toThread) w.own = [];
    const n = engine.tracker.removeAll(END_ROUND);
    if (w.toThread) {
      if (n > 0) sharedEnd.threadRound();
    } else {
      w.flush();
      sharedEnd.ownRound(w.own!);
      w.own = null;
    }
    w.toThread = false;
    if (n === 0) break;
    const held = sharedEnd.wait();
    if (held) await held;
    if (gate.wait) await gate.wait;
  }
}

/** Each format's code, and the record thread's, loaded only when it is used. */
function loadFormats(o: AnalyzeCommandOptions, opts: AnalyzeFileOptions) {
  // In the record thread, this thread packs each record and the other one writes its text.
  // The end is shared for jsonl and the table (as the store's fields); Zeek's records come from
  // the tracker's mirror.
  const shareEnd = opts.recordThread !== true && opts.sharedEnd === true && (o.format === 'jsonl' || o.format === 'table');
  return Promise.all([
    o.format === 'jsonl' ? import('./format/jsonl') : null,
    o.format === 'table' ? import('./format/table') : null,
    o.format === 'zeek' ? import('./format/zeek') : null,
    o.format === 'table' ? import('../sockets/diagnose-file') : null,
    opts.recordThread === true || shareEnd ? import('./format/record-thread') : null,
    shareEnd ? import('./format/shared-end') : null,
  ] as const);
}

/** analyzeFile's work, once the thread that reads (if any) has been started. */
async function analyzeWith(
  o: AnalyzeCommandOptions,
  write: (chunk: string | Uint8Array, written?: () => void) => void,
  opts: AnalyzeFileOptions,
  host: ReaderHost | undefined,
): Promise<{ result: FileReadResult; connections: number }> {
  const gate = opts.gate ?? new OutputGate();
  const [jsonl, table, zeek, diagnoseFile, threads, shared] = await loadFormats(o, opts);
  const header = zeek !== null ? () => zeek.zeekHeader(new Date()) : table !== null ? table.tableHeader : null;
  const w = new Writing(write, header, opts.recordThread === true);
  const summary = table !== null ? new table.TableSummary() : null;
  const thread = threads !== null ? new threads.RecordThread(write, gate, () => w.flush(), host) : null;
  const sharedEnd = shared !== null && thread !== null ? new shared.SharedEnd(thread, write) : null;
  const engine = new Engine(
    trackerOptions(o, {
      timeouts: { ...DEFAULT_TRACKER_OPTIONS.timeouts, closedRetention: retentionMs(o) },
      ...ANALYZE_TRACKER_OPTIONS,
      // Zeek's records are Zeek's connections, not ours: the mirror follows Zeek's lifetime for them.
      // (the end is never shared for the zeek format: its thread, if any, takes every record)
      ...(zeek !== null ? { zeekRecords: zeekSink(w, zeek, thread) } : {}),
    }),
  );
  // (no remove sink for the zeek format: its records come from the mirror)
  let diagnosed: DiagnosedSource = engine.tracker;
  if (jsonl !== null) jsonlSink(engine, w, jsonl, thread);
  else if (table !== null && opts.recordThread !== true) diagnosed = tableFieldsSink(engine, w, table, thread, summary!);
  else if (table !== null) tableViewSink(engine, w, table, thread!, summary!);
  // what went wrong, from the packets alone: after the table's summary
  const diagnoser = diagnoseFile !== null ? new diagnoseFile.FileDiagnoser(diagnosed, () => engine.lastTs, lingerMs(o), diagnoseThresholds(o)) : null;

  const run = playFile(engine, o.file, { kind: 'max' }, { onProgress: opts.onProgress, readThread: o.readThread, gate, readerThread: host?.worker });
  const result = await run.done;
  // A file that could not be read at all gets no output, only its error.
  const output = result.error === null || result.frames > 0;
  if (output && sharedEnd !== null) await shareTheEnd(engine, w, sharedEnd, gate);
  else if (output) {
    // The rest END_ROUND at a time, waiting for a slow reader between them.
    while (engine.tracker.removeAll(END_ROUND) > 0) {
      if (gate.wait) await gate.wait;
    }
  }
  // every record written before what ends the output
  try {
    await thread?.end();
  } catch (e) {
    // When the thread that shares the end is the one that read the file and the reading failed, a
    // thread that was given no round of the end lost no record (this thread wrote them all): the
    // reading's error is reported (result.error), with the summary of what came before it, as when
    // the file is read by a reader thread alone, whenever the thread failed. One given a round may
    // have taken rows with it: its failure is its own error, even after a damaged file's.
    if (sharedEnd === null || host === undefined || result.error === null || sharedEnd.roundsSent > 0) throw e;
  }
  if (output) endOutput(w, zeek, summary, diagnoser);
  w.flush();
  return { result, connections: zeek !== null && output ? engine.tracker.stats().connectionsTotal : w.connections };
}

/** What ends the output: Zeek's footer, or the table's summary and diagnoses. */
function endOutput(w: Writing, zeek: Zeek | null, summary: TableSummary | null, diagnoser: FileDiagnoser | null): void {
  const out = w.out;
  if (zeek !== null) {
    w.begin();
    out.ascii(zeek.zeekFooter(new Date()));
  } else if (summary) {
    if (!w.started) out.ascii('no TCP connections found\n');
    out.text(summary.text());
    if (diagnoser) out.text(diagnosesText(diagnoser.diagnoses()));
  }
}

/** The diagnoses as the table's last lines: one per diagnosis, its connections' ids after it. */
function diagnosesText(ds: Diagnosis[]): string {
  if (ds.length === 0) return '';
  let out = 'diagnoses:\n';
  for (const d of ds) {
    const ids = d.connections.length > 0 ? ` [connections ${d.connections.slice(0, 5).join(', ')}${d.connections.length > 5 ? ', …' : ''}]` : '';
    out += `  ${d.severity === 'error' ? 'ERROR' : 'WARN '} ${d.text}${ids}\n`;
  }
  return out;
}
