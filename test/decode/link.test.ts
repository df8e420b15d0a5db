import { describe, expect, it } from 'vitest';
import type { DecodeStatus } from '../../src/decode/segment';
import type { Fixture } from './fixtures/fixture';
import * as L from './fixtures/link';
import { decodeFixture, decodeOk, headerFields } from './decode-view';

const ACK = 0x10;
const PSH = 0x08;
const SYN = 0x02;

// Values as the tcpdump lines above each fixture print them.
const PSH4 = {
  family: 4, src: '127.0.0.1', dst: '127.0.0.1', srcPort: 49962, dstPort: 47311,
  seq: 1720932489, ack: 3104105496, flags: PSH | ACK, window: 64, headerLen: 32,
  payloadLen: 6, capturedPayloadLen: 6, tsVal: 3381574659, tsEcr: 2349802050,
};
const PSH6 = {
  family: 6, src: '::1', dst: '::1', srcPort: 38080, dstPort: 47312,
  seq: 1357558142, ack: 2185152034, flags: PSH | ACK, window: 64, headerLen: 32,
  payloadLen: 7, capturedPayloadLen: 7, tsVal: 1653919575, tsEcr: 633719290,
};
const SYN4 = {
  family: 4, srcPort: 49962, dstPort: 47311, seq: 1720932488, flags: SYN, window: 65495,
  mss: 65495, sackPermitted: true, hasTimestamps: true, tsVal: 3381574659, tsEcr: 0, wscale: 10,
  payloadLen: 0,
};
const SYN6 = {
  family: 6, srcPort: 38080, dstPort: 47312, seq: 1357558141, flags: SYN, window: 65476,
  mss: 65476, sackPermitted: true, tsVal: 1653919575, wscale: 10, payloadLen: 0,
};

describe('link layers', () => {
  // [fixture, fields tcpdump shows, offset of the TCP header in the frame]
  const good: Array<[string, Fixture, object, number]> = [
    ['Ethernet, IPv4', L.ethSyn4, SYN4, 14 + 20],
    ['Ethernet, IPv6', L.ethPsh6, PSH6, 14 + 40],
    ['802.1Q', L.vlanPsh4, PSH4, 18 + 20],
    ['802.1ad + 802.1Q', L.qinqPsh6, PSH6, 22 + 40],
    ['0x9100 + 802.1Q', L.qinq9100Psh4, PSH4, 22 + 20],
    ['NULL, AF_INET little-endian', L.nullSyn4, SYN4, 4 + 20],
    ['NULL, AF_INET6 24 little-endian', L.nullPsh6Bsd, PSH6, 4 + 40],
    ['NULL, AF_INET6 28 big-endian', L.nullPsh6FreeBsd, PSH6, 4 + 40],
    ['NULL, AF_INET6 30', L.nullSyn6Darwin, SYN6, 4 + 40],
    ['LOOP, AF_INET', L.loopPsh4, PSH4, 4 + 20],
    ['LOOP, AF_INET6', L.loopPsh6, PSH6, 4 + 40],
    ['LINUX_SLL, IPv4', L.sllSyn4, { ...SYN4, srcPort: 57708, dstPort: 47313, seq: 3484102334, tsVal: 879919055 }, 16 + 20],
    ['LINUX_SLL, IPv6', L.sllPsh6, { family: 6, srcPort: 33862, dstPort: 47313, seq: 354818710, ack: 2458358965, payloadLen: 3 }, 16 + 40],
    ['LINUX_SLL2, IPv4', L.sll2Psh4, { family: 4, srcPort: 57708, dstPort: 47313, seq: 3484102335, ack: 1178506466, payloadLen: 3 }, 20 + 20],
    ['LINUX_SLL2, IPv6', L.sll2Syn6, { family: 6, srcPort: 33862, dstPort: 47313, seq: 354818709, flags: SYN, mss: 65476 }, 20 + 40],
    ['RAW, IPv4', L.rawPsh4, PSH4, 20],
    ['RAW, IPv6', L.rawPsh6, PSH6, 40],
    ['RAW (12), IPv4', L.raw12Syn4, SYN4, 20],
    ['RAW (14), IPv6', L.raw14Syn6, SYN6, 40],
    ['IPV4', L.ipv4Psh4, PSH4, 20],
    ['IPV6', L.ipv6Psh6, PSH6, 40],
  ];

  it.each(good)('%s: decodes the TCP segment behind the link header', (_name, f, fields, tcpOff) => {
    const seg = decodeOk(f);
    expect(seg).toMatchObject(fields);
    expect(seg.tcpOff).toBe(tcpOff);
  });

  it('gives the same segment whatever link header carries the packet', () => {
    const ref4 = headerFields(decodeOk(L.rawPsh4));
    for (const f of [L.vlanPsh4, L.qinq9100Psh4, L.loopPsh4, L.ipv4Psh4]) expect(headerFields(decodeOk(f))).toEqual(ref4);
    const ref6 = headerFields(decodeOk(L.rawPsh6));
    for (const f of [L.ethPsh6, L.qinqPsh6, L.nullPsh6Bsd, L.nullPsh6FreeBsd, L.loopPsh6, L.ipv6Psh6]) {
      expect(headerFields(decodeOk(f))).toEqual(ref6);
    }
  });

  const bad: Array<[string, Fixture, DecodeStatus]> = [
    ['ARP on Ethernet', L.ethArp, 'not-ip'],
    ['ARP behind 802.1Q', L.vlanArp, 'not-ip'],
    ['ARP on LINUX_SLL', L.sllArp, 'not-ip'],
    ['ARP on LINUX_SLL2', L.sll2Arp, 'not-ip'],
    ['NULL address family 7', L.nullAf7, 'not-ip'],
    ['LOOP address family 7', L.loopAf7, 'not-ip'],
    ['UDP on Ethernet', L.ethUdp4, 'not-tcp'],
    ['UDP on LINUX_SLL', L.sllUdp4, 'not-tcp'],
    ['UDP over IPv6 on LINUX_SLL2', L.sll2Udp6, 'not-tcp'],
    ['Ethernet header cut short', L.ethShort, 'truncated-link'],
    ['802.1Q tag cut short', L.vlanCut, 'truncated-link'],
    ['LINUX_SLL header cut short', L.sllShort, 'truncated-link'],
    ['LINUX_SLL2 header cut short', L.sll2Short, 'truncated-link'],
    ['NULL header cut short', L.nullShort, 'truncated-link'],
    ['unknown link type', L.user0Syn4, 'unsupported-link'],
    ['IPv6 behind ethertype IPv4', L.ethV6InV4, 'bad-ip-version'],
    ['IPv6 under LINKTYPE_IPV4', L.ipv4LtV6, 'bad-ip-version'],
    ['IPv4 under LINKTYPE_IPV6', L.ipv6LtV4, 'bad-ip-version'],
    ['IPv4 behind NULL AF_INET6', L.nullV4AsV6, 'bad-ip-version'],
    ['RAW with IP version 5', L.rawV5, 'bad-ip-version'],
  ];

  it.each(bad)('%s → %s', (_name, f, code) => {
    expect(decodeFixture(f).status).toBe(code);
  });

  it('an empty raw IP frame is a truncated IP packet', () => {
    expect(decodeFixture({ linkType: 101, data: Buffer.alloc(0), origLen: 0 }).status).toBe('truncated-ip');
  });
});
