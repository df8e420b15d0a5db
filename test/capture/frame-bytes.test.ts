// Frame bytes handed out without a Buffer per packet: short frames are copied into one reused
// buffer, long ones are views. Checked on their own, and through both readers with a handler that
// awaits between frames (a frame must stay intact until its promise settles).
import { Readable } from 'node:stream';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readCaptureFile } from '../../src/capture/file';
import { FrameBytes } from '../../src/capture/parser';
import { writePcapng, type NgBlockSpec } from '../support/captures';

/** Bytes that differ from packet to packet and from offset to offset. */
function packet(i: number, len: number): Buffer {
  const b = Buffer.alloc(len);
  for (let j = 0; j < len; j++) b[j] = (i * 31 + j * 7 + (j >> 8)) & 0xff;
  return b;
}

/** Lengths on both sides of the copy limit, and of every remainder modulo 4. */
const LENGTHS = [0, 1, 2, 3, 4, 5, 54, 60, 66, 74, 86, 255, 256, 257, 258, 1500, 9000, 65535];

function pcapFile(packets: Buffer[]): Buffer {
  const head = Buffer.alloc(24);
  head.writeUInt32LE(0xa1b2c3d4, 0);
  head.writeUInt16LE(2, 4);
  head.writeUInt16LE(4, 6);
  head.writeUInt32LE(262144, 16);
  head.writeUInt32LE(1, 20);
  const parts: Buffer[] = [head];
  packets.forEach((p, i) => {
    const r = Buffer.alloc(16);
    r.writeUInt32LE(1_700_000_000 + i, 0);
    r.writeUInt32LE(i, 4);
    r.writeUInt32LE(p.length, 8);
    r.writeUInt32LE(p.length + 10, 12);
    parts.push(r, p);
  });
  return Buffer.concat(parts);
}

function pcapngFile(packets: Buffer[]): Buffer {
  const blocks: NgBlockSpec[] = [{ kind: 'idb', linkType: 1 }];
  packets.forEach((p, i) => blocks.push({ kind: 'epb', iface: 0, units: 1_700_000_000_000_000n + BigInt(i), data: p, origLen: p.length + 10 }));
  return writePcapng([{ blocks }]);
}

/** Splits a file into chunks of `size` bytes, so records also straddle chunks. */
function chunks(buf: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < buf.length; i += size) out.push(buf.subarray(i, i + size));
  return out;
}

describe('FrameBytes', () => {
  it('gives exactly the requested bytes at any offset and length', () => {
    const bytes = new FrameBytes();
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 700 }), fc.nat(), fc.nat(), (arr, a, b) => {
        const src = Buffer.from(arr);
        const off = src.length === 0 ? 0 : a % (src.length + 1);
        const len = b % (src.length - off + 1);
        const got = bytes.take(src, FrameBytes.view(src), off, len);
        expect(got.length).toBe(len);
        expect(Buffer.compare(got, src.subarray(off, off + len))).toBe(0);
      }),
      { numRuns: 2000 },
    );
  });

  it('works on a view into a larger buffer (byteOffset not a multiple of 4)', () => {
    const bytes = new FrameBytes();
    const whole = packet(7, 1000);
    const src = whole.subarray(3, 903);
    for (const len of LENGTHS.filter((n) => n <= 800)) {
      const got = bytes.take(src, FrameBytes.view(src), 17, len);
      expect(Buffer.compare(got, whole.subarray(20, 20 + len))).toBe(0);
    }
  });
});

describe('FrameBytes.takeWords', () => {
  it('gives exactly the requested bytes of any word-aligned, word-padded record', () => {
    const bytes = new FrameBytes();
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 1200 }), fc.nat(), fc.nat(), (arr, a, b) => {
        const src = Buffer.from(new ArrayBuffer(arr.length & ~3));
        src.set(arr.subarray(0, src.length));
        const words = new Int32Array(src.buffer, src.byteOffset, src.length >> 2);
        const at = words.length === 0 ? 0 : a % (words.length + 1);
        // the record's padding to a whole word lies inside src, as in a pcapng block
        const room = src.length - 4 * at;
        const len = b % (room + 1);
        const got = bytes.takeWords(src, words, at, len);
        expect(got.length).toBe(len);
        expect(Buffer.compare(got, src.subarray(4 * at, 4 * at + len))).toBe(0);
      }),
      { numRuns: 2000 },
    );
  });
});

describe.each([
  ['pcap', pcapFile],
  ['pcapng', pcapngFile],
] as const)('%s frames through an awaiting handler', (_name, make) => {
  it('stay intact until the handler settles, in any chunking', async () => {
    const packets = LENGTHS.map((len, i) => packet(i, len));
    const file = make(packets);
    for (const size of [file.length, 4096, 61, 7]) {
      const seen: Buffer[] = [];
      const res = await readCaptureFile(Readable.from(chunks(file, size)), async (f) => {
        const before = Buffer.from(f.data);
        await new Promise((r) => setImmediate(r));
        expect(f.data.length).toBe(f.capLen);
        expect(f.origLen).toBe(f.capLen + 10);
        expect(Buffer.compare(f.data, before)).toBe(0);
        seen.push(before);
      });
      expect(res.error).toBeNull();
      expect(seen.length).toBe(packets.length);
      seen.forEach((b, i) => expect(Buffer.compare(b, packets[i])).toBe(0));
    }
  });
});
