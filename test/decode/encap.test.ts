import { describe, expect, it } from 'vitest';
import type { DecodeStatus } from '../../src/decode/segment';
import type { Fixture } from './fixtures/fixture';
import * as E from './fixtures/encap';
import * as L from './fixtures/link';
import { decodeFixture, decodeOk, headerFields } from './decode-view';

const RST = 0x04;
const ACK = 0x10;
const PSH = 0x08;
const SYN = 0x02;

// Values as the tcpdump and tshark lines above each fixture print them.
const MPLS_ACK4 = {
  family: 4, src: '10.1.2.1', dst: '10.34.0.1', srcPort: 11001, dstPort: 23, ack: 2379583141, flags: ACK,
  window: 4128, payloadLen: 0,
};
const PSH6 = {
  family: 6, src: '::1', dst: '::1', srcPort: 38080, dstPort: 47312, seq: 1357558142, ack: 2185152034,
  flags: PSH | ACK, window: 64, payloadLen: 7, capturedPayloadLen: 7,
};
const SNAP_SYN4 = {
  family: 4, src: '192.168.1.1', dst: '192.168.1.2', srcPort: 12345, dstPort: 80, seq: 100, flags: SYN, window: 8192,
};
const CFP_SYN = { srcPort: 57005, dstPort: 48879, seq: 0, flags: SYN, window: 8192, payloadLen: 0 };

describe('link-level encapsulations', () => {
  // [what, fixture, fields the lines above it show, offset of the TCP header in the frame]
  const good: Array<[string, Fixture, object, number]> = [
    ['MPLS, one label', E.mplsAck4, MPLS_ACK4, 14 + 4 + 20],
    ['802.1Q, two MPLS labels (cut by the snap length)', E.vlanMplsPsh4, {
      family: 4, src: '65.65.65.65', dst: '65.65.65.65', srcPort: 61193, dstPort: 80, seq: 2629953142,
      ack: 1594306258, flags: PSH | ACK, window: 25480, payloadLen: 658, capturedPayloadLen: 96 - 46 - 32,
      tsVal: 10772702, tsEcr: 1220236824,
    }, 14 + 4 + 8 + 20],
    ['two MPLS labels, IPv6', E.mplsPsh6, PSH6, 14 + 8 + 40],
    ['MPLS, Ethernet pseudowire with control word', E.mplsPwEthAck4, MPLS_ACK4, 14 + 4 + 4 + 14 + 20],
    ['802.1Q, PBB, 802.1Q', E.pbbAck4, {
      family: 4, src: '10.199.249.12', dst: '10.199.249.11', srcPort: 49416, dstPort: 49601, flags: ACK, window: 256,
    }, 14 + 4 + 18 + 4 + 20],
    ['QinQ, PPPoE, PPP IPv4', E.pppoeAck4, {
      family: 4, src: '1.1.1.1', dst: '2.2.2.2', srcPort: 20394, dstPort: 443, ack: 4237340679, flags: ACK, window: 4043,
    }, 14 + 8 + 8 + 20],
    ['PPPoE, PPP IPv6', E.pppoePsh6, PSH6, 14 + 8 + 40],
    ['802.1Q, VN-Tag, 802.1Q (options cut by the snap length)', E.vntagSynAck4, {
      family: 4, src: '10.10.10.1', dst: '10.10.10.2', srcPort: 443, dstPort: 56960, flags: SYN | ACK, window: 65535,
      headerLen: 40, optionsTruncated: true,
    }, 14 + 4 + 6 + 4 + 20],
    ['FabricPath, IPv4', E.fabricPathSyn4, { family: 4, src: '1.1.1.6', dst: '2.2.2.2', ...CFP_SYN }, 16 + 14 + 20],
    ['FabricPath, IPv6', E.fabricPathSyn6, { family: 6, src: '1234::e', dst: '5678::', ...CFP_SYN }, 16 + 14 + 40],
    ['802.3, LLC/SNAP', E.snapSyn4, SNAP_SYN4, 14 + 8 + 20],
    ['LINUX_SLL protocol 802.2, LLC/SNAP', E.sllSnapSyn4, SNAP_SYN4, 16 + 8 + 20],
    ['FDDI, LLC/SNAP', E.fddiRst4, {
      family: 4, src: '128.3.140.132', dst: '194.140.136.34', srcPort: 2035, dstPort: 80, seq: 1388789261, flags: RST,
      window: 8192,
    }, 13 + 8 + 20],
  ];

  it.each(good)('%s: decodes the TCP segment inside', (_what, f, fields, tcpOff) => {
    const seg = decodeOk(f);
    expect(seg).toMatchObject(fields);
    expect(seg.tcpOff).toBe(tcpOff);
    // Link shims are no tunnels: the addresses were never anything but these.
    expect(seg.encapDepth).toBe(0);
  });

  it('gives the same segment however the link wraps the packet', () => {
    expect(headerFields(decodeOk(E.mplsPwEthAck4))).toEqual(headerFields(decodeOk(E.mplsAck4)));
    const psh6 = headerFields(decodeOk(L.ethPsh6));
    expect(headerFields(decodeOk(E.mplsPsh6))).toEqual(psh6);
    expect(headerFields(decodeOk(E.pppoePsh6))).toEqual(psh6);
    expect(headerFields(decodeOk(E.sllSnapSyn4))).toEqual(headerFields(decodeOk(E.snapSyn4)));
  });

  const other: Array<[string, Fixture, DecodeStatus]> = [
    ['Ethernet pseudowire carrying ARP', E.mplsPwArp, 'not-ip'],
    ['MPLS payload of neither IP version', E.mplsNibble5, 'not-ip'],
    ['MPLS stack cut before its bottom label', E.mplsNoBottom, 'truncated-link'],
    ['PPPoE session carrying LCP', E.pppoeLcp, 'not-ip'],
    ['PPPoE version 2', E.pppoeBadVersion, 'bad-encap'],
    ['PPPoE discovery', E.pppoeDiscovery, 'not-ip'],
    ['802.3 spanning tree', E.llcStp, 'not-ip'],
    ['FDDI SMT frame', E.fddiSmt, 'not-ip'],
  ];

  it.each(other)('%s → %s', (_what, f, code) => {
    expect(decodeFixture(f).status).toBe(code);
  });

  it('reads a cut inside any link-level header as a truncated link', () => {
    // Each cut ends inside the encapsulation header itself, before any IP byte.
    const cuts: Array<[Fixture, number]> = [
      [E.mplsAck4, 16], [E.pbbAck4, 30], [E.pppoeAck4, 26], [E.vntagSynAck4, 20], [E.fabricPathSyn4, 20],
      [E.snapSyn4, 18], [E.fddiRst4, 16], [E.mplsPwEthAck4, 30],
    ];
    for (const [f, n] of cuts) {
      expect(decodeFixture({ linkType: f.linkType, data: f.data.subarray(0, n), origLen: f.origLen }).status).toBe('truncated-link');
    }
  });
});
