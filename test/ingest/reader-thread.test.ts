// The reader thread against reading and decoding on one thread: the same decoded frames in the
// same order and the same result, on every public trace, on damaged and gzipped files, and when
// the consumer fails, pauses or aborts. The reader thread runs compiled code, so these tests use
// the build in dist/.
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readCaptureFile, type FileReadResult } from '../../src/capture/file';
import { frameTimeMs } from '../../src/capture/frame';
import { decodeFrame } from '../../src/decode/decode';
import { addrString, Segment, type DecodeStatus } from '../../src/decode/segment';
import type { DecodedHandler } from '../../src/ingest/reader-thread';
import { buildOnce, REPO } from '../cli/support';
import { FIXTURES, manifest } from '../support/fixtures.mjs';
import { removeTempDirs, tempDir } from '../support/temp';

type Threaded = typeof import('../../src/ingest/reader-thread');
let threaded: Threaded;
const BIG = path.join(FIXTURES, 'traces/ssh/ssh.pcap');

beforeAll(async () => {
  await buildOnce();
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  threaded = require(path.join(REPO, 'dist/ingest/reader-thread.js')) as Threaded;
}, 120_000);
afterAll(removeTempDirs);

/** One decoded frame as text: every field a Segment carries besides the payload bytes. */
function line(ts: number, origLen: number, status: DecodeStatus, s: Segment): string {
  const head = `${ts} ${origLen} ${status}`;
  if (status !== 'ok') return head;
  return [
    head,
    addrString(s.buf, s.srcOff, s.family),
    addrString(s.buf, s.dstOff, s.family),
    s.tcpOff - s.srcOff, // the IP header's length, less the address offset: Zeek's IP byte counts read it
    s.srcPort, s.dstPort, s.seq, s.ack, s.flags, s.window, s.urgent, s.headerLen, s.payloadLen,
    s.capturedPayloadLen, s.ttl, s.encapDepth, s.mss, s.wscale, s.sackPermitted, s.sackCount,
    s.hasTimestamps, s.tsVal, s.tsEcr, s.optionsMalformed, s.optionsTruncated,
  ].join(' ');
}

interface Digest {
  result: FileReadResult;
  frames: number;
  sha: string;
}

function hasher(): { on: DecodedHandler; done: (result: FileReadResult) => Digest } {
  const h = createHash('sha256');
  let frames = 0;
  return {
    on: (ts, origLen, status, seg) => {
      frames++;
      h.update(line(ts, origLen, status, seg) + '\n');
    },
    done: (result) => ({ result, frames, sha: h.digest('hex') }),
  };
}

/** Reading and decoding on this thread, as `analyze --read-thread off` does. */
async function oneThread(file: string): Promise<Digest> {
  const d = hasher();
  const seg = new Segment();
  const r = await readCaptureFile(file, (f) => d.on(frameTimeMs(f), f.origLen, decodeFrame(f.linkType, f.data, f.origLen, seg), seg));
  return d.done(r);
}

async function twoThreads(file: string, opts: Parameters<Threaded['readDecodedThreaded']>[2] = {}): Promise<Digest> {
  const d = hasher();
  return d.done(await threaded.readDecodedThreaded(file, d.on, opts));
}

describe('the reader thread gives what one thread gives', () => {
  it('every public trace, decoded in either thread: each frame alike, in order, and the same result', async () => {
    let n = 0;
    let segments = 0;
    for (const row of manifest()) {
      const file = path.join(FIXTURES, row.file);
      const plain = await oneThread(file);
      expect(await twoThreads(file, { decode: 'reader' }), row.file).toEqual(plain);
      expect(await twoThreads(file, { decode: 'main' }), row.file).toEqual(plain);
      n++;
      segments += plain.frames;
    }
    expect(n).toBeGreaterThan(100);
    expect(segments).toBeGreaterThan(10_000);
  }, 180_000);

  it('balancing moves decoding between the threads batch by batch without changing a frame', async () => {
    const plain = await oneThread(BIG);
    // small batches: many switches; a slow consumer makes the reader wait (and decode) at times
    let n = 0;
    const d = hasher();
    const r = await threaded.readDecodedThreaded(
      BIG,
      (ts, len, st, seg) => {
        d.on(ts, len, st, seg);
        if (++n % 200 === 0) return new Promise<void>((res) => setTimeout(res, 2));
      },
      { decode: 'balance', batchBytes: 16 * 1024 },
    );
    expect(d.done(r)).toEqual(plain);
    expect(await twoThreads(BIG, { decode: 'balance', batchBytes: 4096 })).toEqual(plain);
  });

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
      const plain = await oneThread(p);
      const two = await twoThreads(p);
      expect(two, p).toEqual(plain);
    }
    const cut = await twoThreads(cases[3]);
    expect(cut.frames).toBeGreaterThan(100);
    expect(cut.result.error?.code).toMatch(/^truncated/);
  }, 60_000);
});

describe('the consumer sets the pace and can stop it', () => {
  it('a handler that returns promises: frames stay in order and none is skipped', async () => {
    const plain = await oneThread(BIG);
    let n = 0;
    const seen: number[] = [];
    const r = await threaded.readDecodedThreaded(BIG, (ts) => {
      n++;
      seen.push(ts);
      if (n % 500 === 0) return new Promise<void>((res) => setTimeout(res, 1));
    });
    expect(r.error).toBeNull();
    expect(n).toBe(plain.frames);
    expect(seen.every((t, i) => i === 0 || t >= seen[i - 1])).toBe(true);
  });

  it('a handler that throws: handler-error naming the packet, and nothing after it', async () => {
    let n = 0;
    const r = await threaded.readDecodedThreaded(BIG, () => {
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
    const r = await threaded.readDecodedThreaded(
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
    const r = await threaded.readDecodedThreaded(BIG, () => {}, { onProgress: (a, b) => calls.push([a, b]) });
    expect(r.error).toBeNull();
    const size = readFileSync(BIG).length;
    expect(calls.at(-1)).toEqual([size, size]);
    expect(calls.every(([a], i) => i === 0 || a >= calls[i - 1][0])).toBe(true);
  });
});
