import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseOptions, readOptions } from '../../src/decode/options';
import { flagString, Segment, type DecodeStatus } from '../../src/decode/segment';
import type { Fixture } from './fixtures/fixture';
import * as V4 from './fixtures/ipv4';
import * as V6 from './fixtures/ipv6';
import * as T from './fixtures/tcp';
import { decodeFixture, decodeOk, headerFields, type SegmentView } from './decode-view';

const ACK4 = 3104105496; // ack4's acknowledgement number; its SACK edits put blocks above it

/** The fixed-header fields, which option trouble must never change. */
function fixed(s: SegmentView) {
  const { srcPort, dstPort, seq, ack, flags, window, urgent, headerLen, payloadLen } = s;
  return { srcPort, dstPort, seq, ack, flags, window, urgent, headerLen, payloadLen };
}

describe('TCP header', () => {
  const flags: Array<[string, Fixture, number, string]> = [
    ['SYN', V4.syn4, 0x002, 'S'],
    ['SYN+ACK', T.synack4, 0x012, 'S.'],
    ['ACK', T.ack4, 0x010, '.'],
    ['PSH+ACK', V4.psh4, 0x018, 'P.'],
    ['URG', T.urg4, 0x038, 'PU.'],
    ['FIN+ACK', T.fin4, 0x011, 'F.'],
    ['RST+ACK', T.rst4, 0x014, 'R.'],
    ['IPv6 FIN+ACK', T.fin6, 0x011, 'F.'],
    ['IPv6 SYN+ACK', T.synack6, 0x012, 'S.'],
    ['ECN-setup SYN (ECE, CWR)', T.syn4Ecn, 0x0c2, 'SEW'],
    ['ECN-setup SYN+ACK (ECE)', T.synack4Ecn, 0x052, 'SE.'],
    ['CWR', T.psh4Cwr, 0x098, 'PW.'],
    ['AE', T.ack4Ae, 0x110, 'e.'],
    ['IPv6 AE', T.ack6Ae, 0x118, 'Pe.'],
    ['all nine flags', T.ack4AllFlags, 0x1ff, 'SFRPUEWe.'],
    ['reserved bits (dropped)', T.ack4Reserved, 0x010, '.'],
  ];

  it.each(flags)('%s', (_name, f, bits, letters) => {
    const seg = decodeOk(f);
    expect(seg.flags).toBe(bits);
    expect(flagString(seg.flags)).toBe(letters);
  });

  it('reads sequence, acknowledgement, window and urgent pointer as tcpdump prints them', () => {
    expect(decodeOk(T.synack4)).toMatchObject({
      srcPort: 47311, dstPort: 49962, seq: 3104105495, ack: 1720932489, window: 65483,
      mss: 65495, sackPermitted: true, tsVal: 2349802050, tsEcr: 3381574659, wscale: 10,
    });
    expect(decodeOk(T.urg4)).toMatchObject({ seq: 1720932495, ack: 3104105502, urgent: 1, payloadLen: 1 });
    expect(decodeOk(T.fin4)).toMatchObject({ seq: 1720932496, ack: 3104105502, payloadLen: 0 });
    expect(decodeOk(T.rst4)).toMatchObject({ srcPort: 47311, dstPort: 49962, seq: 3104105502, ack: 1720932497 });
    expect(decodeOk(T.fin6)).toMatchObject({ seq: 1357558149, ack: 2185152034 });
    expect(decodeOk(T.synack6)).toMatchObject({ seq: 2185152033, ack: 1357558142, window: 65464, mss: 65476 });
  });

  const bad: Array<[string, Fixture, DecodeStatus]> = [
    ['data offset 4', T.psh4Doff4, 'bad-tcp-offset'],
    ['data offset past the IPv4 payload', T.psh4Doff15, 'bad-tcp-offset'],
    ['data offset past the IPv6 payload', T.psh6Doff15, 'bad-tcp-offset'],
    ['an IP payload too short for a TCP header', T.psh4IpPayload12, 'bad-tcp-offset'],
    ['the fixed header cut by the snap length', T.psh4SnapFixed, 'truncated-tcp'],
    ['IPv6 at tcpdump -s 60', T.psh6Snap60, 'truncated-tcp'],
  ];

  it.each(bad)('%s → %s', (_name, f, code) => {
    expect(decodeFixture(f).status).toBe(code);
  });
});

