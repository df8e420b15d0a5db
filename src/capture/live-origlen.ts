import { LinkType } from '../decode/linktype';

/**
 * Length of the link header in front of the IP header, or -1 when the frame is not IP or its
 * link type is unknown. Ethernet VLAN tags (802.1Q, 802.1ad, old QinQ) are stepped over.
 */
function ipOffset(linkType: number, buf: Buffer, capLen: number): number {
  switch (linkType) {
    case LinkType.ETHERNET: {
      let typeOff = 12;
      if (typeOff + 2 > capLen) return -1;
      let type = (buf[typeOff] << 8) | buf[typeOff + 1];
      while (type === 0x8100 || type === 0x88a8 || type === 0x9100) {
        typeOff += 4;
        if (typeOff + 2 > capLen) return -1;
        type = (buf[typeOff] << 8) | buf[typeOff + 1];
      }
      return type === 0x0800 || type === 0x86dd ? typeOff + 2 : -1;
    }
    case LinkType.NULL:
    case LinkType.LOOP:
      return 4;
    case LinkType.LINUX_SLL:
      return 16;
    case LinkType.LINUX_SLL2:
      return 20;
    case LinkType.RAW:
    case LinkType.RAW_OPENBSD:
    case LinkType.RAW_BSD:
    case LinkType.IPV4:
    case LinkType.IPV6:
      return 0;
    default:
      return -1;
  }
}

/**
 * The length the frame had on the wire, which libpcap knows but `cap` does not pass on: the link
 * header plus the IP header's own length (IPv4 total length, IPv6 payload length + 40). Falls
 * back to the captured length when the frame is not IP, the header is cut off, or the length field
 * is 0 (an IPv6 jumbogram, or a segmentation-offload packet whose length the stack fills in later).
 * Never less than capLen: Ethernet padding and trailers were on the wire too.
 */
export function originalLength(linkType: number, buf: Buffer, capLen: number): number {
  const off = ipOffset(linkType, buf, capLen);
  if (off < 0 || off + 6 > capLen) return capLen;
  const version = buf[off] >> 4;
  let len: number;
  if (version === 4) {
    const total = (buf[off + 2] << 8) | buf[off + 3];
    if (total === 0) return capLen;
    len = off + total;
  } else if (version === 6) {
    const payload = (buf[off + 4] << 8) | buf[off + 5];
    if (payload === 0) return capLen;
    len = off + 40 + payload;
  } else {
    return capLen;
  }
  return len > capLen ? len : capLen;
}
