import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface PcapFrame {
  data: Buffer;
  origLen: number;
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

export const TSHARK_FIELDS = [
  'frame.protocols',
  'tcp.srcport',
  'tcp.dstport',
  'tcp.seq_raw',
  'tcp.ack_raw',
  'tcp.flags',
  'tcp.window_size_value',
  'tcp.len',
  'ip.frag_offset',
  '_ws.expert.severity',
] as const;

type Field = (typeof TSHARK_FIELDS)[number];

/** One frame as tshark dissects it: each field's first occurrence ('' where absent), and every
 * expert-info severity it raised. */
export type TsharkRow = Record<Exclude<Field, '_ws.expert.severity'>, string> & { severities: number[] };

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
      TSHARK_FIELDS.forEach((f, i) => {
        const v = cols[i] ?? '';
        if (f === '_ws.expert.severity') row.severities = v === '' ? [] : v.split(',').map(Number);
        else row[f] = v.split(',')[0];
      });
      return row;
    });
}

/** Our segment's fields in the form tshark prints them. */
export function ourFields(seg: {
  srcPort: number; dstPort: number; seq: number; ack: number; flags: number; window: number; payloadLen: number;
}): string {
  return [seg.srcPort, seg.dstPort, seg.seq, seg.ack, seg.flags, seg.window, seg.payloadLen].join(' ');
}

/** tshark's row in the same form; the flags keep the nine defined bits (our decoder drops the
 * three reserved ones). */
export function theirFields(r: TsharkRow): string {
  const flags = r['tcp.flags'] === '' ? '' : String(parseInt(r['tcp.flags'], 16) & 0x1ff);
  return [r['tcp.srcport'], r['tcp.dstport'], r['tcp.seq_raw'], r['tcp.ack_raw'], flags, r['tcp.window_size_value'], r['tcp.len']].join(' ');
}
