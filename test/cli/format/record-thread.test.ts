// analyze's record thread writes what formatting on the tracking thread writes, byte for byte and
// in the same order: every public trace in each format (damaged ones too: the same records before
// the damage, the same error), and a capture of thousands of connections, some of whose endpoints
// are named by a (non-ASCII) pcapng comment, which cross many batches. The record thread runs
// compiled code, so these tests use the build in dist/.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { TransferListItem } from 'node:worker_threads';
import { beforeAll, describe, expect, it } from 'vitest';
import type { AnalyzeFormat } from '../../../src/cli/options';
import { RecordBatchReader, RecordBatchWriter } from '../../../src/cli/format/record-batch';
import { jsonLine } from '../../../src/cli/format/jsonl';
import { tableLine } from '../../../src/cli/format/table';
import { Engine } from '../../../src/ingest/engine';
import { readCaptureFile } from '../../../src/capture/file';
import type { ConnectionView } from '../../../src/track/connection';
import { DEFAULT_TRACKER_OPTIONS } from '../../../src/track/options';
import { buildOnce, REPO } from '../support';
import { rawTcp, writePcapng, type NgBlockSpec } from '../../support/captures';
import { FIXTURES } from '../../support/fixtures.mjs';
import { tempDir } from '../../support/temp';

type Analyze = typeof import('../../../src/cli/analyze');
let built: Analyze;

beforeAll(async () => {
  await buildOnce();
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  built = require(path.join(REPO, 'dist/cli/analyze.js')) as Analyze;
}, 120_000);

const golden: Record<string, unknown> = JSON.parse(readFileSync(path.join(REPO, 'test/fixtures/analyze/public-traces.json'), 'utf8'));
const where = (file: string) => (file.startsWith('test/') ? path.join(REPO, file) : path.join(FIXTURES, file));

/**
 * `readWrite`: the record thread also reads the file (jsonl). `shared`: no record thread for the whole
 * run, one for a share of the records left at the end, which reads the file too when `shared` is 'read'.
 */
async function analyze(file: string, format: AnalyzeFormat, recordThread: boolean, readWrite = false, shared: 'off' | 'end' | 'read' = 'off') {
  return (await analyzeSplit(file, format, recordThread, readWrite, shared)).run;
}

