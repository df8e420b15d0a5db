// Captures made by real tools at test time, on lo, narrowed to this test's own ports.
// NEEDS ROOT and tcpdump, dumpcap, tshark (skipped otherwise): tcpdump µs and ns and dumpcap's
// pcapng, run at once on the same traffic, must read as the same frames; so must their
// big-endian, gzip and multi-section rewrites, `tcpdump -i any` (Linux cooked v2), IPv6 on ::1,
// and `tcpdump -w -` piped into a reader of standard input.
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  captureTogether,
  dumpcapSpec,
  epochString,
  frameLines,
  ipLayer,
  onPort,
  parseReaderLines,
  readAll,
  startTool,
  stdinReader,
  swapPcap,
  swapPcapng,
  tcpdumpArgs,
  tcpdumpSpec,
  tsharkFrames,
  typicalTraffic,
  writePcapng,
  type FrameCopy,
  type NgBlockSpec,
} from '../support/captures';
import { removeTempDirs, tempDir } from '../support/temp';
import { met, needs, root, tool } from '../support/skip';


afterAll(removeTempDirs);
/** Root to capture on lo, and the tools each capture is compared with. */
const CAPTURE = [root(), tool('tcpdump'), tool('dumpcap'), tool('tshark')];
const RUN = met(...CAPTURE);

/**
 * Separate capture processes see the same packets, but Linux stamps each packet socket's copy when
 * it delivers it (TCP's own skb time is a monotonic departure time a packet socket cannot use), so
 * their times differ by a few microseconds. Same count and IP-layer bytes; times within 1 ms.
 * Exact agreement across formats is checked on conversions of one capture (see editcap below).
 */
function expectSameTraffic(a: FrameCopy[], b: FrameCopy[], what: string): void {
  expect(b.length, `${what}: frame count`).toBe(a.length);
  const ip = (fs: FrameCopy[]) => fs.map((f) => createHash('sha1').update(ipLayer(f)).digest('hex'));
  expect(ip(b), `${what}: IP-layer bytes`).toEqual(ip(a));
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs((b[i].tsSec - a[i].tsSec) * 1e9 + (b[i].tsNsec - a[i].tsNsec));
    worst = Math.max(worst, d);
  }
  console.log(`${what}: ${a.length} frames, largest time difference ${(worst / 1000).toFixed(1)} µs`);
  expect(worst, `${what}: time difference (ns)`).toBeLessThan(1_000_000);
}

function expectAsTshark(file: string, frames: FrameCopy[]): void {
  expect(frames.map((f) => `${epochString(f)}\t${f.capLen}\t${f.origLen}`)).toEqual(tsharkFrames(file));
}

