import { u16 } from './bytes';
import { IpFrag, ipPayload } from './ip-payload';
import type { DecodeStatus, Segment } from './segment';
import { decodeTcp } from './tcp';

const PROTO_TCP = 6;
const MF = 0x2000;
const FRAG_OFFSET = 0x1fff;

/**
 * Decodes the IPv4 packet at `off` and the TCP segment in it. `wireLen` is the frame's original
 * length: lengths are checked against it, not against what the snap length left.
 */
export function decodeIPv4(d: Buffer, off: number, wireLen: number, seg: Segment): DecodeStatus {
  if (d.length <= off) return 'truncated-ip';
  if (d[off] >>> 4 !== 4) return 'bad-ip-version';
  const ihl = (d[off] & 0x0f) << 2;
  if (ihl < 20) return 'bad-ip-header-length';
  if (d.length - off < 20) return 'truncated-ip';

  const wireAvail = wireLen - off;
  let total = u16(d, off + 2);
  // Segmentation offload hands the capture one large packet whose total length is still 0
  // (Wireshark reads it the same way): the frame's own length is then the only measure.
  if (total === 0) total = wireAvail;
  // Lengths first: a header longer than the packet is damage, not a short capture.
  if (total < ihl || total > wireAvail) return 'bad-ip-total-length';
  if (d.length - off < ihl) return 'truncated-ip';

  seg.family = 4;
  seg.srcOff = off + 12;
  seg.dstOff = off + 16;
  seg.ttl = d[off + 8];
  const frag = u16(d, off + 6);
  if (d[off + 9] !== PROTO_TCP) return notTcp(d[off + 9], off + ihl, off + total, frag);
  // Later fragments carry no TCP header. A first fragment is decoded when the whole header is in
  // it; its payloadLen then counts only the bytes this fragment carries.
  if ((frag & FRAG_OFFSET) !== 0) return 'ip-fragment';
  return decodeTcp(d, off + ihl, total - ihl, (frag & MF) !== 0, seg);
}

/** Leaves a payload that is not TCP to the tunnel decoders (GRE, UDP tunnels, IP-in-IP). */
function notTcp(proto: number, start: number, end: number, frag: number): DecodeStatus {
  ipPayload.proto = proto;
  ipPayload.off = start;
  ipPayload.end = end;
  ipPayload.frag = (frag & FRAG_OFFSET) !== 0 ? IpFrag.LATER : (frag & MF) !== 0 ? IpFrag.FIRST : IpFrag.NONE;
  return 'not-tcp';
}
