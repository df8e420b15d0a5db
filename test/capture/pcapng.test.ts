// pcapng: the push parser on public captures (checked against tshark), big-endian rewrites,
// several sections with other timestamp resolutions built from real packets, and damage.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import type { CaptureParser, FrameSink } from '../../src/capture/parser';
import { PcapngReader } from '../../src/capture/pcapng';
import { setTimestamp, tsResolution } from '../../src/capture/pcapng-time';
import {
  epochString,
  frameLines,
  pcapngBlocks,
  pcapRecords,
  pushAll,
  readAll,
  swapPcapng,
  tsharkFrames,
  writePcapng,
  type FrameCopy,
  type NgBlockSpec,
} from '../support/captures';
import { removeTempDirs, tempDir } from '../support/temp';
import { needs, tool } from '../support/skip';
import { TRACES } from '../support/fixtures.mjs';


afterAll(removeTempDirs);
const trace = (name: string) => readFileSync(path.join(TRACES, name));

const PCAPNG_TRACES = [
  'gnutella/max-line.pcapng',
  'irc-dcc-send.pcapng',
  'ldap/gap-data-missing.pcapng',
  'ldap/missing_ldap_logs.pcapng',
  'portmapper-many-unanswered-calls.pcapng',
  'tcp/http-on-irc-port-missing-syn.pcapng',
  'tcp/retransmit-timeout.pcapng',
];

const ng = (sink: FrameSink): CaptureParser => new PcapngReader(sink);

/** Link type of every packet, from an independent walk over the blocks. */
function packetLinkTypes(buf: Buffer): number[] {
  const out: number[] = [];
  let ifaces: number[] = [];
  for (const b of pcapngBlocks(buf)) {
    const u32 = (o: number) => (b.le ? buf.readUInt32LE(b.offset + o) : buf.readUInt32BE(b.offset + o));
    const u16 = (o: number) => (b.le ? buf.readUInt16LE(b.offset + o) : buf.readUInt16BE(b.offset + o));
    if (b.type === 0x0a0d0d0a) ifaces = [];
    else if (b.type === 1) ifaces.push(u16(8));
    else if (b.type === 6) out.push(ifaces[u32(8)]);
    else if (b.type === 2) out.push(ifaces[u16(8)]);
    else if (b.type === 3) out.push(ifaces[0]);
  }
  return out;
}

/** Reference timestamp conversion, all in BigInt. */
function refTime(units: bigint, tsresol: number, offset = 0n): { tsSec: number; tsNsec: number } {
  const u = tsresol & 0x80 ? 1n << BigInt(tsresol & 0x7f) : 10n ** BigInt(tsresol);
  return { tsSec: Number(units / u + offset), tsNsec: Number(((units % u) * 1_000_000_000n) / u) };
}

describe('public pcapng captures', () => {
  it.each(PCAPNG_TRACES)('%s: every packet, with the times and lengths tshark reads', needs(tool('tshark')), async (name) => {
    const file = path.join(TRACES, name);
    const { result, frames } = await readAll(file);
    expect(result.error).toBeNull();
    expect(result.format).toBe('pcapng');
    expect(frames.map((f) => f.linkType)).toEqual(packetLinkTypes(trace(name)));
    for (const f of frames) expect(f.data.length).toBe(f.capLen);
    const ours = frames.map((f) => `${epochString(f)}\t${f.capLen}\t${f.origLen}`);
    expect(ours).toEqual(tsharkFrames(file));
  });

  it.each(PCAPNG_TRACES)('%s rewritten big-endian reads identically', needs(tool('tshark')), async (name) => {
    const le = trace(name);
    const be = swapPcapng(le);
    expect(be.subarray(8, 12).toString('hex')).toBe('1a2b3c4d');
    const a = await readAll(Readable.from([le]));
    const b = await readAll(Readable.from([be]));
    expect(b.result.error).toBeNull();
    expect(frameLines(b.frames)).toEqual(frameLines(a.frames));
    // The rewrite itself is right: tshark reads it as it reads the original.
    const f = path.join(tempDir(), 'be.pcapng');
    writeFileSync(f, be);
    expect(tsharkFrames(f)).toEqual(tsharkFrames(path.join(TRACES, name)));
  });

  it('splitting a capture at every offset, or feeding it byte by byte, changes nothing', () => {
    for (const name of ['tcp/retransmit-timeout.pcapng', 'gnutella/max-line.pcapng']) {
      const buf = trace(name);
      const want = frameLines(pushAll(ng, [buf]).frames);
      expect(want.length).toBeGreaterThan(0);
      for (let cut = 0; cut <= buf.length; cut++) {
        const r = pushAll(ng, [buf.subarray(0, cut), buf.subarray(cut)]);
        expect(r.error, `${name} split at ${cut}`).toBeNull();
        expect(frameLines(r.frames), `${name} split at ${cut}`).toEqual(want);
      }
      expect(frameLines(pushAll(ng, [...buf].map((x) => Buffer.from([x]))).frames)).toEqual(want);
    }
  });
});

