import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeFrame } from '../../src/decode/decode';
import { Segment, type DecodeStatus } from '../../src/decode/segment';
import { ourFields, PI_ERROR, readPcap, theirFields, tsharkRows, type TsharkRow } from './pcap-tools';

// Public captures (Zeek's test traces) that other parts of the project test against too: many link
// types, VLANs, IPv6 extension headers, fragments, snap-length cuts, odd flags and options.
const ZEEK = path.resolve(__dirname, '../../../shared/fixtures/zeek');
const MANIFEST = path.join(ZEEK, 'manifest.tsv');
const present = fs.existsSync(MANIFEST);

/** Trace files by encapsulation, from the manifest (files with one link type per packet left out). */
function groups(): Array<[string, string[]]> {
  if (!present) return [];
  const lines = fs.readFileSync(MANIFEST, 'utf8').trim().split('\n');
  const cols = lines[0].split('\t');
  const file = cols.indexOf('file');
  const encap = cols.indexOf('encap');
  const by = new Map<string, string[]>();
  for (const l of lines.slice(1)) {
    const c = l.split('\t');
    if (c[encap] === 'per-packet') continue;
    by.set(c[encap], [...(by.get(c[encap]) ?? []), path.join(ZEEK, c[file])]);
  }
  return [...by.entries()];
}

// tshark's outermost layers for a TCP segment straight over IP (no tunnel, MPLS, PPPoE, LLC, ...):
// what this decoder is meant to read.
const PLAIN_TCP = /^(eth:ethertype:(vlan:ethertype:)*|sll:ethertype:|null:|raw:)?(ip|ipv6(:ipv6\.\w+)*):tcp(:|$)/;

const run = promisify(execFile);

describe.skipIf(!present)('public traces against tshark', () => {
  let dir = '';
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tcpscope-decode-traces-'));
  });
  afterAll(() => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it.each(groups())('%s traces: every segment we decode matches tshark, and we decode every plain one', async (encap, files) => {
    // One tshark run per link type: mergecap concatenates the traces into one microsecond pcap,
    // which is also the one format pcap-parser reads.
    const merged = path.join(dir, `${encap}.pcap`);
    await run('mergecap', ['-a', '-F', 'pcap', '-w', merged, ...files]);
    const { linkType, frames } = await readPcap(merged);
    const rows = await tsharkRows(merged);
    expect(rows.length).toBe(frames.length);

    const seg = new Segment();
    const mismatches: string[] = [];
    const missed: string[] = [];
    let plain = 0;
    frames.forEach((fr, i) => {
      const status: DecodeStatus = decodeFrame(linkType, fr.data, fr.origLen, seg);
      const r: TsharkRow = rows[i];
      const isPlain = PLAIN_TCP.test(r['frame.protocols']) && r['tcp.seq_raw'] !== '';
      if (isPlain) plain++;
      if (status === 'ok') {
        if (ourFields(seg) !== theirFields(r)) mismatches.push(`frame ${i + 1}: ours ${ourFields(seg)}, tshark ${theirFields(r)}`);
      } else if (
        isPlain &&
        // tshark reassembles IP fragments and reads on through lengths it flags as errors itself;
        // both are skipped or damage here on purpose.
        (r['ip.frag_offset'] === '' || r['ip.frag_offset'] === '0') &&
        !r.severities.some((s) => s >= PI_ERROR)
      ) {
        missed.push(`frame ${i + 1}: ${status}, tshark ${r['frame.protocols']}`);
      }
    });
    expect(mismatches).toEqual([]);
    expect(missed).toEqual([]);
    // The pattern must recognise what tshark prints for this link type, or the check above is empty.
    if (encap !== 'fddi-swapped') expect(plain).toBeGreaterThan(0);
  });
});
