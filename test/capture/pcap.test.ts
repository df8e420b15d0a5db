// Classic pcap: the thin scanner in front of pcap-parser, the nanosecond magic, both byte orders,
// and every kind of damage. Real packets come from public captures (Zeek's test traces).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { readCaptureFile } from '../../src/capture/file';
import { PcapReader } from '../../src/capture/pcap';
import { copyFrame, frameLines, pcapInfo, pcapRecords, pushAll, readAll, swapPcap, type FrameCopy } from '../support/captures';
import { TRACES } from '../support/fixtures.mjs';

const trace = (name: string) => readFileSync(path.join(TRACES, name));

/** What the records of a pcap file must read as, from an independent walker. */
function expected(buf: Buffer): FrameCopy[] {
  const info = pcapInfo(buf);
  return pcapRecords(buf).map((r) => ({
    tsSec: r.tsSec,
    tsNsec: info.nano ? r.tsFrac : r.tsFrac * 1000,
    linkType: info.linkType,
    capLen: r.capLen,
    origLen: r.origLen,
    data: Buffer.from(r.data),
  }));
}

function pcapHeader(opts: { le?: boolean; nano?: boolean; snapLen?: number; linkType?: number; major?: number } = {}): Buffer {
  const le = opts.le ?? true;
  const b = Buffer.alloc(24);
  const w32 = (v: number, o: number) => (le ? b.writeUInt32LE(v, o) : b.writeUInt32BE(v, o));
  const w16 = (v: number, o: number) => (le ? b.writeUInt16LE(v, o) : b.writeUInt16BE(v, o));
  w32(opts.nano ? 0xa1b23c4d : 0xa1b2c3d4, 0);
  w16(opts.major ?? 2, 4);
  w16(4, 6);
  w32(opts.snapLen ?? 262144, 16);
  w32(opts.linkType ?? 1, 20);
  return b;
}

function record(capLen: number, opts: { le?: boolean; sec?: number; frac?: number; origLen?: number; fill?: number } = {}): Buffer {
  const le = opts.le ?? true;
  const b = Buffer.alloc(16 + capLen, opts.fill ?? 0x5a);
  const w32 = (v: number, o: number) => (le ? b.writeUInt32LE(v, o) : b.writeUInt32BE(v, o));
  w32(opts.sec ?? 1_700_000_000, 0);
  w32(opts.frac ?? 0, 4);
  w32(capLen, 8);
  w32(opts.origLen ?? capLen, 12);
  return b;
}

describe('pcap files read by pcap-parser behind the scanner', () => {
  it('reads a microsecond capture: every record, its time, link type and bytes', async () => {
    const buf = trace('conn-size.pcap');
    const { result, frames } = await readAll(path.join(TRACES, 'conn-size.pcap'));
    expect(result).toMatchObject({ format: 'pcap', gzip: false, frames: 21, bytes: buf.length, error: null });
    expect(frames).toEqual(expected(buf));
    expect(frames[0].tsNsec % 1000).toBe(0);
  });

  it('reads a nanosecond capture (magic a1b23c4d) without losing the nanoseconds', async () => {
    const buf = trace('http/get-to-ssh-server.pcap');
    expect(pcapInfo(buf).nano).toBe(true);
    const { result, frames } = await readAll(path.join(TRACES, 'http/get-to-ssh-server.pcap'));
    expect(result).toMatchObject({ format: 'pcap-ns', frames: 9, error: null });
    expect(frames).toEqual(expected(buf));
  });

  it('keeps every digit of nanosecond timestamps, in both byte orders', () => {
    for (const le of [true, false]) {
      const file = Buffer.concat([pcapHeader({ le, nano: true }), record(40, { le, sec: 1_700_000_123, frac: 987_654_321 })]);
      const { frames, error, format } = pushAll((s) => new PcapReader(s), [file]);
      expect(error).toBeNull();
      expect(format).toBe('pcap-ns');
      expect(frames[0]).toMatchObject({ tsSec: 1_700_000_123, tsNsec: 987_654_321, capLen: 40 });
    }
  });

  it.each(['conn-size.pcap', 'http/get-to-ssh-server.pcap', 'tls/irc-starttls.pcap', 'http/connect-with-header.pcap'])(
    'reads the big-endian rewrite of %s identically',
    async (name) => {
      const le = trace(name);
      const be = swapPcap(le);
      expect(be.equals(le)).toBe(false);
      expect(pcapInfo(be).le).toBe(false);
      const a = await readAll(Readable.from([le]));
      const b = await readAll(Readable.from([be]));
      expect(b.result.error).toBeNull();
      expect(b.result.format).toBe(a.result.format);
      expect(b.frames).toEqual(a.frames);
      expect(b.frames.length).toBeGreaterThan(0);
    },
  );

  it('gives the same frames however the file is split into chunks (every split point)', () => {
    const buf = trace('http/get-to-ssh-server.pcap');
    const whole = pushAll((s) => new PcapReader(s), [buf]);
    expect(whole.error).toBeNull();
    const want = frameLines(whole.frames);
    for (let cut = 0; cut <= buf.length; cut++) {
      const two = pushAll((s) => new PcapReader(s), [buf.subarray(0, cut), buf.subarray(cut)]);
      expect(two.error, `split at ${cut}`).toBeNull();
      expect(frameLines(two.frames), `split at ${cut}`).toEqual(want);
    }
    const bytes = [...buf].map((x) => Buffer.from([x]));
    expect(frameLines(pushAll((s) => new PcapReader(s), bytes).frames)).toEqual(want);
  });

  it('delivers frames one at a time when the handler returns a promise', async () => {
    const file = path.join(TRACES, 'http/connect-with-header.pcap');
    const sync = await readAll(file);
    const seen: FrameCopy[] = [];
    let busy = false;
    let overlapped = false;
    const result = await readCaptureFile(file, async (f) => {
      if (busy) overlapped = true;
      busy = true;
      seen.push(copyFrame(f));
      await new Promise((r) => setImmediate(r));
      busy = false;
    });
    expect(overlapped).toBe(false);
    expect(result.error).toBeNull();
    expect(seen).toEqual(sync.frames);
  });
});