/**
 * Two sections from real packets: Ethernet packets of a public pcapng capture and Linux cooked
 * packets of a public pcap capture, written with other resolutions, offsets, byte orders and
 * every packet block kind.
 */
function twoSectionFile() {
  const ethFrames = pushAll(ng, [trace('tcp/http-on-irc-port-missing-syn.pcapng')]).frames;
  const sll = pcapRecords(trace('tls/irc-starttls.pcap'));
  const expected: { tsSec: number; tsNsec: number; linkType: number; data: Buffer; origLen: number }[] = [];
  const nsUnits = (f: FrameCopy) => BigInt(f.tsSec) * 1_000_000_000n + BigInt(f.tsNsec);

  // Section 1, little-endian: nanosecond Ethernet interface, an unknown block, an obsolete
  // packet block.
  const s1: NgBlockSpec[] = [{ kind: 'idb', linkType: 1, tsresol: 9 }];
  ethFrames.slice(0, 6).forEach((f, i) => {
    // A local-use block type: tshark skips it too (it shows other unknown types as empty frames).
    if (i === 2) s1.push({ kind: 'raw', type: 0x80000bad, body: Buffer.from('a block nobody knows') });
    const kind = i === 4 ? 'pb' : 'epb';
    s1.push({ kind, iface: 0, units: nsUnits(f), data: f.data, origLen: f.origLen });
    expected.push({ ...refTime(nsUnits(f), 9), linkType: 1, data: f.data, origLen: f.origLen });
  });

  // Section 2, big-endian, new interfaces: Linux cooked at 2^-20 s with an offset of 10^9 s, and
  // Ethernet at milliseconds; a simple packet block (no time: keeps the previous one).
  const offset = 1_000_000_000n;
  const s2: NgBlockSpec[] = [
    { kind: 'idb', linkType: 113, tsresol: 0x80 | 20, tsoffset: offset },
    { kind: 'idb', linkType: 1, tsresol: 3 },
  ];
  let last = expected[expected.length - 1];
  sll.slice(0, 8).forEach((r, i) => {
    const units = ((BigInt(r.tsSec) - offset) << 20n) + (BigInt(r.tsFrac) << 20n) / 1_000_000n;
    if (i === 3) {
      s2.push({ kind: 'spb', data: r.data, origLen: r.origLen });
      expected.push({ tsSec: last.tsSec, tsNsec: last.tsNsec, linkType: 113, data: r.data, origLen: r.origLen });
      return;
    }
    s2.push({ kind: 'epb', iface: 0, units, data: r.data, origLen: r.origLen });
    last = { ...refTime(units, 0x80 | 20, offset), linkType: 113, data: r.data, origLen: r.origLen };
    expected.push(last);
  });
  const f = ethFrames[6];
  const msUnits = BigInt(f.tsSec) * 1000n + BigInt(Math.floor(f.tsNsec / 1e6));
  s2.push({ kind: 'epb', iface: 1, units: msUnits, data: f.data, origLen: f.origLen });
  expected.push({ ...refTime(msUnits, 3), linkType: 1, data: f.data, origLen: f.origLen });

  const file = writePcapng([{ blocks: s1 }, { be: true, blocks: s2 }]);
  const want = expected.map((e) =>
    frameLines([{ tsSec: e.tsSec, tsNsec: e.tsNsec, linkType: e.linkType, capLen: e.data.length, origLen: e.origLen, data: e.data }])[0],
  );
  return { file, want };
}