/** analyze(), and how many lines of the output the record thread wrote (what it writes comes with a `written` callback, what this thread writes without). */
async function analyzeSplit(file: string, format: AnalyzeFormat, recordThread: boolean, readWrite = false, shared: 'off' | 'end' | 'read' = 'off') {
  const parts: Buffer[] = [];
  let threadLines = 0;
  const write = (c: string | Uint8Array, written?: () => void) => {
    const b = Buffer.from(c);
    parts.push(b);
    if (written !== undefined) {
      for (let i = b.indexOf(10); i !== -1; i = b.indexOf(10, i + 1)) threadLines++;
      written();
    }
  };
  const r = await built.analyzeFile({ file, format, readThread: shared === 'read' ? 'on' : 'off' }, write, {
    recordThread,
    readWrite,
    sharedEnd: shared !== 'off',
  });
  // Zeek's header and footer say when the log was opened and closed
  const out = Buffer.concat(parts).toString('utf8').replace(/^#(open|close)\t.*$/gm, '#$1');
  return { run: { out, error: r.result.error, frames: r.result.frames, connections: r.connections }, threadLines };
}

/** An IPv4 TCP packet (LINKTYPE_RAW) from 10.0.0.SRC to 10.0.0.254, whichever way its ports go. */
function tcp(src: number, sport: number, dport: number, flags: number, seq: number, ack: number): Buffer {
  return rawTcp(`10.0.0.${src}`, sport, '10.0.0.254', dport, flags, seq, ack);
}

/** `n` connections refused or reset after the handshake; every 97th client named by a comment. */
function manyConnections(n: number): Buffer {
  let t = 1_700_000_000_000_000n;
  const blocks: NgBlockSpec[] = [{ kind: 'idb', linkType: 101 }];
  for (let i = 0; i < n; i++) {
    const src = 1 + (i % 200);
    const sport = 20000 + i;
    const comments = i % 97 === 0 ? [`PID: ${i + 1}\nCmd: /usr/bin/café\nArgs: café --n ${i}`] : undefined;
    blocks.push({ kind: 'epb', iface: 0, units: (t += 1237n), data: tcp(src, sport, 80, 0x02, i, 0), comments, flags: comments ? 2 : undefined });
    if (i % 3 === 0) {
      blocks.push({ kind: 'epb', iface: 0, units: (t += 501n), data: tcp(src, 80, sport, 0x14, 0, i + 1) } as NgBlockSpec);
    } else {
      blocks.push({ kind: 'epb', iface: 0, units: (t += 333n), data: tcp(src, sport, 80, 0x12, 5000, i + 1) } as NgBlockSpec);
      blocks.push({ kind: 'epb', iface: 0, units: (t += 777n), data: tcp(src, sport, 80, 0x04, i + 1, 0) });
    }
  }
  return writePcapng([{ blocks }]);
}

describe('record batches', () => {
  it('give back views that format to the same text', async () => {
    const e = new Engine({ maxConnections: 1e6, timeouts: { ...DEFAULT_TRACKER_OPTIONS.timeouts, closedRetention: 1e12 } });
    await readCaptureFile(path.join(FIXTURES, 'traces/ssh/ssh.pcap'), e.onFrame);
    const views = e.tracker.list();
    expect(views.length).toBeGreaterThan(0);
    const w = new RecordBatchWriter(new ArrayBuffer(1 << 12));
    const got: string[] = [];
    const drain = () => {
      const r = new RecordBatchReader(w.buffer, w.used, w.count);
      for (let rec = r.next(); rec !== null; rec = r.next()) got.push(rec.kind === 'view' ? jsonLine(rec.view) + tableLine(rec.view) : rec.kind === 'text' ? rec.text : '');
      w.reset(new ArrayBuffer(1 << 12));
    };
    for (const v of views) {
      if (w.view(v) === false) {
        drain();
        expect(w.view(v)).toBe(true);
      }
    }
    drain();
    expect(got).toEqual(views.map((v) => jsonLine(v) + tableLine(v)));
  });

  it('leave a view with endpoint notes, or with text that is not ASCII, to be written as text', () => {
    const w = new RecordBatchWriter(new ArrayBuffer(1 << 12));
    const noted = { client: { ip: '10.0.0.1', port: 1, state: 'CLOSED', process: { pid: 1 } }, server: { ip: '10.0.0.2', port: 2, state: 'CLOSED' } };
    expect(w.view({ ...noted, id: '1', history: '' } as unknown as ConnectionView)).toBeNull();
    expect(w.text('naïve ✓\n')).toBe(true);
    const r = new RecordBatchReader(w.buffer, w.used, w.count);
    expect(r.next()).toEqual({ kind: 'text', text: 'naïve ✓\n' });
    expect(r.next()).toBeNull();
  });
});

describe('analyze with a record thread', () => {
  it('writes what analyze without one writes, on every public trace, in each format', async () => {
    const files = Object.keys(golden);
    expect(files.length).toBeGreaterThan(100);
    for (const file of files) {
      for (const format of ['jsonl', 'zeek', 'table'] as const) {
        const off = await analyze(where(file), format, false);
        const on = await analyze(where(file), format, true);
        expect(on, `${file} ${format}`).toEqual(off);
        if (format === 'jsonl') expect(await analyze(where(file), format, true, true), `${file} read and written in one thread`).toEqual(off);
        // (jsonl and the table share the end; Zeek's records come from the tracker's mirror)
        if (format !== 'zeek') {
          expect(await analyze(where(file), format, false, false, 'end'), `${file} ${format}, the end shared`).toEqual(off);
          // with the thread that read the file, which often has no records left to take
          expect(await analyze(where(file), format, false, false, 'read'), `${file} ${format}, the end shared with the reader`).toEqual(off);
        }
      }
    }
  }, 300_000);

  it('across many batches, with endpoints named in the file', async () => {
    const file = path.join(tempDir(), 'many.pcapng');
    writeFileSync(file, manyConnections(6000));
    for (const format of ['jsonl', 'zeek', 'table'] as const) {
      const off = await analyze(file, format, false);
      const on = await analyze(file, format, true);
      expect(off.connections).toBeGreaterThanOrEqual(6000);
      expect(on).toEqual(off);
      if (format === 'jsonl') {
        expect(on.out).toContain('"command":"café"');
        // and with one thread that reads the file and writes the records
        expect(await analyze(file, format, true, true)).toEqual(off);
      }
    }
  }, 120_000);

  it('shares the records left at the end with it, in the order they leave the table', async () => {
    const file = path.join(tempDir(), 'many.pcapng');
    writeFileSync(file, manyConnections(20000));
    for (const format of ['jsonl', 'zeek', 'table'] as const) {
      const off = await analyze(file, format, false);
      expect(off.connections).toBeGreaterThanOrEqual(20000);
      // the record thread alone, and the one that also read the file (for zeek: read there, nothing
      // shared)
      for (const shared of format !== 'zeek' ? (['end', 'read'] as const) : (['read'] as const)) {
        const { run, threadLines } = await analyzeSplit(file, format, false, false, shared);
        expect(run, `${format}, ${shared}`).toEqual(off);
        if (format === 'zeek') {
          expect(threadLines, `${format}: nothing shared`).toBe(0);
          continue;
        }
        // The record thread took rounds: the first goes to it (a round is END_ROUND, 1024, records).
        // How many this thread takes depends on how fast each goes (on this capture, often none):
        // the order of both is checked above. The table's rows with a named endpoint go as text.
        expect(threadLines, `${format}, ${shared}: the record thread's`).toBeGreaterThanOrEqual(1024);
        expect(threadLines).toBeLessThanOrEqual(off.connections);
      }
    }
  }, 120_000);

  for (const format of ['jsonl', 'table'] as const) {
    it(`reports the thread that read the file and would share the end, ended mid-read, as a reading error after the records before it (${format})`, async () => {
      const file = path.join(tempDir(), 'many.pcapng');
      // larger than the batches the reader may have out at once, so that it is still reading when ended
      writeFileSync(file, manyConnections(40000));
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const readWrite = require(path.join(REPO, 'dist/cli/format/read-write.js')) as typeof import('../../../src/cli/format/read-write');
      const host = readWrite.startReadWrite(file);
      const parts: Buffer[] = [];
      let ended = false;
      const r = await built.analyzeFile({ file, format, readThread: 'on' }, (c) => parts.push(Buffer.from(c)), {
        sharedEnd: true,
        host,
        // the thread is ended once the first packets have been tracked
        onProgress: () => {
          if (ended) return;
          ended = true;
          void host.worker.terminate();
        },
      });
      expect(ended).toBe(true);
      expect(r.result.error?.message).toMatch(/^cannot read .*: the reader thread failed: /);
      expect(r.result.frames).toBeGreaterThan(0);
      expect(r.connections).toBeGreaterThan(0);
      const out = Buffer.concat(parts).toString('utf8');
      if (format === 'jsonl') {
        expect(out.split('\n').length - 1).toBe(r.connections);
        return;
      }
      // the header, a row for every connection tracked before the damage, then the summary of them
      const lines = out.split('\n');
      const rows = lines.indexOf('') - 1;
      expect(rows).toBe(r.connections);
      expect(lines[rows + 2]).toMatch(new RegExp(`^${r.connections} connections \\(`));
    }, 120_000);
  }

  for (const format of ['jsonl', 'table'] as const) {
    it(`reports the thread that read a damaged file and shares its end, ended once it took a round, as its own failure (${format})`, async () => {
      const file = path.join(tempDir(), 'cut.pcapng');
      // cut inside the last block: the file is read to the damage, and every connection is left for the end
      const whole = manyConnections(6000);
      writeFileSync(file, whole.subarray(0, whole.length - 7));
      const read = await built.analyzeFile({ file, format, readThread: 'off' }, () => {});
      expect(read.result.error).not.toBeNull();
      expect(read.connections).toBeGreaterThan(1024);
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const readWrite = require(path.join(REPO, 'dist/cli/format/read-write.js')) as typeof import('../../../src/cli/format/read-write');
      const host = readWrite.startReadWrite(file);
      // the thread is ended as the end's first round is marked for it: it has taken that round
      let ended = false;
      const post = host.port.postMessage.bind(host.port);
      host.port.postMessage = (m: unknown, transfer?: readonly TransferListItem[]) => {
        post(m, transfer);
        if (!ended && (m as { type?: string }).type === 'mark') {
          ended = true;
          void host.worker.terminate();
        }
      };
      await expect(built.analyzeFile({ file, format, readThread: 'on' }, () => {}, { sharedEnd: true, host })).rejects.toThrow(/record thread/);
      expect(ended).toBe(true);
    }, 120_000);
  }
});
