import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { addrString } from '../../src/decode/segment';

const run = promisify(execFile);

export interface PcapFrame {
  data: Buffer;
  origLen: number;
  /** Seconds since 1970 (fractional); frame i is stamped 1 700 000 000 + i s when absent. */
  ts?: number;
}

interface PcapParser {
  on(ev: 'globalHeader', f: (h: { linkLayerType: number }) => void): PcapParser;
  on(ev: 'packet', f: (p: { header: { originalLength: number }; data: Buffer }) => void): PcapParser;
  on(ev: 'end', f: () => void): PcapParser;
  on(ev: 'error', f: (e: Error) => void): PcapParser;
}

// pcap-parser ships no types; this is the little of it the tests use.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const pcapParser: { parse(path: string): PcapParser } = require('pcap-parser');

/** Every frame of a microsecond pcap file, read with pcap-parser (independent of our own readers). */
export function readPcap(file: string): Promise<{ linkType: number; frames: PcapFrame[] }> {
  return new Promise((resolve, reject) => {
    let linkType = -1;
    const frames: PcapFrame[] = [];
    pcapParser
      .parse(file)
      .on('globalHeader', (h) => (linkType = h.linkLayerType))
      .on('packet', (p) => frames.push({ data: Buffer.from(p.data), origLen: p.header.originalLength }))
      .on('error', reject)
      .on('end', () => resolve({ linkType, frames }));
  });
}

/** `frames` as a microsecond pcap file of one link type. */
export function pcapBytes(linkType: number, frames: PcapFrame[]): Buffer {
  const head = Buffer.alloc(24);
  head.writeUInt32LE(0xa1b2c3d4, 0);
  head.writeUInt16LE(2, 4);
  head.writeUInt16LE(4, 6);
  head.writeUInt32LE(262144, 16);
  head.writeUInt32LE(linkType, 20);
  const parts: Buffer[] = [head];
  frames.forEach((f, i) => {
    const ts = f.ts ?? 1_700_000_000 + i;
    const rec = Buffer.alloc(16);
    rec.writeUInt32LE(Math.floor(ts), 0);
    rec.writeUInt32LE(Math.round((ts % 1) * 1e6), 4);
    rec.writeUInt32LE(f.data.length, 8);
    rec.writeUInt32LE(f.origLen, 12);
    parts.push(rec, f.data);
  });
  return Buffer.concat(parts);
}

/** Writes `frames` as a microsecond pcap file of one link type. */
export function writePcap(file: string, linkType: number, frames: PcapFrame[]): void {
  writeFileSync(file, pcapBytes(linkType, frames));
}

export const TSHARK_FIELDS = [
  'frame.protocols',
  'ip.src',
  'ip.dst',
  'ipv6.src',
  'ipv6.dst',
  'tcp.srcport',
  'tcp.dstport',
  'tcp.seq_raw',
  'tcp.ack_raw',
  'tcp.flags',
  'tcp.window_size_value',
  'tcp.len',
  'ip.frag_offset',
  'ip.flags.mf',
  'ip.id',
  '_ws.expert.severity',
] as const;

type Field = (typeof TSHARK_FIELDS)[number];

/** One frame as tshark dissects it: each field's first occurrence ('' where absent), every
 * expert-info severity it raised, and the addresses of the IP header the first TCP header rides in
 * (the innermost one when the packet is tunnelled). */
export type TsharkRow = Record<Exclude<Field, '_ws.expert.severity'>, string> & { severities: number[]; src: string; dst: string };

/** tshark's expert-info severity for errors (PI_ERROR). */
export const PI_ERROR = 0x00800000;

/** What tshark says about each frame of `file`, one row per frame in file order. */
export async function tsharkRows(file: string): Promise<TsharkRow[]> {
  const args = ['-r', file, '-n', '-T', 'fields', '-E', 'separator=/t', '-E', 'occurrence=a', '-E', 'aggregator=,'];
  for (const f of TSHARK_FIELDS) args.push('-e', f);
  const { stdout } = await run('tshark', args, { maxBuffer: 512 * 1024 * 1024 });
  return stdout
    .split('\n')
    .filter((l) => l.length > 0)
    .map((line) => {
      const cols = line.split('\t');
      const row = { severities: [] as number[] } as unknown as TsharkRow;
      const all: Partial<Record<Field, string[]>> = {};
      TSHARK_FIELDS.forEach((f, i) => {
        const v = cols[i] ?? '';
        all[f] = v === '' ? [] : v.split(',');
        if (f === '_ws.expert.severity') row.severities = v === '' ? [] : v.split(',').map(Number);
        else row[f] = v.split(',')[0];
      });
      // The IP layer right before the first 'tcp' in the protocol stack, and how many of its kind
      // come before it: that occurrence of its address fields is the TCP segment's.
      const layers = row['frame.protocols'].split(':');
      const tcpAt = layers.indexOf('tcp');
      const before = tcpAt < 0 ? [] : layers.slice(0, tcpAt);
      const lastIp = Math.max(before.lastIndexOf('ip'), before.lastIndexOf('ipv6'));
      row.src = row.dst = '';
      if (lastIp >= 0) {
        const v = before[lastIp] as 'ip' | 'ipv6';
        const k = before.filter((l) => l === v).length - 1;
        row.src = all[`${v}.src`]?.[k] ?? '';
        row.dst = all[`${v}.dst`]?.[k] ?? '';
      }
      return row;
    });
}

/** Our segment's fields in the form tshark prints them. */
export function ourFields(seg: {
  buf: Buffer; family: 4 | 6; srcOff: number; dstOff: number;
  srcPort: number; dstPort: number; seq: number; ack: number; flags: number; window: number; payloadLen: number;
}): string {
  const src = addrString(seg.buf, seg.srcOff, seg.family);
  const dst = addrString(seg.buf, seg.dstOff, seg.family);
  return [src, dst, seg.srcPort, seg.dstPort, seg.seq, seg.ack, seg.flags, seg.window, seg.payloadLen].join(' ');
}

/** tshark's row in the same form; the flags keep the nine defined bits (our decoder drops the
 * three reserved ones). */
export function theirFields(r: TsharkRow): string {
  const flags = r['tcp.flags'] === '' ? '' : String(parseInt(r['tcp.flags'], 16) & 0x1ff);
  return [r.src, r.dst, r['tcp.srcport'], r['tcp.dstport'], r['tcp.seq_raw'], r['tcp.ack_raw'], flags, r['tcp.window_size_value'], r['tcp.len']].join(' ');
}
