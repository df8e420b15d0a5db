import { u16 } from './bytes';
import { MAX_ENCAP_LAYERS, Net, type LinkResult } from './layer';
import type { DecodeStatus } from './segment';

export const EtherType = {
  IPV4: 0x0800,
  IPV6: 0x86dd,
  // 802.1Q, 802.1ad and the pre-standard QinQ outer tag.
  VLAN: 0x8100,
  QINQ: 0x88a8,
  QINQ_9100: 0x9100,
  MPLS: 0x8847,
  MPLS_MULTICAST: 0x8848,
  /** 802.1ah provider backbone bridging: an I-TAG, then the customer's Ethernet header. */
  PBB: 0x88e7,
  PPPOE_SESSION: 0x8864,
  VNTAG: 0x8926,
  /** Cisco FabricPath: the outer header's ethertype, then a tag and a whole Ethernet frame. */
  FABRICPATH: 0x8903,
  /** Transparent Ethernet bridging (GRE, Geneve): an Ethernet frame follows. */
  TEB: 0x6558,
} as const;

// Types that are no ethertype, for payloads whose header names no ethertype: above 0xffff, so
// they cannot collide with a real one.
/** An 802.2 LLC header follows (802.3 length field, FDDI, LINUX_SLL protocol 4). */
export const LLC_FRAME = 0x1_0000;
/** An 802.11 frame without radiotap follows (Aruba's GRE). */
export const WLAN_FRAME = 0x1_0001;
/** An IPv4 or IPv6 header follows, as its version nibble says (GTP-U). */
export const IP_BY_VERSION = 0x1_0002;

/** The largest 802.3 length field; anything at or above 0x0600 is an ethertype. */
const MAX_8023_LENGTH = 1500;

const PPP_IPV4 = 0x0021;
const PPP_IPV6 = 0x0057;
const SNAP_OUI_ETHERTYPE = 0x000000;
// 802.1H bridge tunnel encapsulation: also an ethertype after it (802.11 uses it for some types).
const SNAP_OUI_BRIDGE_TUNNEL = 0x0000f8;

/** An Ethernet header's type field: an ethertype, or an 802.3 length with an LLC header after it. */
export function etherTypeOrLlc(v: number): number {
  return v <= MAX_8023_LENGTH ? LLC_FRAME : v;
}

/** Where a helper below leaves the next header: its offset and type. */
const next = { off: 0, type: 0 };

/**
 * Follows `type` (an ethertype, or one of the pseudo types above) whose payload starts at `off`
 * through the link-level encapsulations to an IPv4 or IPv6 header, and writes where that starts to
 * `out`. VLAN tags, MPLS (IP or an Ethernet pseudowire with control word), PBB, PPPoE sessions,
 * VN-Tag, FabricPath, LLC/SNAP, 802.11 data frames and inner Ethernet frames are unwrapped; each
 * counts towards MAX_ENCAP_LAYERS except VLAN tags, which always shorten what is left.
 */
export function followEtherType(d: Buffer, off: number, type: number, out: LinkResult): DecodeStatus {
  for (;;) {
    if (type === EtherType.IPV4) {
      out.off = off;
      out.net = Net.IPV4;
      return 'ok';
    }
    if (type === EtherType.IPV6) {
      out.off = off;
      out.net = Net.IPV6;
      return 'ok';
    }
    if (type === EtherType.VLAN || type === EtherType.QINQ || type === EtherType.QINQ_9100) {
      if (off + 4 > d.length) return 'truncated-link';
      type = etherTypeOrLlc(u16(d, off + 2));
      off += 4;
      continue;
    }
    let st: DecodeStatus;
    switch (type) {
      case IP_BY_VERSION:
        if (off >= d.length) return 'truncated-ip';
        type = ipByVersion(d[off] >>> 4);
        if (type < 0) return 'not-ip';
        continue;
      case EtherType.TEB:
        st = ethernetFrame(d, off, 0);
        break;
      case EtherType.FABRICPATH:
        // The 2-byte FTag/TTL field, then the original frame's own Ethernet header.
        st = ethernetFrame(d, off, 2);
        break;
      case EtherType.PBB:
        // The 4-byte I-TAG (flags, I-SID), then the customer's Ethernet header.
        st = ethernetFrame(d, off, 4);
        break;
      case EtherType.VNTAG:
        if (off + 6 > d.length) return 'truncated-link';
        next.off = off + 6;
        next.type = etherTypeOrLlc(u16(d, off + 4));
        st = 'ok';
        break;
      case EtherType.MPLS:
      case EtherType.MPLS_MULTICAST:
        st = mpls(d, off);
        break;
      case EtherType.PPPOE_SESSION:
        st = pppoe(d, off);
        break;
      case LLC_FRAME:
        st = snap(d, off);
        break;
      case WLAN_FRAME:
        st = wlan(d, off);
        break;
      default:
        return 'not-ip';
    }
    if (st !== 'ok') return st;
    if (++out.layers > MAX_ENCAP_LAYERS) return 'encap-too-deep';
    off = next.off;
    type = next.type;
  }
}

