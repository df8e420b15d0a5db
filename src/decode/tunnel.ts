import { u16 } from './bytes';
import { EtherType, IP_BY_VERSION, WLAN_FRAME } from './encap';
import { IpFrag, type IpPayload } from './ip-payload';
import type { DecodeStatus } from './segment';

/** What a tunnel carries: the next header's offset and type (as followEtherType takes it). */
export interface Tunnelled {
  off: number;
  type: number;
  /** End of the carried packet on the wire (the inner IP lengths are checked against it). */
  end: number;
}

const PROTO_IPV4 = 4;
const PROTO_UDP = 17;
const PROTO_IPV6 = 41;
const PROTO_GRE = 47;

// IANA-assigned ports of the UDP tunnels; either side of the datagram may hold one.
const PORT_GTP_U = 2152;
const PORT_TEREDO = 3544;
const PORT_GRE_UDP = 4754; // RFC 8086
const PORT_VXLAN = 4789;
const PORT_AYIYA = 5072;
const PORT_GENEVE = 6081;

const UDP_HEADER = 8;

// The most an IP datagram can carry: what bounds a tunnel in a first fragment when nothing closer does.
const MAX_IP_PAYLOAD = 0xffff;

/**
 * Reads the tunnel header at the start of an IP payload (GRE, a UDP tunnel, or IP-in-IP: protocol
 * 4 or 41) and writes what it carries to `out`. 'not-tcp' when the payload is no tunnel: the frame
 * then simply holds no TCP.
 *
 * Fragments are not reassembled, but a tunnel's first fragment holds its headers and the start of
 * the inner packet, usually its whole TCP header: that is read, with the lengths the inner headers
 * (and UDP's, which counts the whole datagram) state. Later fragments hold nothing to read.
 */
export function unwrapIpPayload(d: Buffer, p: IpPayload, out: Tunnelled): DecodeStatus {
  const proto = p.proto;
  const ipInIp = proto === PROTO_IPV4 || proto === PROTO_IPV6;
  if (p.frag === IpFrag.LATER) return ipInIp || proto === PROTO_GRE ? 'ip-fragment' : 'not-tcp';
  const first = p.frag === IpFrag.FIRST;
  const end = first ? p.off + MAX_IP_PAYLOAD : p.end;
  if (proto === PROTO_GRE) return gre(d, p.off, end, out);
  if (proto === PROTO_UDP) return udp(d, p.off, end, first, out);
  if (!ipInIp) return 'not-tcp';
  out.off = p.off;
  out.type = proto === PROTO_IPV4 ? EtherType.IPV4 : EtherType.IPV6;
  out.end = end;
  return 'ok';
}

// GRE flag bits (RFC 1701, RFC 2784, RFC 2890; RFC 2637 for version 1).
const GRE_CHECKSUM = 0x8000;
const GRE_ROUTING = 0x4000;
const GRE_KEY = 0x2000;
const GRE_SEQUENCE = 0x1000;
const GRE_ACK = 0x0080;
const GRE_PPP = 0x880b;
const GRE_ERSPAN_2 = 0x88be;
const GRE_ERSPAN_3 = 0x22eb;
const ERSPAN_2_HEADER = 8;
const ERSPAN_3_HEADER = 12;
const ERSPAN_3_SUBHEADER = 8;

/**
 * A GRE header with the optional fields its flags announce: checksum and offset, key, sequence
 * number, source routing entries (RFC 1701), and for version 1 (PPTP) the acknowledgement number
 * and the PPP header. ERSPAN types I–III and Aruba's 802.11 types have their own payloads; every
 * other protocol type is an ethertype.
 */