describe('damaged and odd pcap input', () => {
  const good = (n: number, le = true) => Array.from({ length: n }, (_, i) => record(60 + i, { le, frac: i, fill: i }));

  it('a zero-length file is an error, not an empty capture', async () => {
    const { result } = await readAll(Readable.from([Buffer.alloc(0)]));
    expect(result.error?.code).toBe('empty-file');
    expect(result.format).toBeNull();
  });

  it('a wrong magic number is named', async () => {
    const { result } = await readAll(Readable.from([Buffer.from('GET / HTTP/1.1\r\n\r\n')]));
    expect(result.error).toMatchObject({ code: 'bad-magic', offset: 0 });
    expect(result.error!.message).toContain('0x47455420');
  });

  it('a file cut inside the file header is truncated-header', async () => {
    for (const n of [2, 3, 10, 23]) {
      const { result } = await readAll(Readable.from([pcapHeader().subarray(0, n)]));
      expect(result.error?.code, `${n} bytes`).toBe('truncated-header');
    }
  });

  it('an unknown major version is refused', async () => {
    const { result } = await readAll(Readable.from([pcapHeader({ major: 3 })]));
    expect(result.error?.code).toBe('unsupported-version');
  });

  it('a header-only file is a valid empty capture', async () => {
    const { result, frames } = await readAll(Readable.from([pcapHeader()]));
    expect(result.error).toBeNull();
    expect(frames).toHaveLength(0);
  });

  it.each([true, false])('an absurd record length (0xffffffff) stops the read there, le=%s', async (le) => {
    const recs = good(3, le);
    const bad = record(0, { le });
    bad.writeUInt32LE(0xffffffff, 8);
    // Plenty of bytes after the damage: they must not be buffered waiting for the "record".
    const file = Buffer.concat([pcapHeader({ le }), ...recs, bad, Buffer.alloc(100_000)]);
    const { result, frames } = await readAll(Readable.from([file]));
    expect(frames).toHaveLength(3);
    const offset = 24 + recs.reduce((n, r) => n + r.length, 0);
    expect(result.error).toMatchObject({ code: 'record-too-large', offset, packet: 4 });
    expect(result.error!.message).toBe(
      `damaged capture at byte ${offset} (packet 4): record length 4294967295 exceeds 262144`,
    );
  });

  it('stops reading an endless stream at the damage instead of buffering it', async () => {
    const bad = record(0);
    bad.writeUInt32LE(900_000, 8);
    let produced = 0;
    const endless = new Readable({
      read() {
        if (produced === 0) this.push(Buffer.concat([pcapHeader({ snapLen: 0 }), ...good(2), bad]));
        else this.push(Buffer.alloc(65536));
        produced++;
      },
    });
    const { result, frames } = await readAll(endless);
    expect(frames).toHaveLength(2);
    expect(result.error).toMatchObject({ code: 'record-too-large', packet: 3 });
    expect(result.error!.message).toContain('record length 900000 exceeds 262144');
    expect(produced).toBeLessThan(5);
  });

  it('a record over a sane snap length is damage; an absent snap length allows up to 256 KiB', async () => {
    const small = await readAll(Readable.from([Buffer.concat([pcapHeader({ snapLen: 96 }), record(96), record(97)])]));
    expect(small.frames).toHaveLength(1);
    expect(small.result.error).toMatchObject({ code: 'record-too-large', offset: 24 + 16 + 96, packet: 2 });

    const big = record(200_000);
    for (const snapLen of [0, 0x7fffffff]) {
      const r = await readAll(Readable.from([Buffer.concat([pcapHeader({ snapLen }), big])]));
      expect(r.result.error, `snaplen ${snapLen}`).toBeNull();
      expect(r.frames[0].capLen).toBe(200_000);
    }
    const r = await readAll(Readable.from([Buffer.concat([pcapHeader({ snapLen: 0 }), record(262_145)])]));
    expect(r.result.error?.code).toBe('record-too-large');
  });

  it('a file that ends inside a record delivers every whole one first and names the cut one', async () => {
    const recs = good(4);
    const whole = Buffer.concat([pcapHeader(), ...recs]);
    const start4 = whole.length - recs[3].length;
    for (const cut of [start4 + 5, start4 + 16, whole.length - 1]) {
      const { result, frames } = await readAll(Readable.from([whole.subarray(0, cut)]));
      expect(frames, `cut ${cut}`).toHaveLength(3);
      expect(result.error, `cut ${cut}`).toMatchObject({ code: 'truncated-record', offset: start4, packet: 4 });
      expect(result.error!.message).toMatch(new RegExp(`^truncated capture at byte ${start4} \\(packet 4\\): input ends after`));
    }
  });

  it('normalises out-of-range fractions and keeps link type 0x0001 from a field with FCS bits', () => {
    const head = pcapHeader({ linkType: 0x14000001 });
    const { frames, error } = pushAll((s) => new PcapReader(s), [Buffer.concat([head, record(4, { sec: 10, frac: 2_500_000 })])]);
    expect(error).toBeNull();
    expect(frames[0]).toMatchObject({ tsSec: 12, tsNsec: 500_000_000, linkType: 1 });
  });
});