function ipByVersion(v: number): number {
  if (v === 4) return EtherType.IPV4;
  if (v === 6) return EtherType.IPV6;
  return -1;
}

/** An Ethernet header (two MACs and a type) `skip` bytes after `off`. */
function ethernetFrame(d: Buffer, off: number, skip: number): DecodeStatus {
  const p = off + skip;
  if (p + 14 > d.length) return 'truncated-link';
  next.off = p + 14;
  next.type = etherTypeOrLlc(u16(d, p + 12));
  return 'ok';
}

/**
 * An MPLS label stack. RFC 3032 leaves the payload's type unsaid: the first nibble after the
 * bottom label tells IPv4 (4) from IPv6 (6), and 0 is a pseudowire control word (RFC 4385) before
 * an Ethernet frame. That frame is only taken when its own type is IP or a VLAN tag, where the guess
 * is plain; anything else is left alone, as it may be another kind of pseudowire.
 */
function mpls(d: Buffer, off: number): DecodeStatus {
  let p = off;
  for (;;) {
    if (p + 4 > d.length) return 'truncated-link';
    const bottom = d[p + 2] & 0x01;
    p += 4;
    if (bottom) break;
  }
  if (p >= d.length) return 'truncated-link';
  const nibble = d[p] >>> 4;
  if (nibble === 4 || nibble === 6) {
    next.off = p;
    next.type = nibble === 4 ? EtherType.IPV4 : EtherType.IPV6;
    return 'ok';
  }
  if (nibble !== 0) return 'not-ip';
  const st = ethernetFrame(d, p, 4);
  if (st !== 'ok') return st;
  const t = next.type;
  const plain =
    t === EtherType.IPV4 || t === EtherType.IPV6 || t === EtherType.VLAN || t === EtherType.QINQ || t === EtherType.QINQ_9100;
  return plain ? 'ok' : 'not-ip';
}

/** A PPPoE session header (RFC 2516) and the PPP protocol field after it. */
function pppoe(d: Buffer, off: number): DecodeStatus {
  if (off + 8 > d.length) return 'truncated-link';
  // Version 1, type 1; session data always has code 0.
  if (d[off] !== 0x11 || d[off + 1] !== 0x00) return 'bad-encap';
  const proto = u16(d, off + 6);
  next.off = off + 8;
  if (proto === PPP_IPV4) next.type = EtherType.IPV4;
  else if (proto === PPP_IPV6) next.type = EtherType.IPV6;
  else return 'not-ip';
  return 'ok';
}

/**
 * An 802.2 LLC header. Only SNAP (AA AA) with an ethertype after it can carry IP; its control field
 * is one byte for unnumbered frames and two otherwise.
 */
function snap(d: Buffer, off: number): DecodeStatus {
  if (off + 3 > d.length) return 'truncated-link';
  if (d[off] !== 0xaa || d[off + 1] !== 0xaa) return 'not-ip';
  const p = off + ((d[off + 2] & 0x03) === 0x03 ? 3 : 4);
  if (p + 5 > d.length) return 'truncated-link';
  const oui = (d[p] << 16) | (d[p + 1] << 8) | d[p + 2];
  if (oui !== SNAP_OUI_ETHERTYPE && oui !== SNAP_OUI_BRIDGE_TUNNEL) return 'not-ip';
  next.off = p + 5;
  next.type = u16(d, p + 3);
  return 'ok';
}

const WLAN_HEADER = 24;
const AMSDU_SUBFRAME_HEADER = 14;

/**
 * An 802.11 data frame as Aruba's controllers tunnel it (no radiotap, no FCS). With A-MSDU only the
 * first subframe is read: a frame yields one segment. Encrypted bodies and frames without a body
 * carry nothing readable.
 */
function wlan(d: Buffer, off: number): DecodeStatus {
  if (off + WLAN_HEADER > d.length) return 'truncated-link';
  const fc = d[off];
  const flags = d[off + 1];
  // Type 2 (data); subtypes with bit 2 set (null function, CF-ack/poll only) have no body.
  if (((fc >>> 2) & 0x03) !== 2 || (fc & 0x40) !== 0) return 'not-ip';
  if ((flags & 0x40) !== 0) return 'not-ip';
  let p = off + WLAN_HEADER;
  // To DS and From DS both set: a fourth address.
  if ((flags & 0x03) === 0x03) p += 6;
  let amsdu = false;
  if ((fc & 0x80) !== 0) {
    // QoS data: a 2-byte QoS control field (bit 7: A-MSDU), then an HT control field if Order is set.
    if (p + 2 > d.length) return 'truncated-link';
    amsdu = (d[p] & 0x80) !== 0;
    p += 2;
    if ((flags & 0x80) !== 0) p += 4;
  }
  // The first A-MSDU subframe's header: destination, source, length.
  if (amsdu) p += AMSDU_SUBFRAME_HEADER;
  return snap(d, p);
}