describe('pcapng sections, interfaces and timestamp resolutions', () => {
  it('reads two sections (LE then BE) with 2^-20 and 10^-3 resolutions, an offset and every packet block kind', needs(tool('tshark')), async () => {
    const { file, want } = twoSectionFile();
    const { result, frames } = await readAll(Readable.from([file]));
    expect(result.error).toBeNull();
    expect(frameLines(frames)).toEqual(want);
    // The 2^-20 fractions are not whole microseconds: the nanoseconds really come through.
    expect(frames.slice(6, 9).some((f) => f.tsNsec % 1000 !== 0)).toBe(true);
    const p = path.join(tempDir(), 'two-sections.pcapng');
    writeFileSync(p, file);
    expect(tsharkFrames(p).map((l) => l.split('\t').slice(1).join('\t'))).toEqual(frames.map((f) => `${f.capLen}\t${f.origLen}`));
  });

  it('the two-section file gives the same frames split at every offset', () => {
    const { file, want } = twoSectionFile();
    for (let cut = 0; cut <= file.length; cut += 3) {
      const r = pushAll(ng, [file.subarray(0, cut), file.subarray(cut)]);
      expect(r.error, `split at ${cut}`).toBeNull();
      expect(frameLines(r.frames), `split at ${cut}`).toEqual(want);
    }
  });

  it('a new section forgets the interfaces of the previous one', () => {
    const data = Buffer.alloc(60, 1);
    const file = writePcapng([
      { blocks: [{ kind: 'idb', linkType: 1 }, { kind: 'idb', linkType: 1 }, { kind: 'epb', iface: 1, units: 5n, data }] },
      { blocks: [{ kind: 'idb', linkType: 1 }, { kind: 'epb', iface: 0, units: 6n, data }, { kind: 'epb', iface: 1, units: 7n, data }] },
    ]);
    const r = pushAll(ng, [file]);
    expect(r.frames).toHaveLength(2);
    expect(r.error).toMatchObject({ code: 'unknown-interface-id', packet: 3 });
    expect(r.error!.message).toContain('packet names interface 1 but its section defines 1');
  });

  it('converts every resolution as exact integer arithmetic does', () => {
    const out = { tsSec: 0, tsNsec: 0 };
    const counts = [0n, 1n, 999_999_999n, 1_731_000_000_123_456_789n, 0xffff_ffff_ffff_ffffn, 1n << 52n, (1n << 52n) - 1n, 1_731_000_000_123_456n];
    const resolutions = [0, 1, 3, 6, 9, 10, 11, 12, 15, 19, 0x80, 0x80 | 1, 0x80 | 10, 0x80 | 20, 0x80 | 30, 0x80 | 32, 0x80 | 33, 0x80 | 40, 0x80 | 63];
    for (const tsresol of resolutions) {
      const res = tsResolution(tsresol, 0)!;
      for (const c of counts) {
        setTimestamp(out, Number(c >> 32n), Number(c & 0xffffffffn), res);
        expect({ ...out }, `count ${c}, tsresol 0x${tsresol.toString(16)}`).toEqual(refTime(c, tsresol));
      }
    }
    expect(tsResolution(20, 0)).toBeNull();
    expect(tsResolution(0x80 | 64, 0)).toBeNull();
  });
});

