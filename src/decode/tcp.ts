import { u16, u32 } from './bytes';
import { readOptions } from './options';
import type { DecodeStatus, Segment } from './segment';

const MIN_HEADER = 20;

/**
 * Decodes the TCP header at `off`. `ipPayloadLen` is what the IP header(s) say follows them (the
 * truth for byte counts); only `d.length` bytes were captured. `firstFragment` marks the first
 * piece of a fragmented datagram, where a header that does not fit is a fragmentation problem.
 */
export function decodeTcp(
  d: Buffer,
  off: number,
  ipPayloadLen: number,
  firstFragment: boolean,
  seg: Segment,
): DecodeStatus {
  const ipEnd = off + ipPayloadLen;
  // Bytes past the IP payload (Ethernet padding) are not TCP.
  const capEnd = d.length < ipEnd ? d.length : ipEnd;
  if (ipPayloadLen < MIN_HEADER) return firstFragment ? 'short-first-fragment' : 'bad-tcp-offset';
  if (capEnd - off < MIN_HEADER) return 'truncated-tcp';
  const hl = (d[off + 12] >>> 4) << 2;
  if (hl < MIN_HEADER) return 'bad-tcp-offset';
  if (hl > ipPayloadLen) return firstFragment ? 'short-first-fragment' : 'bad-tcp-offset';

  seg.tcpOff = off;
  seg.srcPort = u16(d, off);
  seg.dstPort = u16(d, off + 2);
  seg.seq = u32(d, off + 4);
  seg.ack = u32(d, off + 8);
  // 12-bit flags field: the three reserved bits are dropped, AE (bit 8) kept.
  seg.flags = ((d[off + 12] & 0x01) << 8) | d[off + 13];
  seg.window = u16(d, off + 14);
  seg.urgent = u16(d, off + 18);
  seg.headerLen = hl;
  seg.payloadLen = ipPayloadLen - hl;
  const captured = capEnd - off - hl;
  seg.capturedPayloadLen = captured > 0 ? captured : 0;
  if (hl > MIN_HEADER) readOptions(d, off + MIN_HEADER, off + hl, capEnd, seg);
  return 'ok';
}
