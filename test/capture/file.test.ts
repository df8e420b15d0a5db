// readCaptureFile as callers use it: paths, streams, standard input, gzip, progress, abort,
// handler failures and I/O failures. Real packets come from public captures.
import { spawnSync } from 'node:child_process';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { constants as zlibConstants, gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { readCaptureFile } from '../../src/capture/file';
import { frameLines, parseReaderLines, pcapngBlocks, readAll, stdinReader } from '../support/captures';
import { removeTempDirs, tempDir } from '../support/temp';
import { trace } from '../support/fixtures.mjs';
import { IS_ROOT } from '../support/skip';


afterAll(removeTempDirs);
const PCAP = trace('http/connect-with-header.pcap');
const NG = trace('irc-dcc-send.pcapng');

describe('inputs: path, stream, standard input, gzip', () => {
  it('a stream gives the same frames as the path, in any chunking', async () => {
    const byPath = await readAll(NG);
    const buf = readFileSync(NG);
    const pieces: Buffer[] = [];
    for (let i = 0, n = 1; i < buf.length; i += n, n = 1 + ((n * 7 + 3) % 5000)) pieces.push(buf.subarray(i, i + n));
    const byStream = await readAll(Readable.from(pieces));
    expect(byStream.result).toMatchObject({ format: 'pcapng', frames: 1184, bytes: buf.length, error: null });
    expect(frameLines(byStream.frames)).toEqual(frameLines(byPath.frames));
  });

  it('reports progress against the file size', async () => {
    const calls: [number, number | null][] = [];
    const { result } = await readAll(NG, { onProgress: (a, b) => calls.push([a, b]) });
    const size = readFileSync(NG).length;
    expect(calls.length).toBeGreaterThan(1);
    expect(calls[calls.length - 1]).toEqual([size, size]);
    expect(result.bytes).toBe(size);
    for (let i = 1; i < calls.length; i++) expect(calls[i][0]).toBeGreaterThan(calls[i - 1][0]);
  });

  it.each([PCAP, NG])('reads a gzip of %s exactly as the original', async (file) => {
    const plain = await readAll(file);
    const gz = gzipSync(readFileSync(file));
    const p = path.join(tempDir(), 'capture.gz');
    writeFileSync(p, gz);
    const calls: [number, number | null][] = [];
    const zipped = await readAll(p, { onProgress: (a, b) => calls.push([a, b]) });
    expect(zipped.result).toMatchObject({ gzip: true, format: plain.result.format, bytes: gz.length, error: null });
    expect(frameLines(zipped.frames)).toEqual(frameLines(plain.frames));
    expect(calls[calls.length - 1]).toEqual([gz.length, gz.length]);
    // Also as a stream trickling in small pieces, the gzip magic split between two of them.
    const pieces = [gz.subarray(0, 1), ...Array.from({ length: Math.ceil((gz.length - 1) / 999) }, (_, i) => gz.subarray(1 + i * 999, 1 + (i + 1) * 999))];
    const trickled = await readAll(Readable.from(pieces));
    expect(frameLines(trickled.frames)).toEqual(frameLines(plain.frames));
  });

  it('a truncated gzip gives every frame that could be decompressed, then gzip-error', async () => {
    const plain = await readAll(NG);
    const gz = gzipSync(readFileSync(NG));
    for (const share of [0.05, 0.4, 0.6, 0.999]) {
      const cut = gz.subarray(0, Math.floor(gz.length * share));
      // What zlib can recover from the cut stream, and how many whole packets that holds.
      const recoverable = gunzipSync(cut, { finishFlush: zlibConstants.Z_SYNC_FLUSH });
      const whole = pcapngBlocks(recoverable).filter((b) => b.type === 6).length;
      const { result, frames } = await readAll(Readable.from([cut]));
      expect(result.gzip).toBe(true);
      expect(result.error?.code).toBe('gzip-error');
      expect(result.error!.message).toContain('the compressed data ends early');
      expect(frames.length, `cut at ${share}`).toBe(whole);
      expect(frameLines(frames)).toEqual(frameLines(plain.frames.slice(0, whole)));
    }
  });

  it('several gzip members read as one capture; trailing garbage is gzip-error', async () => {
    const buf = readFileSync(PCAP);
    const plain = await readAll(PCAP);
    const two = Buffer.concat([gzipSync(buf.subarray(0, 5000)), gzipSync(buf.subarray(5000))]);
    const r = await readAll(Readable.from([two]));
    expect(r.result.error).toBeNull();
    expect(frameLines(r.frames)).toEqual(frameLines(plain.frames));
    const junk = await readAll(Readable.from([Buffer.concat([gzipSync(buf), Buffer.from('trailing junk')])]));
    expect(junk.result.error?.code).toBe('gzip-error');
  });

  it('damaged compressed data is gzip-error; an empty gzip is empty-file', async () => {
    const gz = gzipSync(readFileSync(PCAP));
    gz.fill(0x55, 100, 200);
    const bad = await readAll(Readable.from([gz]));
    expect(bad.result.error?.code).toBe('gzip-error');
    const empty = await readAll(Readable.from([gzipSync(Buffer.alloc(0))]));
    expect(empty.result.error?.code).toBe('empty-file');
    expect(empty.result.gzip).toBe(true);
  });

  it("'-' reads standard input through a pipe, plain and gzip", async () => {
    const script = stdinReader();
    for (const [file, gzip] of [
      [PCAP, false],
      [NG, false],
      [NG, true],
    ] as const) {
      const input = gzip ? gzipSync(readFileSync(file)) : readFileSync(file);
      const run = spawnSync(process.execPath, [script], { input, maxBuffer: 64 << 20 });
      expect(run.status, run.stderr.toString()).toBe(0);
      const out = JSON.parse(run.stdout.toString());
      expect(out.result).toMatchObject({ error: null, gzip, bytes: input.length });
      const direct = await readAll(file);
      expect(out.lines.length).toBe(direct.frames.length);
      expect(frameLines(parseReaderLines(out.lines))).toEqual(frameLines(direct.frames));
    }
  });
});

describe('failures come back as values', () => {
  it('a missing file, a directory, an unreadable file: io-error naming the path', async () => {
    const dir = tempDir();
    const missing = await readAll(path.join(dir, 'nope.pcap'));
    expect(missing.result.error).toMatchObject({ code: 'io-error' });
    expect(missing.result.error!.message).toBe(`cannot read ${path.join(dir, 'nope.pcap')}: no such file or directory (ENOENT)`);
    const asDir = await readAll(dir);
    expect(asDir.result.error?.code).toBe('io-error');
    expect(asDir.result.error!.message).toContain('is a directory');
    if (!IS_ROOT) {
      const p = path.join(dir, 'locked.pcap');
      writeFileSync(p, 'x');
      chmodSync(p, 0);
      expect((await readAll(p)).result.error?.code).toBe('io-error');
    }
  });

  it('a stream that fails midway: the frames before, then io-error', async () => {
    const plain = await readAll(PCAP);
    const buf = readFileSync(PCAP);
    const s = new PassThrough();
    s.write(buf.subarray(0, 30_000));
    setTimeout(() => s.destroy(new Error('disk on fire')), 20);
    const { result, frames } = await readAll(s);
    expect(result.error).toMatchObject({ code: 'io-error' });
    expect(result.error!.message).toBe('cannot read the input stream: disk on fire');
    expect(frames.length).toBeGreaterThan(10);
    expect(frameLines(frames)).toEqual(frameLines(plain.frames.slice(0, frames.length)));
  });

  it('a handler that throws stops the read with handler-error', async () => {
    let n = 0;
    const r = await readCaptureFile(PCAP, () => {
      if (++n === 3) throw new Error('boom');
    });
    expect(r.error).toMatchObject({ code: 'handler-error', packet: 3 });
    expect(r.error!.message).toBe('the frame handler failed on packet 3: boom');
    expect(n).toBe(3);
    let m = 0;
    const r2 = await readCaptureFile(NG, async () => {
      if (++m === 5) throw new Error('later boom');
    });
    expect(r2.error).toMatchObject({ code: 'handler-error', packet: 5 });
    expect(m).toBe(5);
  });

  it('abort: before the start, and while a slow handler is waiting', async () => {
    const pre = await readCaptureFile(PCAP, () => {}, { signal: AbortSignal.abort() });
    expect(pre.error?.code).toBe('aborted');
    expect(pre.frames).toBe(0);
    for (const file of [PCAP, NG]) {
      const ac = new AbortController();
      let n = 0;
      const r = await readCaptureFile(
        file,
        async () => {
          if (++n === 10) ac.abort();
          await new Promise((res) => setImmediate(res));
        },
        { signal: ac.signal },
      );
      expect(r.error?.code).toBe('aborted');
      expect(r.frames).toBe(10);
    }
  });

  it('abort while the handler waits on a promise that never settles', async () => {
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 50);
    const r = await readCaptureFile(PCAP, () => new Promise<void>(() => {}), { signal: ac.signal });
    expect(r.error?.code).toBe('aborted');
    expect(r.frames).toBe(1);
  });

  it('a progress callback that throws stops the read with handler-error', async () => {
    for (const input of [NG, Readable.from([gzipSync(readFileSync(NG))])]) {
      const r = await readCaptureFile(input, () => {}, {
        onProgress: () => {
          throw new Error('no terminal');
        },
      });
      expect(r.error?.code).toBe('handler-error');
      expect(r.error!.message).toMatch(/^the progress callback failed on packet \d+: no terminal$/);
    }
  });

  it('a stream that already ended or failed before the call', async () => {
    const done = Readable.from([Buffer.from('d4c3b2a1', 'hex')]);
    done.resume();
    await new Promise((r) => done.once('end', r));
    expect((await readAll(done)).result.error?.code).toBe('empty-file');
    const failed = new PassThrough();
    failed.on('error', () => {});
    failed.destroy(new Error('gone'));
    await new Promise((r) => setImmediate(r));
    expect((await readAll(failed)).result.error).toMatchObject({ code: 'io-error', message: 'cannot read the input stream: gone' });
  });

  it('abort while waiting for input that never comes', async () => {
    const s = new PassThrough();
    s.write(Buffer.from('d4c3b2a1', 'hex'));
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 50);
    const r = await readCaptureFile(s, () => {}, { signal: ac.signal });
    expect(r.error?.code).toBe('aborted');
  });
});
