import { etherTypeOrLlc, followEtherType, LLC_FRAME } from './encap';
import { Net, type LinkResult } from './layer';
import { LinkType } from './linktype';
import type { DecodeStatus } from './segment';

const ETH_HEADER = 14;
const SLL_HEADER = 16;
const SLL2_HEADER = 20;
const VLAN_TAG = 4;
// Frame control, destination and source MAC.
const FDDI_HEADER = 13;
// LINUX_SLL/SLL2 protocol 4: the packet is an 802.2 LLC frame.
const SLL_PROTO_802_2 = 0x0004;

// The plain path's ethertypes as module constants (the rest are in encap.ts): a property read on
// another module's object per frame is measurable here.
const ETHERTYPE_IPV4 = 0x0800;
const ETHERTYPE_IPV6 = 0x86dd;
const ETHERTYPE_8021Q = 0x8100;
const ETHERTYPE_8021AD = 0x88a8;
const ETHERTYPE_QINQ = 0x9100;

/**
 * Reads the link-layer header of `d` for `linkType` into `out`. Returns 'ok' or the reason the
 * frame carries no IP packet we can read.
 */
export function decodeLink(linkType: number, d: Buffer, out: LinkResult): DecodeStatus {
  switch (linkType) {
    case LinkType.ETHERNET:
      return ethernet(d, out);
    case LinkType.NULL:
      return nullLoopback(d, out, false);
    case LinkType.LOOP:
      return nullLoopback(d, out, true);
    case LinkType.LINUX_SLL:
      if (d.length < SLL_HEADER) return 'truncated-link';
      return sllNet((d[14] << 8) | d[15], d, SLL_HEADER, out);
    case LinkType.LINUX_SLL2:
      if (d.length < SLL2_HEADER) return 'truncated-link';
      return sllNet((d[0] << 8) | d[1], d, SLL2_HEADER, out);
    case LinkType.FDDI:
      return fddi(d, out);
    case LinkType.RAW:
    case LinkType.RAW_OPENBSD:
    case LinkType.RAW_BSD:
      out.off = 0;
      out.net = Net.ANY;
      return 'ok';
    case LinkType.IPV4:
      out.off = 0;
      out.net = Net.IPV4;
      return 'ok';
    case LinkType.IPV6:
      out.off = 0;
      out.net = Net.IPV6;
      return 'ok';
    default:
      return 'unsupported-link';
  }
}

function ethernet(d: Buffer, out: LinkResult): DecodeStatus {
  if (d.length < ETH_HEADER) return 'truncated-link';
  let off = ETH_HEADER - 2;
  let type = (d[off] << 8) | d[off + 1];
  // Any stack of tags: each one is a TCI followed by the next ethertype.
  while (type === ETHERTYPE_8021Q || type === ETHERTYPE_8021AD || type === ETHERTYPE_QINQ) {
    off += VLAN_TAG;
    if (off + 2 > d.length) return 'truncated-link';
    type = (d[off] << 8) | d[off + 1];
  }
  off += 2;
  if (type === ETHERTYPE_IPV4) out.net = Net.IPV4;
  else if (type === ETHERTYPE_IPV6) out.net = Net.IPV6;
  // Everything else (MPLS, PPPoE, PBB, LLC, ...) off the plain path.
  else return followEtherType(d, off, etherTypeOrLlc(type), out);
  out.off = off;
  return 'ok';
}

function sllNet(type: number, d: Buffer, off: number, out: LinkResult): DecodeStatus {
  out.off = off;
  if (type === ETHERTYPE_IPV4) out.net = Net.IPV4;
  else if (type === ETHERTYPE_IPV6) out.net = Net.IPV6;
  else return followEtherType(d, off, type === SLL_PROTO_802_2 ? LLC_FRAME : type, out);
  return 'ok';
}

/**
 * FDDI: frame control, two MACs (bit-swapped or not, they are not read here), then 802.2 LLC for
 * LLC frames (frame format bits 01); SMT and MAC frames carry no IP.
 */
function fddi(d: Buffer, out: LinkResult): DecodeStatus {
  if (d.length < FDDI_HEADER) return 'truncated-link';
  if ((d[0] & 0x30) !== 0x10) return 'not-ip';
  return followEtherType(d, FDDI_HEADER, LLC_FRAME, out);
}

// Address families as BSD loopback headers carry them: AF_INET is 2 everywhere, AF_INET6 is 24
// (NetBSD/OpenBSD), 28 (FreeBSD) or 30 (macOS) depending on the system that wrote the capture.
const AF_INET = 2;
const AF_INET6_BSD = 24;
const AF_INET6_FREEBSD = 28;
const AF_INET6_DARWIN = 30;

function nullLoopback(d: Buffer, out: LinkResult, networkOrder: boolean): DecodeStatus {
  if (d.length < 4) return 'truncated-link';
  let af: number;
  if (networkOrder) {
    af = ((d[0] << 24) | (d[1] << 16) | (d[2] << 8) | d[3]) >>> 0;
  } else {
    // Host order of the machine that wrote the file, which may not be ours; families are small
    // numbers, so a value with its high half set was written big-endian.
    af = ((d[3] << 24) | (d[2] << 16) | (d[1] << 8) | d[0]) >>> 0;
    if (af > 0xffff) af = ((d[0] << 24) | (d[1] << 16) | (d[2] << 8) | d[3]) >>> 0;
  }
  out.off = 4;
  if (af === AF_INET) out.net = Net.IPV4;
  else if (af === AF_INET6_BSD || af === AF_INET6_FREEBSD || af === AF_INET6_DARWIN) out.net = Net.IPV6;
  else return 'not-ip';
  return 'ok';
}
