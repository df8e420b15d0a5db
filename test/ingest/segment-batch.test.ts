// The batch records that carry decoded frames between threads: every Segment field survives, at
// the edges of its range, and a batch says when it is full.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readCaptureFile } from '../../src/capture/file';
import { frameTimeMs } from '../../src/capture/frame';
import { FrameBytes } from '../../src/capture/parser';
import { decodeFrame } from '../../src/decode/decode';
import { FIXTURES } from '../support/fixtures.mjs';
import { addrString, Segment, type DecodeStatus } from '../../src/decode/segment';
import { SegmentBatchReader, SegmentBatchWriter } from '../../src/ingest/segment-batch';

function seg(fields: Partial<Segment>, addrs: number[]): Segment {
  const s = Object.assign(new Segment(), fields);
  s.buf = Buffer.from(addrs);
  s.srcOff = 0;
  s.dstOff = addrs.length / 2;
  return s;
}

const FIELDS = [
  'family', 'srcPort', 'dstPort', 'seq', 'ack', 'flags', 'window', 'urgent', 'headerLen', 'payloadLen',
  'capturedPayloadLen', 'ttl', 'encapDepth', 'mss', 'wscale', 'sackPermitted', 'sackCount', 'hasTimestamps',
  'tsVal', 'tsEcr', 'optionsMalformed', 'optionsTruncated',
] as const;

describe('segment batches', () => {
  it('carry every field and both addresses, IPv4 and IPv6, at the ends of their ranges', () => {
    const v6 = [...Array(32).keys()].map((i) => (i * 37) & 0xff);
    const cases: Array<[number, number, DecodeStatus, Segment]> = [
      [1_700_000_000_123.456, 60, 'ok', seg({ family: 4, srcPort: 65535, dstPort: 1, seq: 0xffffffff, ack: 0x80000000, flags: 0x1ff, window: 65535, urgent: 7, headerLen: 60, payloadLen: 65495, capturedPayloadLen: 0, ttl: 255, encapDepth: 3, mss: -1, wscale: 14, sackPermitted: true, sackCount: 4, hasTimestamps: true, tsVal: 0xfffffffe, tsEcr: 1, optionsMalformed: true, optionsTruncated: false, tcpOff: 52 }, [127, 0, 0, 1, 10, 1, 2, 3])],
      [0.001, 1514, 'not-tcp', new Segment()],
      [2 ** 40 + 0.5, 74, 'ok', seg({ family: 6, srcPort: 0, dstPort: 443, seq: 0, ack: 0, flags: 2, window: 0, mss: 65495, wscale: -1, sackCount: 0, optionsTruncated: true }, v6)],
      [5, 20, 'truncated-ip', new Segment()],
    ];
    const w = new SegmentBatchWriter(new ArrayBuffer(4096));
    for (const [ts, len, st, s] of cases) expect(w.write(ts, len, st, s)).toBe(true);
    const r = new SegmentBatchReader(w.buffer, w.used, w.count, new FrameBytes());
    const out = new Segment();
    for (const [ts, len, st, s] of cases) {
      expect(r.next(out)).toBe(true);
      expect([r.tsMs, r.origLen, r.status]).toEqual([ts, len, st]);
      if (st !== 'ok') continue;
      for (const f of FIELDS) expect(out[f], f).toBe(s[f]);
      expect(addrString(out.buf, out.srcOff, out.family)).toBe(addrString(s.buf, s.srcOff, s.family));
      expect(addrString(out.buf, out.dstOff, out.family)).toBe(addrString(s.buf, s.dstOff, s.family));
    }
    expect(r.next(out)).toBe(false);
  });

  it('a batch reports full while room for one more record is left', () => {
    const w = new SegmentBatchWriter(new ArrayBuffer(1024));
    const s = seg({ family: 4 }, [1, 2, 3, 4, 5, 6, 7, 8]);
    let n = 0;
    while (w.write(n, 60, 'ok', s)) n++;
    expect(w.used).toBeLessThanOrEqual(1024);
    expect(1024 - w.used).toBeLessThan(2 * 96);
    const r = new SegmentBatchReader(w.buffer, w.used, w.count, new FrameBytes());
    const out = new Segment();
    let m = 0;
    while (r.next(out)) expect(r.tsMs).toBe(m++);
    expect(m).toBe(w.count);
  });

  it('undecoded frames come back decoded as decodeFrame decodes them, mixed with decoded ones', async () => {
    // a trace with IPv4, IPv6, tunnels and non-TCP frames
    const files = ['traces/tunnels/Teredo.pcap', 'traces/ssh/ssh.pcap', 'traces/tunnels/gre-sample.pcap', 'traces/tunnels/gtp/gtp1_gn_normal_incl_fragmentation.pcap']
      .map((f) => path.join(FIXTURES, f));
    for (const file of files) {
      const expected: string[] = [];
      const got: string[] = [];
      let w = new SegmentBatchWriter(new ArrayBuffer(64 * 1024));
      const one = new Segment();
      const out = new Segment();
      const fb = new FrameBytes();
      const drain = () => {
        const r = new SegmentBatchReader(w.buffer, w.used, w.count, fb);
        while (r.next(out)) got.push(text(r.tsMs, r.origLen, r.status, out));
        w = new SegmentBatchWriter(new ArrayBuffer(64 * 1024));
      };
      let n = 0;
      await readCaptureFile(file, (f) => {
        const ts = frameTimeMs(f);
        const status = decodeFrame(f.linkType, f.data, f.origLen, one);
        expected.push(text(ts, f.origLen, status, one));
        // every third frame goes decoded, the rest raw
        const room = n++ % 3 === 0 || !w.writeFrame(ts, f) ? w.write(ts, f.origLen, status, one) : true;
        if (!room) drain();
      });
      drain();
      expect(got, file).toEqual(expected);
      expect(got.length).toBeGreaterThan(10);
    }
  });
});

function text(ts: number, origLen: number, status: DecodeStatus, s: Segment): string {
  if (status !== 'ok') return `${ts} ${origLen} ${status}`;
  const f = FIELDS.map((k) => s[k]).join(' ');
  // the TCP header's offset from the source address: the IP header's length, which Zeek's byte counts read
  return `${ts} ${origLen} ${status} ${addrString(s.buf, s.srcOff, s.family)} ${addrString(s.buf, s.dstOff, s.family)} ${s.tcpOff - s.srcOff} ${f}`;
}