describe('damaged pcapng input', () => {
  const data = Buffer.alloc(54, 7);
  const base = () =>
    writePcapng([{ blocks: [{ kind: 'idb', linkType: 1, tsresol: 9 }, ...[1n, 2n, 3n].map((u): NgBlockSpec => ({ kind: 'epb', iface: 0, units: u, data }))] }]);
  /** Offset of the n-th block (0 = the section header). */
  const blockAt = (buf: Buffer, n: number) => pcapngBlocks(buf)[n].offset;

  it('a block length that is not a multiple of 4 is damage at that block', () => {
    const f = base();
    const at = blockAt(f, 3); // the second packet
    f.writeUInt32LE(f.readUInt32LE(at + 4) + 1, at + 4);
    const r = pushAll(ng, [f]);
    expect(r.frames).toHaveLength(1);
    expect(r.error).toMatchObject({ code: 'bad-block-length', offset: at, packet: 2 });
    expect(r.error!.message).toBe(`damaged capture at byte ${at} (packet 2): block length 89 is not a multiple of 4`);
  });

  it('a block length below the minimum of its type, or over the cap, is damage', () => {
    const f = base();
    const at = blockAt(f, 2);
    f.writeUInt32LE(16, at + 4);
    expect(pushAll(ng, [f]).error).toMatchObject({ code: 'bad-block-length', offset: at, packet: 1 });
    const g = base();
    g.writeUInt32LE(0xfffffffc, at + 4);
    const r = pushAll(ng, [g, Buffer.alloc(1 << 20)]);
    expect(r.frames).toHaveLength(0);
    expect(r.error).toMatchObject({ code: 'bad-block-length', offset: at, packet: 1 });
    expect(r.error!.message).toContain('block length 4294967292 exceeds 327680');
  });

  it('a trailing length that differs from the leading one is damage', () => {
    const f = base();
    const at = blockAt(f, 4);
    const len = f.readUInt32LE(at + 4);
    f.writeUInt32LE(len + 4, at + len - 4);
    const r = pushAll(ng, [f]);
    expect(r.frames).toHaveLength(2);
    expect(r.error).toMatchObject({ code: 'bad-block-length', offset: at, packet: 3 });
  });

  it('a captured length running past its block is damage; over 256 KiB is record-too-large', () => {
    const f = base();
    const at = blockAt(f, 2);
    f.writeUInt32LE(200, at + 20);
    expect(pushAll(ng, [f]).error).toMatchObject({ code: 'bad-block', offset: at, packet: 1 });
    f.writeUInt32LE(0x7fffffff, at + 20);
    expect(pushAll(ng, [f]).error).toMatchObject({ code: 'record-too-large', offset: at, packet: 1 });
  });

  it('a bad byte-order magic, a wrong version, or a first block that is no section header', () => {
    const f = base();
    f.writeUInt32LE(0x11223344, 8);
    expect(pushAll(ng, [f]).error).toMatchObject({ code: 'bad-block', offset: 0 });
    const g = base();
    g.writeUInt16LE(2, 12);
    expect(pushAll(ng, [g]).error).toMatchObject({ code: 'unsupported-version' });
    const h = base().subarray(28);
    expect(pushAll(ng, [h]).error).toMatchObject({ code: 'bad-block', offset: 0, packet: 1 });
  });

  it('interface options running past their block are damage', () => {
    const f = writePcapng([{ blocks: [{ kind: 'idb', linkType: 1, tsresol: 9 }] }]);
    const idb = blockAt(f, 1);
    f.writeUInt16LE(200, idb + 18); // the if_tsresol option's length
    expect(pushAll(ng, [f]).error).toMatchObject({ code: 'bad-block', offset: idb });
  });

  it('a file cut inside a block delivers every packet before and names the cut one', async () => {
    const f = base();
    const at = blockAt(f, 4);
    for (const cut of [at + 3, at + 12, f.length - 1]) {
      const { result, frames } = await readAll(Readable.from([f.subarray(0, cut)]));
      expect(frames, `cut ${cut}`).toHaveLength(2);
      expect(result.error, `cut ${cut}`).toMatchObject({ code: 'truncated-record', offset: at, packet: 3 });
    }
    const early = await readAll(Readable.from([f.subarray(0, 20)]));
    expect(early.result.error).toMatchObject({ code: 'truncated-header', packet: 1 });
  });

  it('skips an unknown block streamed in small pieces and still checks its trailing length', () => {
    const body = Buffer.alloc(5000, 9);
    const make = () =>
      writePcapng([
        {
          blocks: [
            { kind: 'idb', linkType: 1 },
            { kind: 'raw', type: 0x00000bad, body },
            { kind: 'epb', iface: 0, units: 1n, data },
          ],
        },
      ]);
    const pieces = (b: Buffer) => Array.from({ length: Math.ceil(b.length / 7) }, (_, i) => b.subarray(i * 7, i * 7 + 7));
    expect(pushAll(ng, pieces(make())).frames).toHaveLength(1);
    const f = make();
    const at = blockAt(f, 2);
    const len = f.readUInt32LE(at + 4);
    f.writeUInt32LE(len + 8, at + len - 4);
    const r = pushAll(ng, pieces(f));
    expect(r.frames).toHaveLength(0);
    expect(r.error).toMatchObject({ code: 'bad-block-length', offset: at, packet: 1 });
  });

  it('checks the environment: tshark reads what writePcapng writes', needs(tool('capinfos')), () => {
    const p = path.join(tempDir(), 'w.pcapng');
    writeFileSync(p, base());
    expect(execFileSync('capinfos', ['-M', '-c', p]).toString()).toMatch(/Number of packets:\s+3/);
  });
});