describe('real captures of loopback traffic', needs(...CAPTURE), () => {
  const dir = RUN ? tempDir() : '';
  const files = {
    us: path.join(dir, 'tcpdump-us.pcap'),
    ns: path.join(dir, 'tcpdump-ns.pcap'),
    ng: path.join(dir, 'dumpcap.pcapng'),
    any: path.join(dir, 'tcpdump-any.pcap'),
  };
  let port = 0;
  const read: Record<string, { all: FrameCopy[]; mine: FrameCopy[]; format: string | null }> = {};

  beforeAll(async () => {
    ({ port } = await captureTogether(
      '127.0.0.1',
      [
        tcpdumpSpec('tcpdump µs', files.us),
        tcpdumpSpec('tcpdump ns', files.ns, { nano: true }),
        dumpcapSpec('dumpcap', files.ng),
        tcpdumpSpec('tcpdump any', files.any, { iface: 'any' }),
      ],
      (p) => typicalTraffic('127.0.0.1', p),
    ));
    for (const [k, f] of Object.entries(files)) {
      const { result, frames } = await readAll(f);
      expect(result.error, f).toBeNull();
      read[k] = { all: frames, mine: onPort(frames, port), format: result.format };
    }
  }, 120_000);

  it('each file reads completely, in its format, as tshark reads it', () => {
    expect(read.us.format).toBe('pcap');
    expect(read.ns.format).toBe('pcap-ns');
    expect(read.ng.format).toBe('pcapng');
    for (const k of Object.keys(files) as (keyof typeof files)[]) expectAsTshark(files[k], read[k].all);
    // Four connections of at least 7 packets, and segments bigger than a 64 KiB read chunk's share.
    expect(read.us.mine.length).toBeGreaterThan(28);
    expect(Math.max(...read.us.mine.map((f) => f.capLen))).toBeGreaterThan(16_000);
  });

  it('tcpdump µs, tcpdump ns and dumpcap pcapng yield the same frames', () => {
    expect(read.us.mine.every((f) => f.linkType === 1)).toBe(true);
    expectSameTraffic(read.us.mine, read.ns.mine, 'tcpdump ns vs µs');
    expectSameTraffic(read.us.mine, read.ng.mine, 'dumpcap vs tcpdump µs');
    // The nanosecond captures keep digits a microsecond file cannot hold.
    expect(read.ns.mine.some((f) => f.tsNsec % 1000 !== 0)).toBe(true);
    expect(read.ng.mine.some((f) => f.tsNsec % 1000 !== 0)).toBe(true);
  });

  it('editcap conversions of the nanosecond capture read with times agreeing to the µs and ns', async () => {
    const conv = (format: string) => {
      const out = path.join(dir, `editcap.${format}`);
      execFileSync('editcap', ['-F', format, files.ns, out]);
      return out;
    };
    const ns = read.ns.all;
    const asNg = await readAll(conv('pcapng'));
    const asUs = await readAll(conv('pcap'));
    const asNs = await readAll(conv('nsecpcap'));
    expect(asNg.result).toMatchObject({ format: 'pcapng', error: null });
    expect(asUs.result).toMatchObject({ format: 'pcap', error: null });
    expect(asNs.result).toMatchObject({ format: 'pcap-ns', error: null });
    expect(frameLines(asNg.frames)).toEqual(frameLines(ns));
    expect(frameLines(asNs.frames)).toEqual(frameLines(ns));
    const us = (f: FrameCopy) => `${f.tsSec}.${String(Math.floor(f.tsNsec / 1000)).padStart(6, '0')}`;
    expect(asUs.frames.map(us)).toEqual(ns.map(us));
    expect(asUs.frames.map((f) => ipLayer(f).toString('base64'))).toEqual(ns.map((f) => ipLayer(f).toString('base64')));
  });

  it('tcpdump -i any (Linux cooked v2, link type 276) sees the same packets', () => {
    expect(read.any.mine.every((f) => f.linkType === 276)).toBe(true);
    expectSameTraffic(read.us.mine, read.any.mine, 'tcpdump -i any vs -i lo');
  });

  it('big-endian rewrites of the real pcap and pcapng files read identically', async () => {
    for (const [k, swap] of [
      ['us', swapPcap],
      ['ns', swapPcap],
      ['any', swapPcap],
      ['ng', swapPcapng],
    ] as const) {
      const be = swap(readFileSync(files[k]));
      const { result, frames } = await readAll(Readable.from([be]));
      expect(result.error, k).toBeNull();
      expect(frameLines(frames), k).toEqual(frameLines(read[k].all));
    }
  });

  it('gzip of the real captures reads identically', async () => {
    for (const k of ['us', 'ng'] as const) {
      const p = path.join(dir, `${k}.gz`);
      writeFileSync(p, gzipSync(readFileSync(files[k])));
      const { result, frames } = await readAll(p);
      expect(result).toMatchObject({ gzip: true, error: null, format: read[k].format });
      expect(frameLines(frames)).toEqual(frameLines(read[k].all));
    }
  });

  it('two pcapng sections from the real packets: 2^-24 resolution with an offset, then big-endian cooked v2', async () => {
    const ns = read.ns.mine;
    const any = read.any.mine;
    const offset = BigInt(ns[0].tsSec);
    const s1: NgBlockSpec[] = [{ kind: 'idb', linkType: 1, tsresol: 0x80 | 24, tsoffset: offset }];
    const s2: NgBlockSpec[] = [{ kind: 'idb', linkType: 276, tsresol: 9 }];
    const want: string[] = [];
    for (const f of ns) {
      const units = ((BigInt(f.tsSec) - offset) << 24n) + (BigInt(f.tsNsec) << 24n) / 1_000_000_000n;
      s1.push({ kind: 'epb', iface: 0, units, data: f.data, origLen: f.origLen });
      const tsSec = Number((units >> 24n) + offset);
      const tsNsec = Number(((units & 0xffffffn) * 1_000_000_000n) >> 24n);
      want.push(frameLines([{ ...f, tsSec, tsNsec }])[0]);
    }
    for (const f of any) {
      s2.push({ kind: 'epb', iface: 0, units: BigInt(f.tsSec) * 1_000_000_000n + BigInt(f.tsNsec), data: f.data, origLen: f.origLen });
      want.push(frameLines([f])[0]);
    }
    const file = path.join(dir, 'two-sections.pcapng');
    writeFileSync(file, writePcapng([{ blocks: s1 }, { be: true, blocks: s2 }]));
    const { result, frames } = await readAll(file);
    expect(result.error).toBeNull();
    expect(frameLines(frames)).toEqual(want);
    // 2^-24 s is about 60 ns: times stay within that of the originals.
    for (let i = 0; i < ns.length; i++) {
      const d = (frames[i].tsSec - ns[i].tsSec) * 1e9 + frames[i].tsNsec - ns[i].tsNsec;
      // floor to 2^-24 s, then floor to ns: under 1e9 / 2^24 + 1 ns.
      expect(Math.abs(d)).toBeLessThan(61);
    }
    expect(tsharkFrames(file)).toHaveLength(ns.length + any.length);
  });
});

