/**
 * Runs public traces through the real file reader, decoder and tracker, and reads the results
 * other tools produced for the same traces (Zeek's conn.log, tshark's tcp.stream numbering).
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { frameTimeMs } from '../../src/capture/frame';
import { readCaptureFile } from '../../src/capture/file';
import { decodeFrame } from '../../src/decode/decode';
import { Segment } from '../../src/decode/segment';
import type { ConnectionView } from '../../src/track/connection';
import { Tracker } from '../../src/track/tracker';
import { FIXTURES, parseCsv } from '../support/fixtures.mjs';

export interface TraceRun {
  connections: ConnectionView[];
  frames: number;
  segments: number;
  error: string | null;
}

/** Every frame of the trace through decodeFrame into one Tracker; no timers are run at the end. */
export async function runTrace(file: string): Promise<TraceRun> {
  const tracker = new Tracker({ maxConnections: 1_000_000 });
  const seg = new Segment();
  let segments = 0;
  const res = await readCaptureFile(path.join(FIXTURES, file), (f) => {
    if (decodeFrame(f.linkType, f.data, f.origLen, seg) === 'ok') {
      segments++;
      tracker.process(seg, frameTimeMs(f));
    }
  });
  return { connections: tracker.list(), frames: res.frames, segments, error: res.error?.message ?? null };
}

export interface ZeekRow {
  /** null where the baseline does not hold the column */
  origH: string | null;
  origP: number | null;
  respH: string | null;
  respP: number | null;
  connState: string | null;
  history: string | null;
}

/**
 * The TCP rows of a Zeek conn.log: Zeek's TSV with a #fields header, or zeek-cut's output whose
 * first line names a subset of the columns.
 */
export function readZeekConnLog(file: string): ZeekRow[] {
  const text = readFileSync(path.join(FIXTURES, file), 'utf8');
  let fields: string[] | null = null;
  const rows: ZeekRow[] = [];
  for (const line of text.split(/\r?\n/)) {
    if (line.startsWith('#fields')) {
      fields = line.split('\t').slice(1);
      continue;
    }
    if (line === '' || line.startsWith('#')) continue;
    if (fields === null) {
      fields = line.split('\t');
      continue;
    }
    const c = line.split('\t');
    const cols = fields;
    const get = (name: string) => {
      const i = cols.indexOf(name);
      return i < 0 ? null : c[i];
    };
    const proto = get('proto');
    if (proto !== null && proto !== 'tcp') continue;
    const num = (v: string | null) => (v === null ? null : Number(v));
    const history = get('history');
    const state = get('conn_state');
    rows.push({
      origH: get('id.orig_h'),
      origP: num(get('id.orig_p')),
      respH: get('id.resp_h'),
      respP: num(get('id.resp_p')),
      connState: state === null || state === '-' ? null : state,
      // an unset history is an empty one
      history: history === null ? null : history === '-' || history === '(empty)' ? '' : history,
    });
  }
  return rows;
}

export interface BaselineRow {
  trace: string;
  corpusFile: string;
  primary: boolean;
  flags: string;
  columns: string[];
}

export function baselines(): BaselineRow[] {
  const lines = readFileSync(path.join(FIXTURES, 'baselines.tsv'), 'utf8').trimEnd().split(/\r?\n/);
  const head = lines[0].split('\t');
  const col = (n: string) => head.indexOf(n);
  return lines.slice(1).map((l) => {
    const c = l.split('\t');
    return {
      trace: c[col('trace')],
      corpusFile: c[col('corpus_file')],
      primary: c[col('primary')] === 'yes',
      flags: c[col('flags')],
      columns: c[col('columns')].split(','),
    };
  });
}

/** Distinct tcp.stream values tshark gave the trace, or null when there is no streams file. */
export function tsharkStreams(trace: string): number | null {
  const f = path.join(FIXTURES, trace.replace(/\.pcap(ng)?$/, '.tshark-streams.csv'));
  if (!existsSync(f)) return null;
  const rows = parseCsv(readFileSync(f, 'utf8'));
  return new Set(rows.map((r) => r.stream)).size;
}

export interface Pairing {
  zeek: ZeekRow;
  ours: ConnectionView | null;
}

/** Whether our connection fits what the row says of the 4-tuple, in either direction. */
function fits(z: ZeekRow, v: ConnectionView): boolean {
  const eq = <T>(want: T | null, got: T) => want === null || want === got;
  const fwd = eq(z.origH, v.client.ip) && eq(z.origP, v.client.port) && eq(z.respH, v.server.ip) && eq(z.respP, v.server.port);
  const rev = eq(z.origH, v.server.ip) && eq(z.origP, v.server.port) && eq(z.respH, v.client.ip) && eq(z.respP, v.client.port);
  return fwd || rev;
}

/**
 * Pairs Zeek's rows with our connections by 4-tuple (either direction, as far as the baseline
 * shows it), in order within a tuple: conn.log lists a tuple's connections in the order Zeek
 * finished them, which for one tuple is the order they started.
 */
export function pair(rows: ZeekRow[], ours: ConnectionView[]): { pairs: Pairing[]; unmatchedOurs: ConnectionView[] } {
  const used = new Set<ConnectionView>();
  const pairs = rows.map((z) => {
    const v = ours.find((o) => !used.has(o) && fits(z, o)) ?? null;
    if (v) used.add(v);
    return { zeek: z, ours: v };
  });
  return { pairs, unmatchedOurs: ours.filter((o) => !used.has(o)) };
}

export const tupleText = (z: ZeekRow): string =>
  `${z.origH ?? '?'}:${z.origP ?? '?'} → ${z.respH ?? '?'}:${z.respP ?? '?'}`;
