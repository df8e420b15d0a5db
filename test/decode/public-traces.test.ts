// Every public capture under test/fixtures is read and decoded, and each TCP packet's ports, raw
// sequence and acknowledgement numbers and flags are compared with what tshark decoded from the same
// file (the `.tshark.csv` beside each capture). tshark is the truth here, not our own numbers.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readCaptureFile } from '../../src/capture/file';
import { decodeFrame } from '../../src/decode/decode';
import { isDecodeError, Segment, SKIP_CODES, type DecodeStatus } from '../../src/decode/segment';
import { FIXTURES, manifest, parseCsv, tsharkFlagBits } from '../support/fixtures.mjs';

/**
 * Captures whose TCP packets we do not decode, on purpose, with the reason. Everything else must
 * decode every packet tshark sees as TCP, with equal fields.
 */
const NOT_DECODED: Record<string, { codes: DecodeStatus[]; why: string }> = {
  'traces/tcp/truncated-header.pcap': {
    codes: ['truncated-tcp'],
    why: 'snap length 68 cuts some TCP headers (damaged on purpose)',
  },
  'traces/quic/383379789-decrypt-crash.pcap': {
    codes: ['bad-ip-version', 'bad-ip-total-length'],
    why: 'made by a fuzzer: IPv6 ethertype with version 5, IPv4 total length beyond the frame (tshark: "Bogus IPv6 version")',
  },
  'traces/tcp/reassembly.pcap': {
    codes: ['bad-ip-total-length'],
    why: 'crafted: five frames are shorter on the wire than their IPv4 total length (tshark: "IPv4 total length exceeds packet length")',
  },
};

/**
 * Outcomes that are not damage but mean "not a TCP segment we track" (SKIP_CODES): tshark also
 * decodes the TCP header quoted in ICMP errors, and reassembles IP fragments (also the outer ones
 * of a tunnel); tcpscope does neither.
 */
const NOT_TRACKED: ReadonlySet<DecodeStatus> = SKIP_CODES;

interface Decoded {
  status: DecodeStatus;
  srcPort: number;
  dstPort: number;
  seq: number;
  ack: number;
  flags: number;
}

async function decodeAll(file: string) {
  const seg = new Segment();
  const frames: Decoded[] = [];
  const res = await readCaptureFile(file, (f) => {
    const status = decodeFrame(f.linkType, f.data, f.origLen, seg);
    frames.push(
      status === 'ok'
        ? { status, srcPort: seg.srcPort, dstPort: seg.dstPort, seq: seg.seq, ack: seg.ack, flags: seg.flags }
        : { status, srcPort: -1, dstPort: -1, seq: -1, ack: -1, flags: -1 },
    );
  });
  return { res, frames };
}

const rows = manifest();

describe('public traces decode as tshark decodes them', () => {
  it('the manifest lists the captures', () => {
    expect(rows.length).toBeGreaterThan(100);
  });

  const summary = { traces: 0, tcpRows: 0, compared: 0, skipped: 0, skippedByCode: {} as Record<string, number> };

  for (const row of rows) {
    it(row.file, async () => {
      const file = path.join(FIXTURES, row.file);
      const { res, frames } = await decodeAll(file);
      expect(res.error, `reading ${row.file}`).toBeNull();
      expect(frames.length).toBe(row.packets);

      const allowed = NOT_DECODED[row.file];
      const errors = frames.filter((f) => isDecodeError(f.status)).map((f) => f.status);
      if (allowed) expect(errors.every((c) => allowed.codes.includes(c))).toBe(true);
      else expect(errors, `decode errors in ${row.file}`).toEqual([]);

      const base = file.replace(/\.pcap(ng)?$/, '');
      const csvPath = existsSync(`${base}.tshark.quoted.csv`) ? `${base}.tshark.quoted.csv` : `${base}.tshark.csv`;
      const tshark = parseCsv(readFileSync(csvPath, 'utf8'));
      const problems: string[] = [];
      summary.traces++;
      for (const t of tshark) {
        if (!t['tcp.srcport']) continue;
        summary.tcpRows++;
        const n = Number(t['frame.number']);
        const ours = frames[n - 1];
        const first = (s: string) => s.split(',')[0];
        if (ours.status !== 'ok') {
          if (NOT_TRACKED.has(ours.status)) {
            summary.skipped++;
            summary.skippedByCode[ours.status] = (summary.skippedByCode[ours.status] ?? 0) + 1;
            continue;
          }
          if (!allowed?.codes.includes(ours.status)) problems.push(`frame ${n}: ${ours.status}`);
          continue;
        }
        summary.compared++;
        const want = {
          srcPort: Number(first(t['tcp.srcport'])),
          dstPort: Number(first(t['tcp.dstport'])),
          seq: Number(first(t['tcp.seq_raw'])),
          ack: Number(first(t['tcp.ack_raw'])),
          flags: tsharkFlagBits(first(t['tcp.flags.str'])),
        };
        const got = { srcPort: ours.srcPort, dstPort: ours.dstPort, seq: ours.seq, ack: ours.ack, flags: ours.flags };
        // tshark prints ack_raw 0 when the ACK flag is clear; the field is not meaningful then.
        if (!(want.flags & 0x10)) got.ack = want.ack;
        if (JSON.stringify(got) !== JSON.stringify(want)) problems.push(`frame ${n}: ours ${JSON.stringify(got)} tshark ${JSON.stringify(want)}`);
      }
      expect(problems, `${row.file} differs from tshark`).toEqual([]);
    });
  }

  it('compared a substantial number of packets', () => {
    // Printed so a run shows how much was checked against tshark.
    console.log(`public traces: ${JSON.stringify(summary)}`);
    expect(summary.compared).toBeGreaterThan(10_000);
  });
});