function gre(d: Buffer, off: number, end: number, out: Tunnelled): DecodeStatus {
  if (off + 4 > end) return 'bad-encap';
  if (off + 4 > d.length) return 'truncated-encap';
  const flags = u16(d, off);
  const proto = u16(d, off + 2);
  const version = flags & 0x0007;
  if (version > 1) return 'bad-encap';
  let p = off + 4;
  if ((flags & (GRE_CHECKSUM | GRE_ROUTING)) !== 0) p += 4;
  if ((flags & GRE_KEY) !== 0) p += 4;
  if ((flags & GRE_SEQUENCE) !== 0) p += 4;
  if (version === 1 && (flags & GRE_ACK) !== 0) p += 4;
  if ((flags & GRE_ROUTING) !== 0) {
    // Source route entries, each: address family, offset, length, then length bytes; a NULL entry
    // (family 0, length 0) ends the list.
    for (;;) {
      if (p + 4 > end) return 'bad-encap';
      if (p + 4 > d.length) return 'truncated-encap';
      const family = u16(d, p);
      const len = d[p + 3];
      p += 4 + len;
      if (family === 0 && len === 0) break;
    }
  }
  if (p > end) return 'bad-encap';
  if (p > d.length) return 'truncated-encap';
  out.end = end;
  if (version === 1) {
    // Enhanced GRE (PPTP) carries only PPP.
    if (proto !== GRE_PPP) return 'bad-encap';
    return ppp(d, p, end, out);
  }
  if (proto === GRE_ERSPAN_2) {
    // Type I has no header of its own; type II (with a sequence number) has 8 bytes.
    if ((flags & GRE_SEQUENCE) !== 0) p += ERSPAN_2_HEADER;
    return ethernetIn(p, end, d, out);
  }
  if (proto === GRE_ERSPAN_3) {
    if (p + ERSPAN_3_HEADER > end) return 'bad-encap';
    if (p + ERSPAN_3_HEADER > d.length) return 'truncated-encap';
    // The O bit, last of the header: a platform-specific subheader follows.
    const optional = (d[p + ERSPAN_3_HEADER - 1] & 0x01) !== 0;
    p += ERSPAN_3_HEADER + (optional ? ERSPAN_3_SUBHEADER : 0);
    return ethernetIn(p, end, d, out);
  }
  out.off = p;
  out.type = isArubaWlan(proto) ? WLAN_FRAME : proto;
  return 'ok';
}

/** The GRE protocol types Aruba's controllers use for tunnelled 802.11 frames. */
function isArubaWlan(proto: number): boolean {
  return (proto >= 0x8200 && proto <= 0x8370 && (proto & 0x000f) === 0) || proto === 0x9000;
}

function ethernetIn(p: number, end: number, d: Buffer, out: Tunnelled): DecodeStatus {
  if (p > end) return 'bad-encap';
  if (p > d.length) return 'truncated-encap';
  out.off = p;
  out.type = EtherType.TEB;
  return 'ok';
}

/**
 * A PPP frame in PPTP's GRE: optional address and control bytes (FF 03), then the protocol field,
 * one byte when compressed (odd first byte) or two.
 */
function ppp(d: Buffer, p: number, end: number, out: Tunnelled): DecodeStatus {
  // An acknowledgement-only packet carries no PPP frame.
  if (p >= end) return 'not-tcp';
  if (p + 2 > d.length) return 'truncated-encap';
  if (d[p] === 0xff && d[p + 1] === 0x03) p += 2;
  if (p + 1 > d.length) return 'truncated-encap';
  let proto = d[p];
  if ((proto & 0x01) !== 0) p += 1;
  else {
    if (p + 2 > d.length) return 'truncated-encap';
    proto = u16(d, p);
    p += 2;
  }
  if (p > end) return 'bad-encap';
  if (proto === 0x21) out.type = EtherType.IPV4;
  else if (proto === 0x57) out.type = EtherType.IPV6;
  else return 'not-tcp';
  out.off = p;
  return 'ok';
}

const TUNNEL_NONE = 0;
const TUNNEL_GTP_U = 1;
const TUNNEL_TEREDO = 2;
const TUNNEL_GRE = 3;
const TUNNEL_VXLAN = 4;
const TUNNEL_AYIYA = 5;
const TUNNEL_GENEVE = 6;
// Teredo found by its content on some other port (see looksLikeTeredo).
const TUNNEL_TEREDO_SEEN = 7;

function tunnelByPort(port: number): number {
  switch (port) {
    case PORT_GTP_U:
      return TUNNEL_GTP_U;
    case PORT_TEREDO:
      return TUNNEL_TEREDO;
    case PORT_GRE_UDP:
      return TUNNEL_GRE;
    case PORT_VXLAN:
      return TUNNEL_VXLAN;
    case PORT_AYIYA:
      return TUNNEL_AYIYA;
    case PORT_GENEVE:
      return TUNNEL_GENEVE;
    default:
      return TUNNEL_NONE;
  }
}

