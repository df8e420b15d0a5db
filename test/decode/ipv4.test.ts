import { describe, expect, it } from 'vitest';
import type { DecodeStatus } from '../../src/decode/segment';
import type { Fixture } from './fixtures/fixture';
import * as V4 from './fixtures/ipv4';
import { decodeFixture, decodeOk, headerFields } from './decode-view';

describe('IPv4', () => {
  it('decodes every field of a real SYN', () => {
    expect(decodeOk(V4.syn4)).toEqual({
      family: 4,
      src: '127.0.0.1',
      dst: '127.0.0.1',
      srcPort: 49962,
      dstPort: 47311,
      seq: 1720932488,
      ack: 0,
      flags: 0x002,
      window: 65495,
      urgent: 0,
      headerLen: 40,
      payloadLen: 0,
      capturedPayloadLen: 0,
      tcpOff: 34,
      ttl: 64,
      encapDepth: 0,
      mss: 65495,
      wscale: 10,
      sackPermitted: true,
      sack: [],
      hasTimestamps: true,
      tsVal: 3381574659,
      tsEcr: 0,
      optionsMalformed: false,
      optionsTruncated: false,
    });
  });

  it('decodes a RST without options', () => {
    expect(decodeOk(V4.refused4)).toMatchObject({
      srcPort: 47321, dstPort: 58594, seq: 0, ack: 1529419159, flags: 0x014, window: 0,
      headerLen: 20, payloadLen: 0, mss: -1, wscale: -1, hasTimestamps: false,
    });
  });

  it('takes the payload from the total length, not the Ethernet padding after it', () => {
    expect(decodeOk(V4.refused4Padded)).toEqual(decodeOk(V4.refused4));
  });

  it('reads a total length of 0 (segmentation offload) from the frame length', () => {
    expect(decodeOk(V4.psh4Tso)).toEqual(decodeOk(V4.psh4));
  });

  it('steps over IP options to the TCP header', () => {
    const seg = decodeOk(V4.psh4IpOptions);
    expect(seg.tcpOff).toBe(14 + 24);
    expect(headerFields(seg)).toEqual(headerFields(decodeOk(V4.psh4)));
  });

  it('decodes a first fragment that holds the whole TCP header', () => {
    expect(decodeOk(V4.psh4FirstFragment)).toEqual(decodeOk(V4.psh4));
  });

  const bad: Array<[string, Fixture, DecodeStatus]> = [
    ['cut inside the fixed header', V4.psh4Cut, 'truncated-ip'],
    ['cut inside the IP options', V4.psh4IpOptionsCut, 'truncated-ip'],
    ['version 6 in an IPv4 header', V4.psh4Version6, 'bad-ip-version'],
    ['IHL 4', V4.psh4Ihl4, 'bad-ip-header-length'],
    ['IHL longer than the packet', V4.psh4Ihl15, 'bad-ip-total-length'],
    ['total length below IHL', V4.psh4TotalBelowIhl, 'bad-ip-total-length'],
    ['total length beyond the frame', V4.psh4TotalBeyondFrame, 'bad-ip-total-length'],
    ['UDP', V4.udp4, 'not-tcp'],
    ['UDP later fragment', V4.udp4LaterFragment, 'not-tcp'],
    ['later fragment', V4.psh4LaterFragment, 'ip-fragment'],
    ['middle fragment', V4.psh4MiddleFragment, 'ip-fragment'],
    ['first fragment splitting the fixed TCP header', V4.syn4ShortFirstFragment, 'short-first-fragment'],
    ['first fragment splitting the TCP options', V4.syn4SplitOptionsFirstFragment, 'short-first-fragment'],
  ];

  it.each(bad)('%s → %s', (_name, f, code) => {
    expect(decodeFixture(f).status).toBe(code);
  });
});
