import { describe, expect, it } from 'vitest';
import { decodeFrame } from '../../src/decode/decode';
import { MAX_ENCAP_LAYERS } from '../../src/decode/layer';
import { Segment, type DecodeStatus } from '../../src/decode/segment';
import type { Fixture } from './fixtures/fixture';
import * as TU from './fixtures/tunnel';
import { decodeFixture, decodeOk, headerFields } from './decode-view';

const ACK = 0x10;
const PSH = 0x08;
const SYN = 0x02;

// Values as the tcpdump and tshark lines above each fixture print them: always the inner packet's.
const GRE_ACK4 = {
  family: 4, src: '66.59.111.190', dst: '172.28.2.3', srcPort: 40264, dstPort: 22, ack: 4183186841, flags: ACK,
  window: 5744, payloadLen: 0, tsVal: 112272735, tsEcr: 3998881,
};
const VXLAN_ACK4 = {
  family: 4, src: '172.16.11.201', dst: '54.86.237.188', srcPort: 40354, dstPort: 80, ack: 2518547739, flags: ACK,
  window: 501, tsVal: 3079526699, tsEcr: 231008526,
};
const TEREDO_SYN6 = {
  family: 6, src: '2001:0:4137:9e50:8000:f12a:b9c8:2815', dst: '2001:4860:0:2001::68', srcPort: 1286, dstPort: 80,
  seq: 2088463174, flags: SYN, window: 16384, mss: 1220,
};