/**
 * A UDP datagram: a tunnel when either port is a tunnel's (the destination port first, as a
 * source port is often random), or when it holds a Teredo packet by Zeek's signature. Only then
 * is its length checked: a plain UDP datagram is not ours to judge.
 */
function udp(d: Buffer, off: number, end: number, firstFragment: boolean, out: Tunnelled): DecodeStatus {
  if (off + 4 > end || off + 4 > d.length) return 'not-tcp';
  let kind = tunnelByPort(u16(d, off + 2));
  if (kind === TUNNEL_NONE) kind = tunnelByPort(u16(d, off));
  if (kind === TUNNEL_NONE) {
    // The signature needs the whole datagram, which a first fragment does not hold.
    if (firstFragment || !looksLikeTeredo(d, off + UDP_HEADER, end)) return 'not-tcp';
    kind = TUNNEL_TEREDO_SEEN;
  }
  if (off + UDP_HEADER > end) return 'bad-encap';
  if (off + UDP_HEADER > d.length) return 'truncated-encap';
  const len = u16(d, off + 4);
  // Length 0: a jumbogram's, or segmentation offload's; the IP length is the measure then.
  if (len !== 0 && (len < UDP_HEADER || off + len > end)) return 'bad-encap';
  const udpEnd = len === 0 ? end : off + len;
  const p = off + UDP_HEADER;
  out.end = udpEnd;
  switch (kind) {
    case TUNNEL_VXLAN:
      return vxlan(d, p, udpEnd, out);
    case TUNNEL_GENEVE:
      return geneve(d, p, udpEnd, out);
    case TUNNEL_GTP_U:
      return gtpU(d, p, udpEnd, out);
    case TUNNEL_GRE:
      return gre(d, p, udpEnd, out);
    case TUNNEL_AYIYA:
      return ayiya(d, p, udpEnd, out);
    case TUNNEL_TEREDO:
      return teredo(d, p, udpEnd, out);
    default:
      out.off = p;
      out.type = EtherType.IPV6;
      return 'ok';
  }
}

/** Checks that `n` header bytes from `p` lie inside the datagram and were captured. */
function need(d: Buffer, p: number, n: number, end: number): DecodeStatus {
  if (p + n > end) return 'bad-encap';
  if (p + n > d.length) return 'truncated-encap';
  return 'ok';
}

/** VXLAN (RFC 7348): 8 bytes with the I flag (a valid VNI) set, then an Ethernet frame. */
function vxlan(d: Buffer, p: number, end: number, out: Tunnelled): DecodeStatus {
  const st = need(d, p, 8, end);
  if (st !== 'ok') return st;
  if ((d[p] & 0x08) === 0) return 'bad-encap';
  out.off = p + 8;
  out.type = EtherType.TEB;
  return 'ok';
}

/** Geneve (RFC 8926): version 0, options of 4-byte units, then the protocol type's payload. */
function geneve(d: Buffer, p: number, end: number, out: Tunnelled): DecodeStatus {
  let st = need(d, p, 8, end);
  if (st !== 'ok') return st;
  if (d[p] >>> 6 !== 0) return 'bad-encap';
  const len = 8 + ((d[p] & 0x3f) << 2);
  st = need(d, p, len, end);
  if (st !== 'ok') return st;
  out.off = p + len;
  out.type = u16(d, p + 2);
  return 'ok';
}

const GTP_G_PDU = 0xff;
// Flags: version (3 bits), protocol type, reserved, E (extension header), S (sequence), PN (N-PDU).
const GTP_OPTIONAL = 0x07;
const GTP_EXTENSION = 0x04;

/**
 * GTPv1-U (3GPP TS 29.281): an 8-byte header; when any of E, S, PN is set the sequence number,
 * N-PDU number and next extension type follow, then the chain of extension headers (length in
 * 4-byte units, the next type in each one's last byte). Only G-PDUs carry user packets; the
 * header's length field bounds them.
 */
