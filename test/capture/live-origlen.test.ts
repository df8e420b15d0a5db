import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { originalLength } from '../../src/capture/live-origlen';
import { LinkType } from '../../src/decode/linktype';

// Frames are built from header bytes as tcpdump -xx shows them, followed by zero filler up to the
// captured length; only the link header and the IP length fields matter here.

/** IPv4 header (20 bytes, protocol TCP) with the given total length. */
function ipv4(total: number): number[] {
  return [0x45, 0x00, total >> 8, total & 0xff, 0, 0, 0x40, 0, 64, 6, 0, 0, 127, 0, 0, 1, 127, 0, 0, 1];
}

/** IPv6 header (40 bytes, next header TCP) with the given payload length. */
function ipv6(payload: number): number[] {
  return [0x60, 0, 0, 0, payload >> 8, payload & 0xff, 6, 64, ...new Array(15).fill(0), 1, ...new Array(15).fill(0), 1];
}

const ETH_MACS = new Array(12).fill(0);
const eth = (type: number) => [...ETH_MACS, type >> 8, type & 0xff];
const vlan = (type: number) => [0x81, 0x00, 0x00, 0x64, type >> 8, type & 0xff]; // TPID, TCI (VLAN 100), next type

function frame(head: number[], capLen: number): Buffer {
  const b = Buffer.alloc(Math.max(capLen, head.length));
  Buffer.from(head).copy(b);
  return b.subarray(0, capLen);
}

describe('originalLength', () => {
  it.each([
    // 12:00:00.000000 IP 127.0.0.1.1 > 127.0.0.1.2: Flags [S] … length 0 (a 74-byte frame on lo)
    ['Ethernet IPv4', LinkType.ETHERNET, [...eth(0x0800), ...ipv4(60)], 74, 74],
    ['Ethernet IPv4, snap length cut it', LinkType.ETHERNET, [...eth(0x0800), ...ipv4(65535)], 65535, 65549],
    ['Ethernet IPv6', LinkType.ETHERNET, [...eth(0x86dd), ...ipv6(32)], 86, 86],
    ['Ethernet IPv6, cut', LinkType.ETHERNET, [...eth(0x86dd), ...ipv6(1440)], 96, 1494],
    ['802.1Q tagged', LinkType.ETHERNET, [...ETH_MACS, ...vlan(0x0800), ...ipv4(1500)], 64, 1518],
    ['QinQ', LinkType.ETHERNET, [...ETH_MACS, 0x88, 0xa8, 0, 1, ...vlan(0x86dd), ...ipv6(100)], 80, 162],
    ['Ethernet padding to 60 bytes', LinkType.ETHERNET, [...eth(0x0800), ...ipv4(40)], 60, 60],
    ['ARP', LinkType.ETHERNET, [...eth(0x0806), 0, 1, 8, 0], 42, 42],
    ['Linux cooked', LinkType.LINUX_SLL, [0, 0, 3, 4, 0, 6, ...new Array(8).fill(0), 0x08, 0x00, ...ipv4(1500)], 96, 1516],
    ['Linux cooked v2', LinkType.LINUX_SLL2, [0x86, 0xdd, ...new Array(18).fill(0), ...ipv6(1000)], 96, 1060],
    ['BSD loopback', LinkType.NULL, [2, 0, 0, 0, ...ipv4(1000)], 68, 1004],
    ['OpenBSD loopback', LinkType.LOOP, [0, 0, 0, 24, ...ipv6(8)], 52, 52],
    ['raw IPv4', LinkType.RAW, ipv4(9000), 100, 9000],
    ['raw IPv6', LinkType.RAW, ipv6(9000), 100, 9040],
    ['LINKTYPE_IPV4', LinkType.IPV4, ipv4(576), 64, 576],
    ['LINKTYPE_IPV6', LinkType.IPV6, ipv6(0), 64, 64], // jumbogram: length unknown
    ['IPv4 total length 0 (offload)', LinkType.ETHERNET, [...eth(0x0800), ...ipv4(0)], 200, 200],
    ['IP header cut off', LinkType.ETHERNET, [...eth(0x0800), 0x45, 0], 16, 16],
    ['not IP at all', LinkType.RAW, [0x10, 0, 0, 0, 0, 0], 6, 6],
    ['unknown link type', 147, [...eth(0x0800), ...ipv4(1500)], 64, 64],
  ])('%s', (_name, linkType, head, capLen, expected) => {
    expect(originalLength(linkType, frame(head, capLen), capLen)).toBe(expected);
  });

  it('never throws and never goes below the captured length', () => {
    const linkTypes: number[] = [...Object.values(LinkType), 147, 9999];
    fc.assert(
      fc.property(fc.constantFrom(...linkTypes), fc.uint8Array({ maxLength: 80 }), (lt, bytes) => {
        const b = Buffer.from(bytes);
        const n = originalLength(lt, b, b.length);
        expect(n).toBeGreaterThanOrEqual(b.length);
        expect(n).toBeLessThanOrEqual(b.length + 65535 + 40 + 64);
      }),
      { numRuns: 5000 },
    );
  });
});