describe('IPv6 on ::1', needs(...CAPTURE), () => {
  it('tcpdump and dumpcap read the same IPv6 frames', async () => {
    const dir = tempDir();
    const us = path.join(dir, 'v6.pcap');
    const ng = path.join(dir, 'v6.pcapng');
    const { port } = await captureTogether('::1', [tcpdumpSpec('tcpdump', us), dumpcapSpec('dumpcap', ng)], (p) =>
      typicalTraffic('::1', p),
    );
    const a = await readAll(us);
    const b = await readAll(ng);
    expect(a.result.error).toBeNull();
    expect(b.result.error).toBeNull();
    expectAsTshark(us, a.frames);
    expectAsTshark(ng, b.frames);
    const mine = onPort(a.frames, port);
    expect(mine.length).toBeGreaterThan(28);
    const loopback6 = '00000000000000000000000000000001';
    for (const f of mine) {
      const ip = ipLayer(f);
      expect(ip[0] >> 4).toBe(6);
      expect(ip.toString('hex', 8, 24)).toBe(loopback6);
      expect(ip.toString('hex', 24, 40)).toBe(loopback6);
    }
    expectSameTraffic(mine, onPort(b.frames, port), 'dumpcap vs tcpdump on ::1');
  }, 120_000);
});

describe('tcpdump -w - piped into a reader of standard input', needs(...CAPTURE), () => {
  it('reads the live pipe as tcpdump -w FILE records the same traffic', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'file.pcap');
    const script = stdinReader();
    let output = '';
    let readerDone: Promise<number | null> = Promise.resolve(null);
    const { port } = await captureTogether(
      '127.0.0.1',
      [tcpdumpSpec('tcpdump -w file', file)],
      (p) => typicalTraffic('127.0.0.1', p),
      [
        (filter) => {
          const tool = startTool('tcpdump -w -', 'tcpdump', tcpdumpArgs('lo', filter, '-'), 'pipe');
          const reader = spawn(process.execPath, [script], { stdio: [tool.proc.stdout!, 'pipe', 'inherit'] });
          reader.stdout.on('data', (d) => (output += d));
          readerDone = new Promise((resolve) => reader.on('exit', (code) => resolve(code)));
          return tool;
        },
      ],
    );
    expect(await readerDone).toBe(0);
    const out = JSON.parse(output) as { result: { error: unknown; format: string }; lines: string[] };
    expect(out.result).toMatchObject({ error: null, format: 'pcap' });
    const fromFile = await readAll(file);
    const fromPipe = parseReaderLines(out.lines);
    const mine = onPort(fromFile.frames, port);
    expect(mine.length).toBeGreaterThan(28);
    expectSameTraffic(mine, onPort(fromPipe, port), 'tcpdump -w - | reader vs tcpdump -w FILE');
  }, 120_000);
});