function gtpU(d: Buffer, p: number, end: number, out: Tunnelled): DecodeStatus {
  let st = need(d, p, 8, end);
  if (st !== 'ok') return st;
  const flags = d[p];
  // Version 1 and protocol type GTP (not GTP').
  if (flags >>> 5 !== 1 || (flags & 0x10) === 0) return 'bad-encap';
  const pduEnd = p + 8 + u16(d, p + 2);
  if (pduEnd > end) return 'bad-encap';
  // Echo, error indication, end marker: signalling, no user packet.
  if (d[p + 1] !== GTP_G_PDU) return 'not-tcp';
  let q = p + 8;
  if ((flags & GTP_OPTIONAL) !== 0) {
    st = need(d, q, 4, pduEnd);
    if (st !== 'ok') return st;
    let nextType = (flags & GTP_EXTENSION) !== 0 ? d[q + 3] : 0;
    q += 4;
    while (nextType !== 0) {
      st = need(d, q, 1, pduEnd);
      if (st !== 'ok') return st;
      const len = d[q] << 2;
      if (len === 0) return 'bad-encap';
      st = need(d, q, len, pduEnd);
      if (st !== 'ok') return st;
      nextType = d[q + len - 1];
      q += len;
    }
  }
  out.off = q;
  out.type = IP_BY_VERSION;
  out.end = pduEnd;
  return 'ok';
}

/**
 * AYIYA: 8 bytes (identity length as a power of two, signature length in 4-byte units, opcode,
 * next header, epoch), the identity and the signature, then the packet when the opcode is
 * "forward" (1).
 */
function ayiya(d: Buffer, p: number, end: number, out: Tunnelled): DecodeStatus {
  let st = need(d, p, 8, end);
  if (st !== 'ok') return st;
  const len = 8 + (1 << (d[p] >>> 4)) + ((d[p + 1] >>> 4) << 2);
  st = need(d, p, len, end);
  if (st !== 'ok') return st;
  if ((d[p + 2] & 0x0f) !== 1) return 'not-tcp';
  const nextHeader = d[p + 3];
  if (nextHeader === PROTO_IPV6) out.type = EtherType.IPV6;
  else if (nextHeader === PROTO_IPV4) out.type = EtherType.IPV4;
  else return 'not-tcp';
  out.off = p + len;
  return 'ok';
}

const TEREDO_AUTH = 0x0001;
const TEREDO_ORIGIN = 0x0000;
const TEREDO_ORIGIN_LEN = 8;
// Nonce (8) and confirmation byte (1) after the client identifier and authentication value.
const TEREDO_AUTH_TAIL = 9;

/**
 * Teredo (RFC 4380): an optional authentication indication, then an optional origin indication,
 * then an IPv6 packet (a bubble when it has no payload).
 */
function teredo(d: Buffer, p: number, end: number, out: Tunnelled): DecodeStatus {
  let st = need(d, p, 2, end);
  if (st !== 'ok') return st;
  if (u16(d, p) === TEREDO_AUTH) {
    st = need(d, p, 4, end);
    if (st !== 'ok') return st;
    const len = 4 + d[p + 2] + d[p + 3] + TEREDO_AUTH_TAIL;
    st = need(d, p, len + 2, end);
    if (st !== 'ok') return st;
    p += len;
  }
  if (u16(d, p) === TEREDO_ORIGIN) {
    st = need(d, p, TEREDO_ORIGIN_LEN + 1, end);
    if (st !== 'ok') return st;
    p += TEREDO_ORIGIN_LEN;
  }
  st = need(d, p, 1, end);
  if (st !== 'ok') return st;
  if (d[p] >>> 4 !== 6) return 'bad-encap';
  out.off = p;
  out.type = EtherType.IPV6;
  return 'ok';
}

/**
 * Zeek finds Teredo on any UDP port by its content; so does this, with the same signature: an
 * IPv6 header whose source or destination is a Teredo address (2001:0000::/32), here also
 * required to fill the datagram exactly, which random payloads practically never do.
 */
function looksLikeTeredo(d: Buffer, p: number, end: number): boolean {
  if (p + 40 > end || p + 40 > d.length) return false;
  if (d[p] >>> 4 !== 6 || p + 40 + u16(d, p + 4) !== end) return false;
  return isTeredoAddress(d, p + 8) || isTeredoAddress(d, p + 24);
}

function isTeredoAddress(d: Buffer, a: number): boolean {
  return d[a] === 0x20 && d[a + 1] === 0x01 && d[a + 2] === 0x00 && d[a + 3] === 0x00;
}
