// Helpers to make real captures at test time (tcpdump, dumpcap on lo, narrowed to our own ports),
// to read them back, and to rewrite real captures into the variants the readers must also accept
// (other byte order, several pcapng sections, other timestamp resolutions).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { Readable } from 'node:stream';
import ts from 'typescript';
import { readCaptureFile, type FileReadResult } from '../../src/capture/file';
import type { Frame } from '../../src/capture/frame';
import type { CaptureParser, FrameSink } from '../../src/capture/parser';
import { tempDir } from './temp';
import { sleep, WaitAborted, waitFor } from './wait';

export function fileSize(p: string): number {
  try {
    return statSync(p).size;
  } catch {
    return 0;
  }
}

// ---------------------------------------------------------------------------------------------
// Capture tools

export interface RunningTool {
  name: string;
  proc: ChildProcess;
  stderr(): string;
  /** SIGINT, then wait for the exit (tools flush their output on SIGINT). */
  stop(): Promise<void>;
}

export function startTool(name: string, cmd: string, args: string[], stdout: 'ignore' | 'pipe' = 'ignore'): RunningTool {
  const proc = spawn(cmd, args, { stdio: ['ignore', stdout, 'pipe'] });
  let err = '';
  proc.stderr!.on('data', (d) => (err += d));
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  return {
    name,
    proc,
    stderr: () => err,
    stop: async () => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGINT');
      const killer = setTimeout(() => proc.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(killer);
    },
  };
}

/** A capture tool writing to a file: how to start it for a given BPF filter. */
export interface ToolSpec {
  name: string;
  out: string;
  cmd: string;
  args(filter: string): string[];
}

/**
 * tcpdump arguments for a complete capture of loopback traffic. `-U --immediate-mode` so every
 * packet is written at once (none is left in the ring on SIGINT). Immediate mode gives every ring
 * slot the snap length, so the default 2 MiB ring holds 7 packets of 256 KiB and a burst of 64 KiB
 * loopback segments overflows it: a 70000-byte snap length (loopback frames are at most 65550) and
 * a 32 MiB ring (`-B`, KiB) hold several hundred.
 */
export function tcpdumpArgs(iface: string, filter: string, out: string, extra: string[] = []): string[] {
  return ['-i', iface, '-n', '-s', '70000', '-B', '32768', '-U', '--immediate-mode', ...extra, '-w', out, filter];
}

/** tcpdump, µs or ns timestamps; `-Z root` because it would drop to a user that cannot write our temporary directory. */
export function tcpdumpSpec(name: string, out: string, opts: { iface?: string; nano?: boolean } = {}): ToolSpec {
  const extra = ['-Z', 'root', ...(opts.nano ? ['--time-stamp-precision=nano'] : [])];
  return { name, out, cmd: 'tcpdump', args: (filter) => tcpdumpArgs(opts.iface ?? 'lo', filter, out, extra) };
}

/** dumpcap writing pcapng (its default format), with a 32 MiB ring (`-B`, MiB). */
export function dumpcapSpec(name: string, out: string, iface = 'lo'): ToolSpec {
  return { name, out, cmd: 'dumpcap', args: (filter) => ['-i', iface, '-q', '-B', '32', '-f', filter, '-w', out] };
}

/** Packets a stopped tool says the kernel dropped (tcpdump's and dumpcap's summary lines); null if it did not say. */
export function droppedByKernel(stderr: string): number | null {
  const t = /(\d+) packets? dropped by kernel/.exec(stderr);
  if (t) return Number(t[1]);
  const d = /received\/dropped on interface '[^']*': \d+\/(\d+)/.exec(stderr);
  if (d) return Number(d[1]);
  return null;
}

// ---------------------------------------------------------------------------------------------
// Traffic

export interface EchoServer {
  port: number;
  close(): Promise<void>;
}

