// The threaded reader against the plain one: the same frames in the same order and the same
// result, on every public trace, on damaged and gzipped files, and when the consumer fails,
// pauses or aborts. The reader thread runs compiled code, so these tests use the build in dist/.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readCaptureFile, type FileReadResult } from '../../src/capture/file';
import type { Frame } from '../../src/capture/frame';
import { buildOnce, REPO } from '../cli/support';
import { FIXTURES, manifest } from '../support/fixtures';
import { removeTempDirs, tempDir } from '../support/captures';

type Threaded = typeof import('../../src/capture/file-thread');
let threaded: Threaded;
const haveTraces = existsSync(FIXTURES);
const BIG = path.join(FIXTURES, 'traces/ssh/ssh.pcap');

beforeAll(async () => {
  await buildOnce();
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  threaded = require(path.join(REPO, 'dist/capture/file-thread.js')) as Threaded;
}, 120_000);
afterAll(removeTempDirs);

/** A digest of every frame (time, link type, lengths, bytes) and their count. */
async function digest(
  read: (p: string, on: (f: Frame) => void | Promise<void>, o?: { signal?: AbortSignal }) => Promise<FileReadResult>,
  file: string,
): Promise<{ result: FileReadResult; frames: number; sha: string }> {
  const h = createHash('sha256');
  let frames = 0;
  const head = Buffer.alloc(20);
  const result = await read(file, (f) => {
    frames++;
    head.writeDoubleLE(f.tsSec, 0);
    head.writeUInt32LE(f.tsNsec, 8);
    head.writeUInt32LE(f.linkType, 12);
    head.writeUInt32LE(f.origLen, 16);
    h.update(head);
    h.update(Buffer.from([f.capLen & 0xff, f.capLen >> 8, f.data.length & 0xff, f.data.length >> 8]));
    h.update(f.data);
  });
  return { result, frames, sha: h.digest('hex') };
}

describe.skipIf(!haveTraces)('the threaded reader gives what the plain reader gives', () => {
  it('every public trace: frames, order, bytes and result', async () => {
    let n = 0;
    for (const row of manifest()) {
      const file = path.join(FIXTURES, row.file);
      const plain = await digest(readCaptureFile, file);
      const two = await digest(threaded.readCaptureFileThreaded, file);
      expect(two, row.file).toEqual(plain);
      n++;
    }
    expect(n).toBeGreaterThan(100);
  }, 120_000);

  it('damaged and gzipped files: every frame before the damage, then the same error', async () => {
    const dir = tempDir();
    const bytes = readFileSync(BIG);
    const cases: string[] = [];
    for (const cut of [10, 24, 5_000, 777_777, bytes.length - 3]) {
      const p = path.join(dir, `cut-${cut}.pcap`);
      writeFileSync(p, bytes.subarray(0, cut));
      cases.push(p);
    }
    const gz = path.join(dir, 'whole.pcap.gz');
    writeFileSync(gz, gzipSync(bytes));
    const gzCut = path.join(dir, 'cut.pcap.gz');
    writeFileSync(gzCut, gzipSync(bytes).subarray(0, 40_000));
    const junk = path.join(dir, 'junk.pcap');
    writeFileSync(junk, 'not a capture file at all');
    cases.push(gz, gzCut, junk, path.join(dir, 'missing.pcap'), dir);
    for (const p of cases) {
      const plain = await digest(readCaptureFile, p);
      const two = await digest(threaded.readCaptureFileThreaded, p);
      expect(two, p).toEqual(plain);
    }
    const cut = await digest(threaded.readCaptureFileThreaded, cases[3]);
    expect(cut.frames).toBeGreaterThan(100);
    expect(cut.result.error?.code).toMatch(/^truncated/);
  }, 60_000);
});

describe.skipIf(!haveTraces)('the consumer sets the pace and can stop it', () => {
  it('a handler that returns promises: frames stay in order and none is skipped', async () => {
    const plain = await digest(readCaptureFile, BIG);
    let n = 0;
    const seen: number[] = [];
    const r = await threaded.readCaptureFileThreaded(BIG, (f) => {
      n++;
      seen.push(f.tsSec * 1e9 + f.tsNsec);
      if (n % 500 === 0) return new Promise<void>((res) => setTimeout(res, 1));
    });
    expect(r.error).toBeNull();
    expect(n).toBe(plain.frames);
    expect(seen.every((t, i) => i === 0 || t >= seen[i - 1])).toBe(true);
  });

  it('a handler that throws: handler-error naming the packet, and nothing after it', async () => {
    let n = 0;
    const r = await threaded.readCaptureFileThreaded(BIG, () => {
      if (++n === 1234) throw new Error('boom');
    });
    expect(n).toBe(1234);
    expect(r.error).toEqual({ code: 'handler-error', packet: 1234, message: 'the frame handler failed on packet 1234: boom' });
    expect(r.frames).toBe(1234);
    expect(r.format).toBe('pcap');
  });

  it('an abort stops delivery at once and says how many packets came', async () => {
    const ac = new AbortController();
    let n = 0;
    const r = await threaded.readCaptureFileThreaded(
      BIG,
      () => {
        if (++n === 300) ac.abort();
      },
      { signal: ac.signal },
    );
    expect(n).toBe(300);
    expect(r.error).toEqual({ code: 'aborted', message: `reading ${BIG} was aborted after 300 packets` });
    expect(r.frames).toBe(300);
  });

  it('progress is reported up to the whole file', async () => {
    const calls: Array<[number, number | null]> = [];
    const r = await threaded.readCaptureFileThreaded(BIG, () => {}, { onProgress: (a, b) => calls.push([a, b]) });
    expect(r.error).toBeNull();
    const size = readFileSync(BIG).length;
    expect(calls.at(-1)).toEqual([size, size]);
    expect(calls.every(([a], i) => i === 0 || a >= calls[i - 1][0])).toBe(true);
  });
});
