import { describe, expect, it } from 'vitest';
import type { DecodeStatus } from '../../src/decode/segment';
import type { Fixture } from './fixtures/fixture';
import * as V6 from './fixtures/ipv6';
import { decodeFixture, decodeOk, headerFields } from './decode-view';

const ETH = 14;
const FIXED = 40;

describe('IPv6', () => {
  it('decodes every field of a real SYN', () => {
    expect(decodeOk(V6.syn6)).toEqual({
      family: 6,
      src: '::1',
      dst: '::1',
      srcPort: 38080,
      dstPort: 47312,
      seq: 1357558141,
      ack: 0,
      flags: 0x002,
      window: 65476,
      urgent: 0,
      headerLen: 40,
      payloadLen: 0,
      capturedPayloadLen: 0,
      tcpOff: ETH + FIXED,
      ttl: 64,
      encapDepth: 0,
      mss: 65476,
      wscale: 10,
      sackPermitted: true,
      sack: [],
      hasTimestamps: true,
      tsVal: 1653919575,
      tsEcr: 0,
      optionsMalformed: false,
      optionsTruncated: false,
    });
  });

  // Real SYNs sent through sockets with sticky extension headers; tcpdump's lines give the values.
  const ext: Array<[string, Fixture, number, number, number]> = [
    ['hop-by-hop options', V6.hbh6, 49342, 3353522580, 8],
    ['destination options', V6.dst6, 49352, 1634192962, 8],
    ['hop-by-hop then destination options', V6.hbhDst6, 49366, 1908388785, 16],
    ['routing (segment routing header)', V6.routing6, 35048, 143998617, 24],
  ];

  it.each(ext)('walks %s to TCP', (_name, f, srcPort, seq, extLen) => {
    expect(decodeOk(f)).toMatchObject({
      family: 6, srcPort, dstPort: 47312, seq, flags: 0x002, window: 65476, mss: 65476, wscale: 10,
      tcpOff: ETH + FIXED + extLen, payloadLen: 0,
    });
  });

  const samePsh6: Array<[string, Fixture, number]> = [
    ['a first fragment holding the whole TCP header', V6.psh6FirstFragment, 8],
    ['an atomic fragment', V6.psh6AtomicFragment, 8],
    ['an authentication header', V6.psh6Ah, 24],
    ['destination options then an authentication header', V6.psh6DstAh, 8 + 24],
    ['a payload length of 0 without a jumbo option', V6.psh6ZeroPayloadLength, 0],
    ['trailer bytes after the packet', V6.psh6Trailer, 0],
  ];

  it.each(samePsh6)('decodes the segment behind %s', (_name, f, extLen) => {
    const seg = decodeOk(f);
    expect(seg.tcpOff).toBe(ETH + FIXED + extLen);
    expect(headerFields(seg)).toEqual(headerFields(decodeOk(V6.psh6)));
  });

  it('takes a jumbogram length from its Jumbo Payload option', () => {
    const seg = decodeOk(V6.psh6Jumbo);
    expect(seg).toMatchObject({ seq: 1357558142, ack: 2185152034, payloadLen: 70000, capturedPayloadLen: 7 });
    expect(seg.tcpOff).toBe(ETH + FIXED + 8);
  });

  const bad: Array<[string, Fixture, DecodeStatus]> = [
    ['a later fragment', V6.psh6LaterFragment, 'ip-fragment'],
    ['a first fragment splitting the TCP header', V6.syn6ShortFirstFragment, 'short-first-fragment'],
    ['No Next Header', V6.dst6NoNext, 'not-tcp'],
    ['ESP', V6.psh6Esp, 'not-tcp'],
    ['UDP', V6.udp6, 'not-tcp'],
    ['hop-by-hop after another extension header', V6.psh6HbhNotFirst, 'bad-ip6-ext'],
    ['an extension header running past the payload', V6.dst6PastPayload, 'bad-ip6-ext'],
    ['an extension header cut by the snap length', V6.hbhDst6Cut, 'truncated-ip6-ext'],
    ['a payload length beyond the frame', V6.psh6PayloadBeyondFrame, 'bad-ip-total-length'],
    ['version 4 in an IPv6 header', V6.psh6Version4, 'bad-ip-version'],
    ['a fixed header cut by the snap length', V6.psh6Cut, 'truncated-ip'],
  ];

  it.each(bad)('%s → %s', (_name, f, code) => {
    expect(decodeFixture(f).status).toBe(code);
  });
});