/** A TCP server that echoes what it gets and closes when the client does. */
export async function echoServer(host: string): Promise<EchoServer> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer({ allowHalfOpen: true }, (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
    s.pipe(s);
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** One connection: sends each payload, waits for its echo, then closes from the client side. */
export function exchange(host: string, port: number, sizes: number[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const c = net.connect({ host, port, allowHalfOpen: true });
    let i = 0;
    let want = 0;
    const sendNext = () => {
      if (i === sizes.length) {
        c.end();
        return;
      }
      want = sizes[i];
      c.write(Buffer.alloc(sizes[i], 0x41 + (i % 26)));
      i++;
    };
    c.on('connect', sendNext);
    c.on('data', (d) => {
      want -= d.length;
      if (want <= 0) sendNext();
    });
    c.on('end', () => c.end());
    c.on('close', () => resolve());
    c.on('error', reject);
  });
}

/** The traffic the real-capture tests record: small and large exchanges, a few at once. */
export async function typicalTraffic(host: string, port: number): Promise<void> {
  await Promise.all([
    exchange(host, port, [10, 200, 1400]),
    exchange(host, port, [5000]),
    exchange(host, port, [300_000]),
    exchange(host, port, [1, 2, 3, 4]),
  ]);
}

/**
 * Starts every tool on the same filter (our port and a probe port), waits until each one is really
 * capturing (probe connections until each output file has grown), runs the traffic, makes sure the
 * last packets were written (another probe, then quiet), and stops the tools.
 * Frames on the probe port must be ignored by the caller (see `onPort`).
 */
export async function captureTogether(
  host: '127.0.0.1' | '::1',
  specs: ToolSpec[],
  traffic: (port: number) => Promise<void>,
  /** Tools that write elsewhere (a pipe): started first, ready when they print "listening on". */
  others: ((filter: string) => RunningTool)[] = [],
): Promise<{ port: number; probePort: number }> {
  const server = await echoServer(host);
  const probe = await echoServer(host);
  // The host too: other processes on this machine may use the same port numbers on the other family.
  const filter = `tcp and host ${host} and (port ${server.port} or port ${probe.port})`;
  const piped = others.map((start) => start(filter));
  const tools = [...piped, ...specs.map((s) => startTool(s.name, s.cmd, s.args(filter)))];
  try {
    await waitFor(
      'piped capture tools to start',
      () => {
        for (const t of piped) if (t.proc.exitCode !== null) throw new WaitAborted(`${t.name} exited: ${t.stderr()}`);
        return piped.every((t) => /listening on/.test(t.stderr()));
      },
      10_000,
    );
    const base = new Map<string, number>();
    await waitFor(
      'capture files to be created',
      () => {
        for (const t of tools) if (t.proc.exitCode !== null) throw new WaitAborted(`${t.name} exited: ${t.stderr()}`);
        return specs.every((s) => fileSize(s.out) > 0);
      },
      10_000,
    );
    for (const s of specs) base.set(s.out, fileSize(s.out));
    await probeUntilGrown(host, probe.port, specs, base);
    await traffic(server.port);
    for (const s of specs) base.set(s.out, fileSize(s.out));
    await probeUntilGrown(host, probe.port, specs, base);
    // dumpcap writes in batches; wait until no file grows any more.
    let sizes = specs.map((s) => fileSize(s.out)).join();
    for (;;) {
      await sleep(700);
      const now = specs.map((s) => fileSize(s.out)).join();
      if (now === sizes) break;
      sizes = now;
    }
  } finally {
    await Promise.all(tools.map((t) => t.stop()));
    await server.close();
    await probe.close();
  }
  // Tools that lost packets did not record the same traffic; comparing them would prove nothing.
  for (const t of tools) {
    const dropped = droppedByKernel(t.stderr());
    if (dropped === null) throw new Error(`${t.name} printed no capture summary: ${t.stderr()}`);
    if (dropped > 0) throw new Error(`${t.name}: the kernel dropped ${dropped} packets: ${t.stderr()}`);
  }
  return { port: server.port, probePort: probe.port };
}

async function probeUntilGrown(host: string, port: number, specs: ToolSpec[], base: Map<string, number>): Promise<void> {
  const t0 = Date.now();
  for (;;) {
    await exchange(host, port, [1]);
    const deadline = Date.now() + 300;
    while (Date.now() < deadline) {
      if (specs.every((s) => fileSize(s.out) > base.get(s.out)!)) return;
      await sleep(25);
    }
    if (Date.now() - t0 > 15_000) {
      const late = specs.filter((s) => fileSize(s.out) <= base.get(s.out)!).map((s) => s.name);
      throw new Error(`capture tools not writing probe packets: ${late.join(', ')}`);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Standard input

/**
 * Compiles the capture readers to plain JavaScript in a temporary directory and writes a script
 * that reads '-' (standard input) and prints what it read, so a real pipe can feed it.
 */
export function stdinReader(): string {
  const root = path.resolve(__dirname, '../..');
  const out = tempDir('tcpscope-stdin-reader-');
  mkdirSync(path.join(out, 'capture'));
  mkdirSync(path.join(out, 'decode'));
  const pcapParser = JSON.stringify(path.join(root, 'node_modules', 'pcap-parser'));
  const modules = [
    ...['file', 'chunk-puller', 'errors', 'frame', 'parser', 'pcap', 'pcapng', 'pcapng-time'].map((n) => `capture/${n}`),
    // the one module of decode the readers use (the host's byte order)
    'decode/bytes',
  ];
  for (const name of modules) {
    const src = readFileSync(path.join(root, 'src', `${name}.ts`), 'utf8');
    const js = ts.transpileModule(src, {
      compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
    }).outputText.replace(`require('pcap-parser')`, `require(${pcapParser})`);
    writeFileSync(path.join(out, `${name}.js`), js);
  }
  const script = path.join(out, 'read-stdin.js');
  writeFileSync(
    script,
    `const { readCaptureFile } = require('./capture/file.js');
const lines = [];
readCaptureFile('-', (f) => {
  lines.push(f.tsSec + '.' + String(f.tsNsec).padStart(9, '0') + ' lt=' + f.linkType + ' cap=' + f.capLen + ' orig=' + f.origLen + ' ' + f.data.toString('hex'));
}).then((r) => process.stdout.write(JSON.stringify({ result: r, lines })));
`,
  );
  return script;
}

/** Frames from the lines the standard-input reader prints (`ts lt=N cap=N orig=N HEX`). */
export function parseReaderLines(lines: string[]): FrameCopy[] {
  return lines.map((l) => {
    const [ts, lt, cap, orig, hex] = l.split(' ');
    const [sec, nsec] = ts.split('.');
    return {
      tsSec: Number(sec),
      tsNsec: Number(nsec),
      linkType: Number(lt.slice(3)),
      capLen: Number(cap.slice(4)),
      origLen: Number(orig.slice(5)),
      data: Buffer.from(hex, 'hex'),
    };
  });
}

// ---------------------------------------------------------------------------------------------
// Reading frames back

export interface FrameCopy {
  tsSec: number;
  tsNsec: number;
  linkType: number;
  capLen: number;
  origLen: number;
  data: Buffer;
}

export function copyFrame(f: Frame): FrameCopy {
  return {
    tsSec: f.tsSec,
    tsNsec: f.tsNsec,
    linkType: f.linkType,
    capLen: f.capLen,
    origLen: f.origLen,
    data: Buffer.from(f.data),
  };
}

/** Feeds a push parser the chunks, then ends it; frames are copied as they come. */
export function pushAll(make: (sink: FrameSink) => CaptureParser, chunks: Buffer[]): { frames: FrameCopy[]; error: CaptureParser['error']; format: CaptureParser['format'] } {
  const frames: FrameCopy[] = [];
  const p = make((f) => {
    frames.push(copyFrame(f));
    return false;
  });
  for (const c of chunks) p.push(c);
  p.end();
  return { frames, error: p.error, format: p.format };
}

export async function readAll(
  input: string | Readable,
  opts?: Parameters<typeof readCaptureFile>[2],
): Promise<{ result: FileReadResult; frames: FrameCopy[] }> {
  const frames: FrameCopy[] = [];
  const result = await readCaptureFile(input, (f) => void frames.push(copyFrame(f)), opts);
  return { result, frames };
}

/** Where the IP header starts for the link types our captures use. */
export function ipOffset(linkType: number): number {
  switch (linkType) {
    case 0: // BSD loopback
      return 4;
    case 1: // Ethernet
      return 14;
    case 101: // raw IP
      return 0;
    case 113: // Linux cooked v1
      return 16;
    case 276: // Linux cooked v2
      return 20;
    default:
      throw new Error(`no IP offset known for link type ${linkType}`);
  }
}

export function ipLayer(f: FrameCopy): Buffer {
  return f.data.subarray(ipOffset(f.linkType));
}

/** Source and destination TCP ports of an IPv4 or IPv6 (no extension headers) packet. */
export function tcpPorts(ip: Buffer): [number, number] | null {
  const v = ip[0] >> 4;
  let off: number;
  if (v === 4) {
    if (ip[9] !== 6) return null;
    off = (ip[0] & 0x0f) * 4;
  } else if (v === 6) {
    if (ip[6] !== 6) return null;
    off = 40;
  } else return null;
  if (ip.length < off + 4) return null;
  return [ip.readUInt16BE(off), ip.readUInt16BE(off + 2)];
}

export function onPort(frames: FrameCopy[], port: number): FrameCopy[] {
  return frames.filter((f) => {
    const p = tcpPorts(ipLayer(f));
    return p !== null && (p[0] === port || p[1] === port);
  });
}

/** Frame times as tshark prints frame.time_epoch with nanosecond precision. */
export function epochString(f: { tsSec: number; tsNsec: number }): string {
  return `${f.tsSec}.${String(f.tsNsec).padStart(9, '0')}`;
}

const tsharkSeen = new Map<string, string[]>();

/** tshark's view of a capture: one line per frame, `epoch<TAB>caplen<TAB>len` (remembered per file version). */
export function tsharkFrames(file: string): string[] {
  const st = statSync(file);
  const key = `${file}\0${st.size}\0${st.mtimeMs}`;
  const seen = tsharkSeen.get(key);
  if (seen) return seen;
  const out = execFileSync(
    'tshark',
    ['-r', file, '-n', '-T', 'fields', '-e', 'frame.time_epoch', '-e', 'frame.cap_len', '-e', 'frame.len'],
    { maxBuffer: 256 * 1024 * 1024, stdio: ['ignore', 'pipe', 'ignore'] },
  ).toString();
  const lines = out.split('\n').filter((l) => l !== '');
  tsharkSeen.set(key, lines);
  return lines;
}

// ---------------------------------------------------------------------------------------------
// pcap: independent record walker and byte-order rewriting

export interface PcapRecord {
  /** Offset of the 16-byte record header. */
  offset: number;
  tsSec: number;
  tsFrac: number;
  capLen: number;
  origLen: number;
  data: Buffer;
}

export function pcapInfo(buf: Buffer): { le: boolean; nano: boolean; linkType: number; snapLen: number } {
  const m = buf.readUInt32LE(0);
  const le = m === 0xa1b2c3d4 || m === 0xa1b23c4d;
  const mm = le ? m : buf.readUInt32BE(0);
  if (mm !== 0xa1b2c3d4 && mm !== 0xa1b23c4d) throw new Error('not a pcap file');
  const u32 = (o: number) => (le ? buf.readUInt32LE(o) : buf.readUInt32BE(o));
  return { le, nano: mm === 0xa1b23c4d, snapLen: u32(16), linkType: u32(20) };
}

export function pcapRecords(buf: Buffer): PcapRecord[] {
  const { le } = pcapInfo(buf);
  const u32 = (o: number) => (le ? buf.readUInt32LE(o) : buf.readUInt32BE(o));
  const out: PcapRecord[] = [];
  let p = 24;
  while (p + 16 <= buf.length) {
    const capLen = u32(p + 8);
    if (p + 16 + capLen > buf.length) break;
    out.push({ offset: p, tsSec: u32(p), tsFrac: u32(p + 4), capLen, origLen: u32(p + 12), data: buf.subarray(p + 16, p + 16 + capLen) });
    p += 16 + capLen;
  }
  return out;
}

function swap16(b: Buffer, o: number): void {
  b.writeUInt16BE(b.readUInt16LE(o), o);
}
function swap32(b: Buffer, o: number): void {
  b.writeUInt32BE(b.readUInt32LE(o), o);
}
function swap64(b: Buffer, o: number): void {
  b.subarray(o, o + 8).reverse();
}

/** The same pcap file with every header field in the other byte order. */
export function swapPcap(src: Buffer): Buffer {
  const b = Buffer.from(src);
  const recs = pcapRecords(src);
  swap32(b, 0);
  swap16(b, 4);
  swap16(b, 6);
  for (const o of [8, 12, 16, 20]) swap32(b, o);
  for (const r of recs) for (let i = 0; i < 16; i += 4) swap32(b, r.offset + i);
  return b;
}

// ---------------------------------------------------------------------------------------------
// pcapng: independent block walker, byte-order rewriting and a writer

export interface PcapngBlock {
  offset: number;
  type: number;
  length: number;
  le: boolean;
}

export function pcapngBlocks(buf: Buffer): PcapngBlock[] {
  const out: PcapngBlock[] = [];
  let le = true;
  let p = 0;
  while (p + 12 <= buf.length) {
    if (buf.readUInt32LE(p) === 0x0a0d0d0a) le = buf.readUInt32LE(p + 8) === 0x1a2b3c4d;
    const type = le ? buf.readUInt32LE(p) : buf.readUInt32BE(p);
    const length = le ? buf.readUInt32LE(p + 4) : buf.readUInt32BE(p + 4);
    if (length < 12 || p + length > buf.length) break;
    out.push({ offset: p, type, length, le });
    p += length;
  }
  return out;
}

/** How each option's value is laid out, per block type: 'b' bytes, or integer widths to swap. */
type OptionLayout = 'b' | 16 | 32 | 64 | '32x2' | 'pen';
const COMMON_OPTIONS: Record<number, OptionLayout> = { 1: 'b', 2988: 'pen', 2989: 'pen', 19372: 'pen', 19373: 'pen' };
const OPTION_LAYOUT: Record<number, Record<number, OptionLayout>> = {
  0x0a0d0d0a: { 2: 'b', 3: 'b', 4: 'b' },
  1: { 2: 'b', 3: 'b', 4: 'b', 5: 'b', 6: 'b', 7: 'b', 8: 64, 9: 'b', 10: 32, 11: 'b', 12: 'b', 13: 'b', 14: 64, 15: 'b', 16: 64, 17: 64 },
  2: { 2: 32, 3: 'b' },
  6: { 2: 32, 3: 'b', 4: 64, 5: 64, 6: 32, 7: 'b' },
  5: { 2: '32x2', 3: '32x2', 4: 64, 5: 64, 6: 64, 7: 64, 8: 64 },
  4: { 2: 'b', 3: 'b', 4: 'b' },
};

function swapOptions(b: Buffer, from: number, to: number, type: number): void {
  let p = from;
  while (p + 4 <= to) {
    const code = b.readUInt16LE(p);
    const len = b.readUInt16LE(p + 2);
    swap16(b, p);
    swap16(b, p + 2);
    if (code === 0) return;
    const layout = OPTION_LAYOUT[type]?.[code] ?? COMMON_OPTIONS[code];
    if (layout === undefined) throw new Error(`no layout for option ${code} of block type ${type}`);
    const v = p + 4;
    if (layout === 16) swap16(b, v);
    else if (layout === 32 || layout === 'pen') swap32(b, v);
    else if (layout === 64) swap64(b, v);
    else if (layout === '32x2') {
      swap32(b, v);
      swap32(b, v + 4);
    }
    p += 4 + ((len + 3) & ~3);
  }
}

/** The same little-endian pcapng file with every block rewritten in big-endian order. */
export function swapPcapng(src: Buffer): Buffer {
  const b = Buffer.from(src);
  for (const blk of pcapngBlocks(src)) {
    if (!blk.le) throw new Error('swapPcapng expects a little-endian file');
    const o = blk.offset;
    const end = o + blk.length - 4;
    swap32(b, o);
    swap32(b, o + 4);
    swap32(b, end);
    const pad = (n: number) => (n + 3) & ~3;
    switch (blk.type) {
      case 0x0a0d0d0a:
        swap32(b, o + 8);
        swap16(b, o + 12);
        swap16(b, o + 14);
        swap64(b, o + 16);
        swapOptions(b, o + 24, end, blk.type);
        break;
      case 1:
        swap16(b, o + 8);
        swap16(b, o + 10);
        swap32(b, o + 12);
        swapOptions(b, o + 16, end, blk.type);
        break;
      case 6: {
        const capLen = src.readUInt32LE(o + 20);
        for (let i = 8; i < 28; i += 4) swap32(b, o + i);
        swapOptions(b, o + 28 + pad(capLen), end, blk.type);
        break;
      }
      case 2: {
        const capLen = src.readUInt32LE(o + 20);
        swap16(b, o + 8);
        swap16(b, o + 10);
        for (let i = 12; i < 28; i += 4) swap32(b, o + i);
        swapOptions(b, o + 28 + pad(capLen), end, blk.type);
        break;
      }
      case 3:
        swap32(b, o + 8);
        break;
      case 5:
        for (let i = 8; i < 20; i += 4) swap32(b, o + i);
        swapOptions(b, o + 20, end, blk.type);
        break;
      case 4: {
        // Name resolution records (type, length, address and names as bytes), then options.
        let p = o + 8;
        for (;;) {
          const type = src.readUInt16LE(p);
          const len = src.readUInt16LE(p + 2);
          swap16(b, p);
          swap16(b, p + 2);
          p += 4 + pad(len);
          if (type === 0) break;
        }
        swapOptions(b, p, end, blk.type);
        break;
      }
      default:
        throw new Error(`swapPcapng: no rule for block type ${blk.type}`);
    }
  }
  return b;
}

export type NgBlockSpec =
  | { kind: 'idb'; linkType: number; snapLen?: number; tsresol?: number; tsoffset?: bigint }
  | { kind: 'epb' | 'pb'; iface: number; units: bigint; data: Buffer; origLen?: number; comments?: string[]; flags?: number }
  | { kind: 'spb'; data: Buffer; origLen?: number }
  | { kind: 'raw'; type: number; body: Buffer };

export interface NgSectionSpec {
  be?: boolean;
  blocks: NgBlockSpec[];
}

/** Writes a pcapng file, section by section, from the specs (an independent writer for tests). */
export function writePcapng(sections: NgSectionSpec[]): Buffer {
  const parts: Buffer[] = [];
  for (const sec of sections) {
    const be = sec.be ?? false;
    const w = new BlockWriter(be);
    parts.push(w.block(0x0a0d0d0a, [w.u32(0x1a2b3c4d), w.u16(1), w.u16(0), w.i64(-1n), w.opt(0, Buffer.alloc(0))]));
    for (const b of sec.blocks) {
      if (b.kind === 'idb') {
        const opts: Buffer[] = [];
        if (b.tsresol !== undefined) opts.push(w.opt(9, Buffer.from([b.tsresol])));
        if (b.tsoffset !== undefined) opts.push(w.opt(14, w.i64(b.tsoffset)));
        if (opts.length) opts.push(w.opt(0, Buffer.alloc(0)));
        parts.push(w.block(1, [w.u16(b.linkType), w.u16(0), w.u32(b.snapLen ?? 262144), ...opts]));
      } else if (b.kind === 'epb' || b.kind === 'pb') {
        const hi = Number(b.units >> 32n);
        const lo = Number(b.units & 0xffffffffn);
        const id = b.kind === 'epb' ? w.u32(b.iface) : Buffer.concat([w.u16(b.iface), w.u16(0)]);
        const opts = (b.comments ?? []).map((c) => w.opt(1, Buffer.from(c, 'utf8')));
        if (b.flags !== undefined) opts.push(w.opt(2, w.u32(b.flags)));
        if (opts.length) opts.push(w.opt(0, Buffer.alloc(0)));
        parts.push(
          w.block(b.kind === 'epb' ? 6 : 2, [id, w.u32(hi), w.u32(lo), w.u32(b.data.length), w.u32(b.origLen ?? b.data.length), w.padded(b.data), ...opts]),
        );
      } else if (b.kind === 'spb') {
        parts.push(w.block(3, [w.u32(b.origLen ?? b.data.length), w.padded(b.data)]));
      } else if (b.kind === 'raw') {
        parts.push(w.block(b.type, [w.padded(b.body)]));
      }
    }
  }
  return Buffer.concat(parts);
}

class BlockWriter {
  constructor(private readonly be: boolean) {}
  u16(v: number): Buffer {
    const b = Buffer.alloc(2);
    if (this.be) b.writeUInt16BE(v);
    else b.writeUInt16LE(v);
    return b;
  }
  u32(v: number): Buffer {
    const b = Buffer.alloc(4);
    if (this.be) b.writeUInt32BE(v >>> 0);
    else b.writeUInt32LE(v >>> 0);
    return b;
  }
  i64(v: bigint): Buffer {
    const b = Buffer.alloc(8);
    if (this.be) b.writeBigInt64BE(v);
    else b.writeBigInt64LE(v);
    return b;
  }
  padded(data: Buffer): Buffer {
    return Buffer.concat([data, Buffer.alloc(((data.length + 3) & ~3) - data.length)]);
  }
  opt(code: number, value: Buffer): Buffer {
    return Buffer.concat([this.u16(code), this.u16(value.length), this.padded(value)]);
  }
  block(type: number, body: Buffer[]): Buffer {
    const inner = Buffer.concat(body);
    const len = 12 + inner.length;
    return Buffer.concat([this.u32(type), this.u32(len), inner, this.u32(len)]);
  }
}

/** One line per frame (time, link type, lengths, digest of the bytes): cheap to compare, short in a diff. */
export function frameLines(frames: FrameCopy[]): string[] {
  return frames.map(
    (f) =>
      `${epochString(f)} lt=${f.linkType} cap=${f.capLen} orig=${f.origLen} len=${f.data.length} sha1=${createHash('sha1').update(f.data).digest('hex').slice(0, 16)}`,
  );
}

/** An IPv4 TCP packet (LINKTYPE_RAW); the decoder does not check checksums. */
export function rawTcp(src: string, sport: number, dst: string, dport: number, flags: number, seq: number, ack: number, payload = Buffer.alloc(0)): Buffer {
  const b = Buffer.alloc(40 + payload.length);
  b[0] = 0x45;
  b.writeUInt16BE(b.length, 2);
  b[8] = 64;
  b[9] = 6;
  src.split('.').forEach((x, i) => (b[12 + i] = Number(x)));
  dst.split('.').forEach((x, i) => (b[16 + i] = Number(x)));
  b.writeUInt16BE(sport, 20);
  b.writeUInt16BE(dport, 22);
  b.writeUInt32BE(seq >>> 0, 24);
  b.writeUInt32BE(ack >>> 0, 28);
  b[32] = 5 << 4;
  b[33] = flags;
  b.writeUInt16BE(65535, 34);
  payload.copy(b, 40);
  return b;
}