describe('TCP options', () => {
  it('reads SACK blocks', () => {
    const one = decodeOk(T.ack4Sack1);
    expect(one.sack).toEqual([[ACK4 + 100, ACK4 + 200]]);
    expect(one).toMatchObject({ hasTimestamps: true, tsVal: 3381574659, tsEcr: 2349802050, headerLen: 44 });
    expect(decodeOk(T.ack4Sack3)).toMatchObject({
      sack: [[ACK4 + 100, ACK4 + 200], [ACK4 + 300, ACK4 + 400], [ACK4 + 500, ACK4 + 600]],
      hasTimestamps: true,
      headerLen: 60,
      optionsMalformed: false,
    });
    expect(decodeOk(T.ack4Sack4)).toMatchObject({
      sack: [[ACK4 + 100, ACK4 + 200], [ACK4 + 300, ACK4 + 400], [ACK4 + 500, ACK4 + 600], [0xfffffff0, 0x10]],
      hasTimestamps: false,
      headerLen: 56,
    });
  });

  it('reads any option list as parseOptions does, NOP, NOP, timestamps (read as it stands) included', () => {
    const opts = (s: Segment) => ({
      hasTimestamps: s.hasTimestamps, tsVal: s.tsVal, tsEcr: s.tsEcr, mss: s.mss, wscale: s.wscale,
      sackPermitted: s.sackPermitted, sackCount: s.sackCount, sackOff: s.sackOff,
      optionsMalformed: s.optionsMalformed, optionsTruncated: s.optionsTruncated,
    });
    const both = (d: Buffer, end: number, capEnd: number) => {
      const a = new Segment();
      const b = new Segment();
      a.reset();
      b.reset();
      readOptions(d, 0, end, capEnd, a);
      parseOptions(d, 0, end, capEnd, b);
      expect(opts(a)).toEqual(opts(b));
      return opts(a);
    };
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 0, maxLength: 40 }),
        fc.boolean(),
        fc.nat(),
        fc.nat(),
        (arr, common, e, c) => {
          const d = Buffer.from(arr);
          if (common && d.length >= 4) d.writeUInt32BE(0x0101080a, 0);
          const end = e % (d.length + 1);
          both(d, end, c % (end + 1));
          if (common && d.length >= 12) both(d, 12, c % 13);
        },
      ),
      { numRuns: 3000 },
    );
    expect(both(Buffer.from('0101080a0000000100000002', 'hex'), 12, 12)).toMatchObject({
      hasTimestamps: true, tsVal: 1, tsEcr: 2, optionsMalformed: false, optionsTruncated: false,
    });
  });

  it('skips unknown kinds by their length', () => {
    const want = { mss: 65495, sackPermitted: true, hasTimestamps: true, tsVal: 3381574659, wscale: 10, optionsMalformed: false };
    expect(decodeOk(T.syn4Unknown)).toMatchObject(want);
    expect(decodeOk(T.syn4UnknownFirst)).toMatchObject(want);
  });

  it('stops at End of Option List', () => {
    expect(decodeOk(T.syn4Eol)).toMatchObject({
      mss: 65495, sackPermitted: false, hasTimestamps: false, wscale: -1, optionsMalformed: false,
    });
  });

  it('keeps a window scale above 14 as sent', () => {
    expect(decodeOk(T.syn4WscaleMax).wscale).toBe(255);
  });

  // [fixture, options read before the bad one]
  const malformed: Array<[string, Fixture, Partial<SegmentView>]> = [
    ['length 0', T.syn4OptLen0, { mss: 65495, sackPermitted: false, hasTimestamps: false, wscale: -1 }],
    ['length 1', T.syn4OptLen1, { mss: 65495, sackPermitted: false, hasTimestamps: false, wscale: -1 }],
    ['a length past the header', T.syn4OptPastHeader, { mss: 65495, sackPermitted: true, hasTimestamps: false }],
    ['MSS of length 5', T.syn4MssLen5, { mss: -1, hasTimestamps: false }],
    ['window scale of length 4', T.syn4WscaleLen4, { mss: 65495, sackPermitted: true, hasTimestamps: true, wscale: -1 }],
    ['SACK-permitted of length 3', T.syn4SackOkLen3, { mss: 65495, sackPermitted: false, hasTimestamps: false }],
    ['timestamps of length 8', T.syn4TsLen8, { mss: 65495, sackPermitted: true, hasTimestamps: false, wscale: -1 }],
    ['a kind byte with no length', T.syn4KindAtEnd, { mss: 65495, sackPermitted: true, hasTimestamps: true }],
    ['SACK of length 11', T.ack4SackLen11, { hasTimestamps: true, sack: [] }],
    ['SACK of length 2', T.ack4SackLen2, { hasTimestamps: true, sack: [] }],
  ];

  it.each(malformed)('an option list with %s is marked malformed, the segment kept', (_name, f, readBefore) => {
    const seg = decodeOk(f);
    expect(seg).toMatchObject({ ...readBefore, optionsMalformed: true, optionsTruncated: false });
    const base = f === T.ack4SackLen11 || f === T.ack4SackLen2 ? T.ack4 : V4.syn4;
    expect({ ...fixed(seg), headerLen: 0 }).toEqual({ ...fixed(decodeOk(base)), headerLen: 0 });
  });

  it('marks options cut by the snap length as truncated and keeps the segment', () => {
    const syn = fixed(decodeOk(V4.syn4));
    expect(decodeOk(T.syn4Snap60)).toMatchObject({
      ...syn, mss: 65495, sackPermitted: true, hasTimestamps: false, wscale: -1, optionsTruncated: true, optionsMalformed: false,
    });
    expect(decodeOk(T.syn4SnapInsideMss)).toMatchObject({ ...syn, mss: -1, optionsTruncated: true });
    expect(decodeOk(T.syn4SnapAfterKind)).toMatchObject({ ...syn, mss: -1, optionsTruncated: true });
    expect(decodeOk(T.psh4SnapOptions)).toMatchObject({
      ...fixed(decodeOk(V4.psh4)), hasTimestamps: false, optionsTruncated: true, payloadLen: 6, capturedPayloadLen: 0,
    });
  });

  it('counts payload the snap length cut from the IP lengths', () => {
    const seg = decodeOk(T.psh4SnapPayload);
    expect(seg).toMatchObject({ payloadLen: 6, capturedPayloadLen: 3, optionsTruncated: false, hasTimestamps: true });
    expect({ ...headerFields(seg), capturedPayloadLen: 6 }).toEqual(headerFields(decodeOk(V4.psh4)));
  });

  it('reads the same options from IPv6 segments', () => {
    expect(decodeOk(V6.psh6)).toMatchObject({ hasTimestamps: true, tsVal: 1653919575, tsEcr: 633719290, mss: -1 });
  });
});