describe('tunnels', () => {
  // [what, fixture, fields the lines above it show, tunnels around it, offset of the TCP header]
  const good: Array<[string, Fixture, object, number, number]> = [
    ['GRE', TU.greAck4, GRE_ACK4, 1, 14 + 20 + 4 + 20],
    ['GRE over UDP 4754', TU.greUdpAck4, {
      family: 4, src: '172.17.0.2', dst: '192.0.78.150', srcPort: 36518, dstPort: 80, flags: ACK, window: 500,
    }, 1, 14 + 20 + 8 + 4 + 20],
    ['Aruba GRE, 802.11 A-MSDU (first subframe)', TU.greArubaAmsdu, {
      family: 4, src: '157.240.18.16', dst: '149.159.130.184', srcPort: 443, dstPort: 49392, seq: 2467456022,
      ack: 2930625320, flags: PSH | ACK, window: 712, payloadLen: 229,
    }, 1, 18 + 20 + 4 + 26 + 14 + 8 + 20],
    ['VXLAN', TU.vxlanAck4, VXLAN_ACK4, 1, 14 + 20 + 8 + 8 + 14 + 20],
    ['Geneve with options', TU.geneveOptionsAck4, {
      family: 4, src: '10.0.0.226', dst: '95.217.228.176', srcPort: 39088, dstPort: 80, flags: ACK, window: 507,
      tsVal: 3525715221, tsEcr: 86924645,
    }, 1, 14 + 20 + 8 + 8 + 76 + 14 + 20],
    ['GTP-U with a sequence number', TU.gtpSeqAck4, {
      family: 4, src: '173.194.69.188', dst: '10.222.10.10', srcPort: 5228, dstPort: 44960, flags: ACK, window: 222,
      tsVal: 3306950306, tsEcr: 822484,
    }, 1, 14 + 20 + 8 + 12 + 20],
    ['GTP-U from a port other than 2152', TU.gtpAck4, { family: 4, src: '10.131.17.170', srcPort: 51803, dstPort: 80 }, 1, 14 + 20 + 8 + 8 + 20],
    ['GTP-U with two extension headers', TU.gtpExtAck4, GRE_ACK4, 1, 14 + 20 + 8 + 12 + 8 + 4 + 20],
    ['AYIYA', TU.ayiyaAck6, {
      family: 6, src: '2001:4978:f:4c::2', dst: '2001:4860:b002::68', srcPort: 53382, dstPort: 80, flags: ACK,
    }, 1, 14 + 20 + 8 + 8 + 16 + 20 + 40],
    ['Teredo found by its signature', TU.teredoSeenSyn6, TEREDO_SYN6, 1, 14 + 20 + 8 + 40],
    ['Teredo with authentication and origin indications', TU.teredoAuthOriginSyn6, TEREDO_SYN6, 1, 14 + 20 + 8 + 13 + 8 + 40],
    ['GRE with checksum, key and sequence number', TU.greOptionsAck4, GRE_ACK4, 1, 14 + 20 + 16 + 20],
    ['GRE with a source route', TU.greRoutingAck4, GRE_ACK4, 1, 14 + 20 + 8 + 12 + 4 + 20],
    ['GRE, transparent Ethernet bridging', TU.greTebAck4, GRE_ACK4, 1, 14 + 20 + 4 + 14 + 20],
    ['GRE, MPLS', TU.greMplsAck4, GRE_ACK4, 1, 14 + 20 + 4 + 4 + 20],
    ['ERSPAN type I', TU.erspan1Ack4, GRE_ACK4, 1, 14 + 20 + 4 + 14 + 20],
    ['ERSPAN type II', TU.erspan2Ack4, GRE_ACK4, 1, 14 + 20 + 8 + 8 + 14 + 20],
    ['ERSPAN type III with its subheader', TU.erspan3Ack4, GRE_ACK4, 1, 14 + 20 + 8 + 20 + 14 + 20],
    ['PPTP (GRE version 1, PPP)', TU.pptpAck4, GRE_ACK4, 1, 14 + 20 + 16 + 4 + 20],
    ['GRE over IPv6', TU.gre6Ack4, GRE_ACK4, 1, 14 + 40 + 4 + 20],
    ['IPv4 in IPv4', TU.ipipAck4, GRE_ACK4, 1, 14 + 20 + 20],
    ['IPv6 in IPv4', TU.sixInFourSyn6, TEREDO_SYN6, 1, 14 + 20 + 40],
    ['IPv6 in IPv6', TU.ip6ip6Syn6, TEREDO_SYN6, 1, 14 + 40 + 40],
    ['IPv4 in IPv6', TU.ip4in6Ack4, GRE_ACK4, 1, 14 + 40 + 20],
    ['VXLAN over IPv6', TU.vxlan6Ack4, VXLAN_ACK4, 1, 14 + 40 + 8 + 8 + 14 + 20],
    ['Geneve carrying IPv4 directly', TU.geneveIpAck4, GRE_ACK4, 1, 14 + 20 + 8 + 8 + 20],
    ['VXLAN inside GRE', TU.greVxlanAck4, VXLAN_ACK4, 2, 14 + 20 + 4 + 20 + 8 + 8 + 14 + 20],
    ['GRE in a first fragment', TU.greFirstFragment, GRE_ACK4, 1, 14 + 20 + 4 + 20],
  ];

  it.each(good)('%s: decodes the inner TCP segment', (_what, f, fields, depth, tcpOff) => {
    const seg = decodeOk(f);
    expect(seg).toMatchObject(fields);
    expect(seg.encapDepth).toBe(depth);
    expect(seg.tcpOff).toBe(tcpOff);
  });

  it('gives the same segment whatever tunnel carries the packet', () => {
    const gre = headerFields(decodeOk(TU.greAck4));
    for (const f of [
      TU.greOptionsAck4, TU.greRoutingAck4, TU.greTebAck4, TU.greMplsAck4, TU.erspan1Ack4, TU.erspan2Ack4,
      TU.erspan3Ack4, TU.pptpAck4, TU.gre6Ack4, TU.ipipAck4, TU.ip4in6Ack4, TU.geneveIpAck4, TU.gtpExtAck4,
    ]) {
      expect(headerFields(decodeOk(f))).toEqual(gre);
    }
    const teredo = headerFields(decodeOk(TU.teredoSeenSyn6));
    for (const f of [TU.teredoAuthOriginSyn6, TU.sixInFourSyn6, TU.ip6ip6Syn6]) expect(headerFields(decodeOk(f))).toEqual(teredo);
    const vxlan = headerFields(decodeOk(TU.vxlanAck4));
    expect(headerFields(decodeOk(TU.vxlan6Ack4))).toEqual(vxlan);
    expect({ ...headerFields(decodeOk(TU.greVxlanAck4)), encapDepth: 1 }).toEqual(vxlan);
  });

  it("reads a first fragment's tunnelled segment with the inner packet's own lengths", () => {
    // The inner IPv4 header says 1480 bytes: 1440 of TCP data, of which the fragment holds what
    // `-s 128` kept.
    const seg = decodeOk(TU.gtpFirstFragment);
    expect(seg).toMatchObject({
      family: 4, src: '10.131.47.185', dst: '79.101.110.141', srcPort: 1923, dstPort: 80, flags: ACK, payloadLen: 1440,
      encapDepth: 1,
    });
    expect(seg.capturedPayloadLen).toBe(128 - seg.tcpOff - seg.headerLen);
  });

  const other: Array<[string, Fixture, DecodeStatus]> = [
    ['Teredo bubble', TU.teredoBubble, 'not-tcp'],
    ['GTP-U echo request', TU.gtpEcho, 'not-tcp'],
    ['nine IP-in-IP headers', TU.ipipNine, 'encap-too-deep'],
    ['GRE version 2', TU.greVersion2, 'bad-encap'],
    ['GRE header cut by the snap length', TU.greCut, 'truncated-encap'],
    ['IP packet ending inside the GRE header', TU.greBeyondIp, 'bad-encap'],
    ['VXLAN without a valid VNI', TU.vxlanNoVni, 'bad-encap'],
    ['UDP length shorter than its header', TU.vxlanUdpLength4, 'bad-encap'],
    ['Geneve options past the datagram', TU.geneveOptionsPastEnd, 'bad-encap'],
    ['GTP-U extension header of length 0', TU.gtpExtZeroLength, 'bad-encap'],
    ['GRE in a later fragment', TU.greLaterFragment, 'ip-fragment'],
    ['first fragment ending inside the inner TCP header', TU.vxlanShortFirstFragment, 'short-first-fragment'],
  ];

  it.each(other)('%s → %s', (_what, f, code) => {
    expect(decodeFixture(f).status).toBe(code);
  });

  it(`follows up to ${MAX_ENCAP_LAYERS} encapsulation headers`, () => {
    // ipipNine's innermost packets: k IP-in-IP headers for k = 1..9 (each header is 20 bytes).
    const f = TU.ipipNine;
    const seg = new Segment();
    for (let k = 1; k <= 9; k++) {
      const data = Buffer.concat([f.data.subarray(0, 14), f.data.subarray(14 + (9 - k) * 20)]);
      const st = decodeFrame(f.linkType, data, data.length, seg);
      expect(st, `${k} tunnels`).toBe(k <= MAX_ENCAP_LAYERS ? 'ok' : 'encap-too-deep');
      if (st === 'ok') expect(seg.encapDepth).toBe(k);
    }
  });

  it('leaves plain UDP alone, even on a tunnel port when it is no tunnel', () => {
    // vxlanAck4's datagram moved to port 53: no tunnel, no length checks, no TCP.
    const d = Buffer.from(TU.vxlanAck4.data);
    d.writeUInt16BE(53, 36);
    expect(decodeFixture({ ...TU.vxlanAck4, data: d }).status).toBe('not-tcp');
    // Teredo's signature on another port wants an IPv6 packet that fills the datagram exactly.
    const t = Buffer.from(TU.teredoSeenSyn6.data);
    t.writeUInt16BE(t.readUInt16BE(46) - 1, 46);
    expect(decodeFixture({ ...TU.teredoSeenSyn6, data: t }).status).toBe('not-tcp');
  });
});
