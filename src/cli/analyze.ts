import { DEFAULT_TRACKER_OPTIONS } from '../track/tracker';
import type { ConnectionView } from '../track/connection';
import { EXIT_FAILURE, EXIT_OK, fileErrorMessage } from './errors';
import { playFile, type ReadThreadMode } from './file-driver';
import { renderTable, tableRow, tableSummary } from './format/table';
import { zeekFooter, zeekHeader, zeekRow } from './format/zeek';
import type { CommonOptions } from './options';
import { fileProgress } from './progress';
import { createSession, guardStdout } from './session';

export type AnalyzeFormat = 'table' | 'jsonl' | 'zeek';

export interface AnalyzeCommandOptions extends CommonOptions {
  file: string;
  format: AnalyzeFormat;
  readThread?: ReadThreadMode;
}

/** Closed connections stay in the table for the whole run so every one of them is reported (100 years). */
const KEEP_CLOSED_MS = 100 * 365 * 86_400_000;

export async function runAnalyze(o: AnalyzeCommandOptions): Promise<number> {
  guardStdout();
  const session = createSession(o, {
    timeouts: { ...DEFAULT_TRACKER_OPTIONS.timeouts, closedRetention: KEEP_CLOSED_MS },
  });
  // A full table evicts: keep what the evicted connections looked like so they are reported too.
  const evicted = new Map<string, ConnectionView>();
  session.bus.subscribe((_s, e) => {
    if (e.type === 'connection' && e.phase === 'evicted') {
      const c = e.connection ?? session.engine.tracker.get(e.connectionId);
      if (c) evicted.set(c.id, c);
    }
  });
  const progress = fileProgress('analyze');
  const run = playFile(session.engine, o.file, { kind: 'max' }, { onProgress: progress.update, readThread: o.readThread });
  const r = await run.done;
  progress.stop();

  const failedEarly = r.error !== null && r.frames === 0;
  if (!failedEarly) {
    const tracked = session.engine.tracker.list();
    for (const c of tracked) evicted.delete(c.id);
    const conns = [...evicted.values(), ...tracked].sort((a, b) => a.startedAt - b.startedAt);
    for (const chunk of render(conns, o.format)) process.stdout.write(chunk);
  }
  if (r.error) {
    process.stderr.write(`tcpscope: ${fileErrorMessage(o.file, r.error, r.frames)}\n`);
    return EXIT_FAILURE;
  }
  return EXIT_OK;
}

/** Output in chunks: a big capture's log would not fit in one string. */
function* render(conns: ConnectionView[], format: AnalyzeFormat): Generator<string> {
  const CHUNK = 1000;
  switch (format) {
    case 'jsonl':
      for (let i = 0; i < conns.length; i += CHUNK) yield conns.slice(i, i + CHUNK).map((c) => JSON.stringify(c) + '\n').join('');
      return;
    case 'zeek':
      yield zeekHeader(new Date());
      for (let i = 0; i < conns.length; i += CHUNK) yield conns.slice(i, i + CHUNK).map(zeekRow).join('');
      yield zeekFooter(new Date());
      return;
    case 'table':
      yield conns.length ? renderTable(conns.map(tableRow)) : 'no TCP connections found\n';
      yield tableSummary(conns);
      return;
  }
}
