import { u16, u32 } from './bytes';
import { IpFrag, ipPayload } from './ip-payload';
import type { DecodeStatus, Segment } from './segment';
import { decodeTcp } from './tcp';

const FIXED_HEADER = 40;

const HOP_BY_HOP = 0;
const TCP = 6;
const ROUTING = 43;
const FRAGMENT = 44;
const AH = 51;
const DEST_OPTIONS = 60;

const OPT_PAD1 = 0;
const OPT_JUMBO = 0xc2;

/**
 * Decodes the IPv6 packet at `off`, walks its extension headers and decodes the TCP segment at the
 * end of the chain. `wireLen` is the frame's original length.
 */
export function decodeIPv6(d: Buffer, off: number, wireLen: number, seg: Segment): DecodeStatus {
  if (d.length <= off) return 'truncated-ip';
  if (d[off] >>> 4 !== 6) return 'bad-ip-version';
  if (d.length - off < FIXED_HEADER) return 'truncated-ip';

  seg.family = 6;
  seg.srcOff = off + 8;
  seg.dstOff = off + 24;
  seg.ttl = d[off + 7];

  let next = d[off + 6];
  let p = off + FIXED_HEADER;
  const wireAvail = wireLen - p;
  let payload = u16(d, off + 4);
  if (payload === 0) {
    // A jumbogram carries its length in a hop-by-hop option; without one (segmentation offload,
    // Linux BIG TCP after the kernel strips that option) the frame's own length is the measure.
    const jumbo = next === HOP_BY_HOP ? jumboLength(d, p) : -1;
    payload = jumbo >= 0 ? jumbo : wireAvail;
  }
  if (payload > wireAvail) return 'bad-ip-total-length';
  const end = p + payload;

  const chainStart = p;
  let firstFragment = false;
  for (;;) {
    if (next === TCP) return decodeTcp(d, p, end - p, firstFragment, seg);
    // No Next Header, ESP (opaque) and every upper protocol that is not TCP end the walk; the
    // tunnel decoders take it from there.
    if (next !== HOP_BY_HOP && next !== ROUTING && next !== DEST_OPTIONS && next !== FRAGMENT && next !== AH) {
      ipPayload.proto = next;
      ipPayload.off = p;
      ipPayload.end = end;
      ipPayload.frag = firstFragment ? IpFrag.FIRST : IpFrag.NONE;
      return 'not-tcp';
    }
    // Hop-by-hop is only allowed straight after the fixed header (RFC 8200 §4.3).
    if (next === HOP_BY_HOP && p !== chainStart) return 'bad-ip6-ext';
    if (p + 2 > end) return 'bad-ip6-ext';
    if (p + 2 > d.length) return 'truncated-ip6-ext';
    const len = extLength(next, d[p + 1]);
    if (p + len > end) return 'bad-ip6-ext';
    if (p + len > d.length) return 'truncated-ip6-ext';
    if (next === FRAGMENT) {
      // Offset in 8-octet units in the top 13 bits; M flag in the lowest bit.
      const fo = u16(d, p + 2);
      if ((fo & 0xfff8) !== 0) return 'ip-fragment';
      if ((fo & 1) !== 0) firstFragment = true;
    }
    next = d[p];
    p += len;
  }
}

/**
 * Length in bytes of an extension header from its length byte: the fragment header is fixed, AH
 * counts 4-octet units minus 2 (RFC 4302 §2.2), the rest 8-octet units past the first 8.
 */
function extLength(type: number, lenByte: number): number {
  if (type === FRAGMENT) return 8;
  if (type === AH) return (lenByte + 2) << 2;
  return (lenByte + 1) << 3;
}

/** The Jumbo Payload option's value in the hop-by-hop header at `p`, or -1 if it has none. */
function jumboLength(d: Buffer, p: number): number {
  if (p + 2 > d.length) return -1;
  let end = p + ((d[p + 1] + 1) << 3);
  if (end > d.length) end = d.length;
  let i = p + 2;
  while (i < end) {
    const type = d[i];
    if (type === OPT_PAD1) {
      i++;
      continue;
    }
    if (i + 2 > end) return -1;
    const len = d[i + 1];
    if (type === OPT_JUMBO) return len === 4 && i + 6 <= end ? u32(d, i + 2) : -1;
    i += 2 + len;
  }
  return -1;
}
