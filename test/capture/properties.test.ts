// Properties of the capture readers, checked with fast-check on random and on real input:
// random bytes never throw or hang; chunking never changes the frames; a cut-off capture gives
// every frame before the cut and names the packet that was cut; timestamps are exact.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readCaptureFile } from '../../src/capture/file';
import type { CaptureParser, FrameSink } from '../../src/capture/parser';
import { PcapReader } from '../../src/capture/pcap';
import { PcapngReader } from '../../src/capture/pcapng';
import { setTimestamp, TimestampClock, tsResolution } from '../../src/capture/pcapng-time';
import { frameLines, pcapngBlocks, pcapRecords, pushAll, readAll } from '../support/captures';
import { TRACES } from '../support/fixtures.mjs';

const REAL = [
  'conn-size.pcap',
  'http/get-to-ssh-server.pcap',
  'tls/irc-starttls.pcap',
  'http/connect-with-header.pcap',
  'gnutella/max-line.pcapng',
  'tcp/retransmit-timeout.pcapng',
  'ldap/gap-data-missing.pcapng',
];
const files = REAL.map((name) => ({ name, buf: readFileSync(path.join(TRACES, name)) }));

const isNg = (b: Buffer) => b.length >= 4 && b.readUInt32LE(0) === 0x0a0d0d0a;
const makeParser = (b: Buffer, sink: FrameSink): CaptureParser => (isNg(b) ? new PcapngReader(sink) : new PcapReader(sink));

/** The frames (as frameLines) and error of a push parser fed the chunks of `file`. */
function pushLines(file: Buffer, chunks: Buffer[]) {
  const r = pushAll((sink) => makeParser(file, sink), chunks);
  return { frames: frameLines(r.frames), error: r.error };
}

/** Split points (sorted, deduplicated) → chunks covering the whole buffer. */
function split(buf: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (buf.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let prev = 0;
  for (const p of points) {
    out.push(buf.subarray(prev, p));
    prev = p;
  }
  out.push(buf.subarray(prev));
  return out;
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return Promise.race([p, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`${what} hung`)), ms))]);
}

const HEADERS: Record<string, Buffer> = {
  none: Buffer.alloc(0),
  pcapLE: Buffer.from('d4c3b2a102000400000000000000000000000400' + '01000000', 'hex'),
  pcapBE: Buffer.from('a1b2c3d400020004000000000000000000040000' + '00000001', 'hex'),
  pcapNs: Buffer.from('4d3cb2a102000400000000000000000000000400' + '01000000', 'hex'),
  pcapngLE: Buffer.from('0a0d0d0a1c0000004d3c2b1a01000000ffffffffffffffff1c000000', 'hex'),
  pcapngBE: Buffer.from('0a0d0d0a0000001c1a2b3c4d00010000ffffffffffffffff0000001c', 'hex'),
};