describe('packet block options', () => {
  const collect = (buf: Buffer) => {
    const notes: (string[] | string | null)[] = [];
    const r = new PcapngReader((f) => {
      notes.push(f.note ? [...f.note.comments, `dir=${f.note.direction}`] : null);
      return false;
    });
    // byte by byte as well as whole: the assembled path and the fast path read options alike
    r.push(buf);
    r.end();
    const slow = new PcapngReader((f) => {
      notes.push(f.note ? [...f.note.comments, `dir=${f.note.direction}`] : null);
      return false;
    });
    for (let i = 0; i < buf.length; i++) slow.push(buf.subarray(i, i + 1));
    slow.end();
    return { notes, error: r.error, slowError: slow.error, badOptions: r.badOptions };
  };

  it('reads comments and the direction flag, and nothing where a block has none', () => {
    const data = Buffer.alloc(20, 0x45);
    const buf = writePcapng([
      {
        blocks: [
          { kind: 'idb', linkType: 101 },
          { kind: 'epb', iface: 0, units: 1n, data, comments: ['PID: 1\nCmd: a', 'UserId: 0'], flags: 2 },
          { kind: 'epb', iface: 0, units: 2n, data },
          { kind: 'epb', iface: 0, units: 3n, data, flags: 1 },
        ],
      },
    ]);
    const r = collect(buf);
    expect(r.error).toBeNull();
    expect(r.slowError).toBeNull();
    const once = [['PID: 1\nCmd: a', 'UserId: 0', 'dir=out'], null, ['dir=in']];
    expect(r.notes).toEqual([...once, ...once]);
  });

  it('keeps a packet whose options run past its block, counted, and reads on', () => {
    const data = Buffer.alloc(20, 0x45);
    const buf = writePcapng([
      {
        blocks: [
          { kind: 'idb', linkType: 101 },
          { kind: 'epb', iface: 0, units: 1n, data, comments: ['hello'] },
          { kind: 'epb', iface: 0, units: 2n, data },
        ],
      },
    ]);
    // the comment's length field: after the EPB's 28 bytes of header and its 20 of data
    const blocks = pcapngBlocks(buf);
    const epb = blocks.find((b) => b.type === 6)!;
    buf.writeUInt16LE(200, epb.offset + 28 + 20 + 2);
    const r = collect(buf);
    expect(r.error).toBeNull();
    expect(r.badOptions).toBe(1);
    expect(r.notes).toEqual([null, null, null, null]);
  });
});
