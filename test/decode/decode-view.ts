import { decodeFrame } from '../../src/decode/decode';
import { addrString, Segment, type DecodeStatus } from '../../src/decode/segment';
import type { Fixture } from './fixtures/fixture';

/** The decoded fields of a segment as plain data, so tests can compare and print them. */
export interface SegmentView {
  family: 4 | 6;
  src: string;
  dst: string;
  srcPort: number;
  dstPort: number;
  seq: number;
  ack: number;
  flags: number;
  window: number;
  urgent: number;
  headerLen: number;
  payloadLen: number;
  capturedPayloadLen: number;
  tcpOff: number;
  ttl: number;
  encapDepth: number;
  mss: number;
  wscale: number;
  sackPermitted: boolean;
  sack: Array<[number, number]>;
  hasTimestamps: boolean;
  tsVal: number;
  tsEcr: number;
  optionsMalformed: boolean;
  optionsTruncated: boolean;
}

export function view(seg: Segment): SegmentView {
  const sack: Array<[number, number]> = [];
  for (let i = 0; i < seg.sackCount; i++) {
    const o = seg.sackOff + 8 * i;
    sack.push([seg.buf.readUInt32BE(o), seg.buf.readUInt32BE(o + 4)]);
  }
  return {
    family: seg.family,
    src: addrString(seg.buf, seg.srcOff, seg.family),
    dst: addrString(seg.buf, seg.dstOff, seg.family),
    srcPort: seg.srcPort,
    dstPort: seg.dstPort,
    seq: seg.seq,
    ack: seg.ack,
    flags: seg.flags,
    window: seg.window,
    urgent: seg.urgent,
    headerLen: seg.headerLen,
    payloadLen: seg.payloadLen,
    capturedPayloadLen: seg.capturedPayloadLen,
    tcpOff: seg.tcpOff,
    ttl: seg.ttl,
    encapDepth: seg.encapDepth,
    mss: seg.mss,
    wscale: seg.wscale,
    sackPermitted: seg.sackPermitted,
    sack,
    hasTimestamps: seg.hasTimestamps,
    tsVal: seg.tsVal,
    tsEcr: seg.tsEcr,
    optionsMalformed: seg.optionsMalformed,
    optionsTruncated: seg.optionsTruncated,
  };
}

/** Decodes a fixture into a fresh Segment. */
export function decodeFixture(f: Fixture): { status: DecodeStatus; seg: SegmentView | null } {
  const seg = new Segment();
  const status = decodeFrame(f.linkType, f.data, f.origLen, seg);
  return { status, seg: status === 'ok' ? view(seg) : null };
}

/** Decodes a fixture that must decode, and returns its fields. */
export function decodeOk(f: Fixture): SegmentView {
  const r = decodeFixture(f);
  if (r.status !== 'ok' || !r.seg) throw new Error(`expected ok, got ${r.status}`);
  return r.seg;
}

/** The fields that do not depend on where the TCP header sits in the frame. */
export function headerFields(s: SegmentView): Omit<SegmentView, 'tcpOff'> {
  const { tcpOff: _ignored, ...rest } = s;
  return rest;
}