describe('random input', () => {
  it('never throws or hangs, and always resolves with a result', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...Object.keys(HEADERS)),
        fc.uint8Array({ maxLength: 3000 }),
        fc.array(fc.nat(), { maxLength: 6 }),
        async (head, body, cuts) => {
          const buf = Buffer.concat([HEADERS[head], Buffer.from(body)]);
          let n = 0;
          const r = await withTimeout(
            readCaptureFile(Readable.from(split(buf, cuts)), (f) => {
              n++;
              if (f.data.length !== f.capLen) throw new Error('capLen and data disagree');
            }),
            5000,
            'readCaptureFile',
          );
          expect(r.frames).toBe(n);
          expect(r.error === null || typeof r.error.code === 'string').toBe(true);
          if (r.error?.code === 'handler-error') throw new Error(r.error.message);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('the push parsers never throw on random chunks after a valid header', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('pcapLE', 'pcapBE', 'pcapNs', 'pcapngLE', 'pcapngBE'),
        fc.array(fc.uint8Array({ maxLength: 200 }), { maxLength: 20 }),
        (head, chunks) => {
          const file = HEADERS[head];
          const r = pushLines(file, [file, ...chunks.map((c) => Buffer.from(c))]);
          expect(r.error === null || typeof r.error.message === 'string').toBe(true);
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('real captures', () => {
  it('any split into chunks gives the frames of one chunk (push parsers directly)', () => {
    for (const { name, buf } of files) {
      const whole = pushLines(buf, [buf]);
      expect(whole.error, name).toBeNull();
      fc.assert(
        fc.property(fc.array(fc.nat(), { maxLength: 40 }), (cuts) => {
          const r = pushLines(buf, split(buf, cuts));
          expect(r.error).toBeNull();
          expect(r.frames).toEqual(whole.frames);
        }),
        { numRuns: 60 },
      );
    }
  });

  it('any split into chunks gives the frames of one chunk (through a stream)', async () => {
    for (const { name, buf } of files) {
      const whole = frameLines((await readAll(Readable.from([buf]))).frames);
      await fc.assert(
        fc.asyncProperty(fc.array(fc.nat(), { maxLength: 40 }), async (cuts) => {
          const r = await readAll(Readable.from(split(buf, cuts)));
          expect(r.result.error, name).toBeNull();
          expect(frameLines(r.frames)).toEqual(whole);
        }),
        { numRuns: 25 },
      );
    }
  });

  it('a capture cut anywhere gives every frame before the cut and names the cut packet', async () => {
    for (const { name, buf } of files) {
      const all = frameLines((await readAll(Readable.from([buf]))).frames);
      const expect_ = truncationOracle(buf);
      await fc.assert(
        fc.asyncProperty(fc.integer({ min: 0, max: buf.length }), async (cut) => {
          const want = expect_(cut);
          const r = await readAll(Readable.from([buf.subarray(0, cut)]));
          expect(frameLines(r.frames), `${name} cut at ${cut}`).toEqual(all.slice(0, want.frames));
          if (want.code === null) expect(r.result.error, `${name} cut at ${cut}`).toBeNull();
          else {
            expect(r.result.error?.code, `${name} cut at ${cut}`).toBe(want.code);
            if (want.code === 'truncated-record') {
              expect(r.result.error, `${name} cut at ${cut}`).toMatchObject({ packet: want.frames + 1, offset: want.offset });
            }
          }
        }),
        { numRuns: 150 },
      );
    }
  });

  it('random damage to a real capture never throws and frames stay self-consistent', async () => {
    for (const { buf } of files.filter((f) => f.buf.length < 30_000)) {
      await fc.assert(
        fc.asyncProperty(fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }), async (hits) => {
          const b = Buffer.from(buf);
          for (const [at, v] of hits) b[at % b.length] = v;
          const r = await withTimeout(
            readCaptureFile(Readable.from([b]), (f) => {
              if (f.data.length !== f.capLen || f.capLen > 262144) throw new Error('inconsistent frame');
              if (f.tsNsec < 0 || f.tsNsec > 999_999_999) throw new Error(`tsNsec ${f.tsNsec}`);
            }),
            5000,
            'readCaptureFile',
          );
          if (r.error?.code === 'handler-error') throw new Error(r.error.message);
        }),
        { numRuns: 100 },
      );
    }
  });
});

/** For a cut at `cut` bytes: how many frames come out, and which error (from independent walkers). */
function truncationOracle(buf: Buffer): (cut: number) => { frames: number; code: string | null; offset?: number } {
  const ng = isNg(buf);
  // Record or block boundaries, with how many packets lie wholly before each.
  const ends: { start: number; end: number; packets: number }[] = [];
  if (ng) {
    let packets = 0;
    for (const b of pcapngBlocks(buf)) {
      if (b.type === 6 || b.type === 3 || b.type === 2) packets++;
      ends.push({ start: b.offset, end: b.offset + b.length, packets });
    }
  } else {
    pcapRecords(buf).forEach((r, i) => ends.push({ start: r.offset, end: r.offset + 16 + r.capLen, packets: i + 1 }));
  }
  const headerEnd = ng ? ends[0].end : 24;
  return (cut) => {
    if (cut === 0) return { frames: 0, code: 'empty-file' };
    if (cut < headerEnd) return { frames: 0, code: 'truncated-header' };
    let packets = 0;
    for (const e of ends) {
      if (e.end <= cut) {
        packets = e.packets;
        continue;
      }
      if (e.start >= cut) break;
      return { frames: packets, code: 'truncated-record', offset: e.start };
    }
    return { frames: packets, code: null };
  };
}

describe('timestamps', () => {
  it('any 64-bit count at any resolution converts exactly (BigInt reference)', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
        fc.oneof(fc.integer({ min: 0, max: 19 }), fc.integer({ min: 0x80, max: 0x80 + 63 })),
        fc.bigInt({ min: -(1n << 40n), max: 1n << 40n }),
        (count, tsresol, offset) => {
          const res = tsResolution(tsresol, Number(offset))!;
          const out = { tsSec: 0, tsNsec: 0 };
          setTimestamp(out, Number(count >> 32n), Number(count & 0xffffffffn), res);
          const u = tsresol & 0x80 ? 1n << BigInt(tsresol & 0x7f) : 10n ** BigInt(tsresol);
          const sec = count / u + offset;
          // Seconds beyond 2^53 (year 285 million) cannot be exact in a double.
          if (sec < 1n << 53n && sec > -(1n << 53n)) expect(out.tsSec).toBe(Number(sec));
          else expect(Math.abs(out.tsSec / Number(sec) - 1)).toBeLessThan(1e-15);
          expect(out.tsNsec).toBe(Number(((count % u) * 1_000_000_000n) / u));
        },
      ),
      // seconds past 2^53 before a negative offset brings them back under it
      { numRuns: 3000, examples: [[9007201106373763000n, 3, -1851632772n]] },
    );
  });

  it('the clock that remembers the last second converts every count as setTimestamp does', () => {
    // runs of counts close together (the same second, the next, across a change of the high half,
    // back in time) at a few resolutions, interfaces switching between them
    const resolutions = [6, 9, 4, 3, 0x80 | 20, 12].map((r, i) => tsResolution(r, i === 1 ? 1_000_000 : 0)!);
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: (1n << 63n) - 1n }),
        fc.array(fc.tuple(fc.bigInt({ min: -(1n << 33n), max: 1n << 33n }), fc.nat(resolutions.length - 1), fc.boolean()), { maxLength: 60 }),
        (first, steps) => {
          const clock = new TimestampClock();
          let count = first;
          let cur = 0;
          for (const [step, r, small] of steps) {
            // a small step stays on the interface (the resolution) of the count before
            count += small ? step % 3000n : step;
            if (!small) cur = r;
            if (count < 0n || count >= 1n << 64n) count = first;
            const hi = Number(count >> 32n);
            const lo = Number(count & 0xffffffffn);
            const want = { tsSec: 0, tsNsec: 0 };
            const got = { tsSec: 0, tsNsec: 0 };
            setTimestamp(want, hi, lo, resolutions[cur]);
            clock.set(got, hi, lo, resolutions[cur]);
            expect(got).toEqual(want);
          }
        },
      ),
      { numRuns: 2000, examples: [[(1n << 32n) - 5n, [[3n, 0, true], [3n, 0, true], [-6n, 0, true], [1_000_000n, 0, false]]]] },
    );
  });
});
