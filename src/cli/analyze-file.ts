import { describeError, type FileReadResult } from '../capture/file';
import { Engine } from '../ingest/engine';
import { ZEEK_TIMERS, type ZeekRecord } from '../track/zeek';
import { ANALYZE_TRACKER_OPTIONS, DEFAULT_TRACKER_OPTIONS } from '../track/tracker';
import { ConnFields } from '../track/record';
import type { DiagnosedConnection } from '../sockets/diagnose-file';
import { playFile } from './file-driver';
import { JsonBytes } from '../events/json-bytes';
import type { Diagnosis } from '../sockets/diagnose';
import { diagnoseThresholds, type CommonOptions } from './options';
import { OutputGate } from './stdout';
import { readsInHost, startReadWrite, type ReaderHost } from './format/read-write';
import { trackerOptions } from './tracker-options';
import type { AnalyzeCommandOptions } from './analyze';

// analyze's work once it has started (analyze.ts decides on threads and starts them first).

export { describeError };

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

/** analyzeFile's work, once the thread that reads (if any) has been started. */
async function analyzeWith(
  o: AnalyzeCommandOptions,
  write: (chunk: string | Uint8Array, written?: () => void) => void,
  opts: AnalyzeFileOptions,
  host: ReaderHost | undefined,
): Promise<{ result: FileReadResult; connections: number }> {
  const gate = opts.gate ?? new OutputGate();
  // In the record thread, this thread packs each record and the other one writes its text.
  // The end is shared for jsonl and the table (as the store's fields); Zeek's records come from
  // the tracker's mirror.
  const shareEnd = opts.recordThread !== true && opts.sharedEnd === true && (o.format === 'jsonl' || o.format === 'table');
  // each format's code, and the record thread's, loads only when it is used
  const [jsonl, table, zeek, diagnoseFile, threads, shared] = await Promise.all([
    o.format === 'jsonl' ? import('./format/jsonl') : null,
    o.format === 'table' ? import('./format/table') : null,
    o.format === 'zeek' ? import('./format/zeek') : null,
    o.format === 'table' ? import('../sockets/diagnose-file') : null,
    opts.recordThread === true || shareEnd ? import('./format/record-thread') : null,
    shareEnd ? import('./format/shared-end') : null,
  ] as const);
  // records are written as bytes into one buffer, handed out CHUNK bytes at a time
  const out = new JsonBytes(CHUNK + 4096);
  let connections = 0;
  let started = false;
  const summary = table !== null ? new table.TableSummary() : null;
  /** While this thread writes a round of the records left at the end: where its bytes wait for their turn. */
  let own: Uint8Array[] | null = null;
  const flush = () => {
    if (out.pos === 0) return;
    if (own !== null) own.push(out.take(CHUNK + 4096));
    else write(out.take(CHUNK + 4096));
  };
  // around each record: the header before the first, the chunk handed on once full
  const begin = () => {
    if (started) return;
    started = true;
    if (zeek !== null) out.ascii(zeek.zeekHeader(new Date()));
    else if (table !== null) out.ascii(table.tableHeader());
  };
  const wrote = () => {
    if (out.pos >= CHUNK) flush();
  };
  const thread = threads !== null ? new threads.RecordThread(write, gate, flush, host) : null;
  const sharedEnd = shared !== null && thread !== null ? new shared.SharedEnd(thread, write) : null;
  /** Whether the records removed now go to the record thread: always with recordThread, by rounds at the end with sharedEnd. */
  let toThread = opts.recordThread === true;
  const zeekRecord = thread && !shareEnd
    ? (r: ZeekRecord) => {
        begin();
        thread.zeek(r, zeek!.zeekRow);
      }
    : (r: ZeekRecord) => {
        begin();
        zeek!.writeZeekRow(out, r);
        wrote();
      };
  const engine = new Engine(
    trackerOptions(o, {
      timeouts: { ...DEFAULT_TRACKER_OPTIONS.timeouts, closedRetention: retentionMs(o) },
      ...ANALYZE_TRACKER_OPTIONS,
      // Zeek's records are Zeek's connections, not ours: the mirror follows Zeek's lifetime for them.
      ...(o.format === 'zeek' ? { zeekRecords: zeekRecord } : {}),
    }),
  );
  // The table's rows, its summary and its diagnoses are read from the store's fields through one
  // reused FieldsView, with no view built (a view costs three times the row), unless a record
  // thread takes the rows: it takes views.
  const tableFromFields = table !== null && opts.recordThread !== true;
  /**
   * The diagnoser's remove sink, when it reads the FieldsView (fed below) rather than the tracker's
   * views: kept here, not given to the tracker, which builds a view of each connection it removes
   * while it has such a sink.
   */
  let diagnoserSink: ((c: DiagnosedConnection) => void) | null = null;
  const fromFields = {
    onRemove: (sink: (c: DiagnosedConnection) => void) => {
      diagnoserSink = sink;
    },
  };
  const diagnosed = tableFromFields ? fromFields : engine.tracker;
  // what went wrong, from the packets alone: after the table's summary
  const diagnoser = diagnoseFile !== null ? new diagnoseFile.FileDiagnoser(diagnosed, () => engine.lastTs, lingerMs(o), diagnoseThresholds(o)) : null;
  // (no remove sink for the zeek format: its records come from the mirror)
  if (jsonl !== null) {
    // straight from the store: no view, no string; to the record thread as the store's fields
    const { writeJsonLine, jsonText } = jsonl;
    engine.tracker.onRemoveRecord((r) => {
      begin();
      if (toThread) thread!.fields(r, jsonText);
      else {
        writeJsonLine(out, r);
        wrote();
      }
      connections++;
    });
  } else if (table !== null && tableFromFields) {
    const { writeTableFields, tableFieldsText, FieldsView } = table;
    const fields = new ConnFields();
    const view = new FieldsView(fields);
    engine.tracker.onRemoveRecord((r) => {
      begin();
      r.fill(fields);
      // (the summary and the diagnoses read the fields here either way)
      if (toThread) thread!.tableFields(fields, tableFieldsText);
      else {
        writeTableFields(out, fields);
        wrote();
      }
      summary?.add(view);
      diagnoserSink?.(view);
      connections++;
    });
  } else if (table !== null) {
    // (only with recordThread: the rows all go to that thread)
    const { tableLine } = table;
    engine.tracker.onRemove((c) => {
      begin();
      thread!.view(c, tableLine);
      summary?.add(c);
      connections++;
    });
  }

  const run = playFile(engine, o.file, { kind: 'max' }, { onProgress: opts.onProgress, readThread: o.readThread, gate, readerThread: host?.worker });
  const result = await run.done;
  // A file that could not be read at all gets no output, only its error.
  const output = result.error === null || result.frames > 0;
  // A thread that failed before the end's first round took none of its rounds (this thread writes
  // them all); one that fails later may take rows with it, so its failure cannot go unsaid.
  const failedBeforeEnd = thread?.failed ?? false;
  if (output && sharedEnd !== null) {
    // Round by round, to whichever thread is free; a turn of the event loop between rounds lets
    // the record thread's answers in.
    for (;;) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      toThread = sharedEnd.threadTakes();
      if (!toThread) own = [];
      const n = engine.tracker.removeAll(END_ROUND);
      if (toThread) {
        if (n > 0) sharedEnd.threadRound();
      } else {
        flush();
        sharedEnd.ownRound(own!);
        own = null;
      }
      toThread = false;
      if (n === 0) break;
      const held = sharedEnd.wait();
      if (held) await held;
      if (gate.wait) await gate.wait;
    }
  } else if (output) {
    // The rest END_ROUND at a time, waiting for a slow reader between them.
    while (engine.tracker.removeAll(END_ROUND) > 0) {
      if (gate.wait) await gate.wait;
    }
  }
  // every record written before what ends the output
  try {
    await thread?.end();
  } catch (e) {
    // When the thread that shares the end is the one that read the file, and failed while reading,
    // its failure is the reading's: that is reported (result.error), with the summary of what came
    // before it, as when the file is read by a reader thread alone. (It had no records yet: they go
    // to it only once the file has been read, and none went to it at the end.) A failure during the
    // end is its own error, even after a damaged file's.
    if (sharedEnd === null || host === undefined || result.error === null || !failedBeforeEnd) throw e;
  }
  if (output) {
    if (zeek !== null) {
      connections = engine.tracker.stats().connectionsTotal;
      begin();
      out.ascii(zeek.zeekFooter(new Date()));
    } else if (summary) {
      if (!started) out.ascii('no TCP connections found\n');
      out.text(summary.text());
      if (diagnoser) out.text(diagnosesText(diagnoser.diagnoses()));
    }
  }
  flush();
  return { result, connections };
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
