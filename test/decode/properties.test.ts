import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeFrame } from '../../src/decode/decode';
import { LinkType } from '../../src/decode/linktype';
import { Segment } from '../../src/decode/segment';
import { DECODE_STATUSES } from '../../src/decode/status';
import type { Fixture } from './fixtures/fixture';
import * as L from './fixtures/link';
import * as V4 from './fixtures/ipv4';
import * as V6 from './fixtures/ipv6';
import * as T from './fixtures/tcp';
import * as E from './fixtures/encap';
import * as TU from './fixtures/tunnel';
import { view, type SegmentView } from './decode-view';

const KNOWN = new Set<string>(DECODE_STATUSES);
const LINK_TYPES = [...Object.values(LinkType), 147, 2, 113 + 1];
const ALL: Fixture[] = [L, V4, V6, T, E, TU].flatMap((m) => Object.values(m) as Fixture[]);
const GOOD = ALL.filter((f) => decodeFrame(f.linkType, f.data, f.origLen, new Segment()) === 'ok');

function fixedFields(s: SegmentView) {
  const { family, src, dst, srcPort, dstPort, seq, ack, flags, window, urgent, headerLen, payloadLen, tcpOff, ttl, encapDepth } = s;
  return { family, src, dst, srcPort, dstPort, seq, ack, flags, window, urgent, headerLen, payloadLen, tcpOff, ttl, encapDepth };
}

/** What must hold of any segment decoded as ok: every offset it hands out lies inside the bytes. */
function inBounds(seg: Segment, data: Buffer): boolean {
  const addr = seg.family === 4 ? 4 : 16;
  return (
    seg.buf === data &&
    seg.tcpOff + 20 <= data.length &&
    seg.headerLen >= 20 &&
    seg.capturedPayloadLen >= 0 &&
    seg.capturedPayloadLen <= seg.payloadLen &&
    (seg.capturedPayloadLen === 0 || seg.tcpOff + seg.headerLen + seg.capturedPayloadLen <= data.length) &&
    seg.srcOff + addr <= data.length &&
    seg.dstOff + addr <= data.length &&
    (seg.sackCount === 0 || seg.sackOff + 8 * seg.sackCount <= data.length)
  );
}

/** A fast-check predicate: the status is a known code, and an ok segment stays inside its bytes. */
function sane(s: string, seg: Segment, data: Buffer): boolean {
  return KNOWN.has(s) && (s !== 'ok' || inBounds(seg, data));
}

describe('decoder properties', () => {
  it('random bytes under every link type never throw and give a known code', () => {
    const seg = new Segment();
    fc.assert(
      fc.property(
        fc.constantFrom(...LINK_TYPES),
        fc.uint8Array({ maxLength: 200 }),
        fc.integer({ min: 0, max: 100_000 }),
        (lt, bytes, orig) => {
          const data = Buffer.from(bytes);
          return sane(decodeFrame(lt, data, orig, seg), seg, data);
        },
      ),
      { numRuns: 20_000 },
    );
  });

  it('random bytes behind a valid link and IP header never throw', () => {
    // Plain random bytes rarely get past the IP checks; this keeps the real headers of a fixture
    // up to a random point and randomises the rest.
    const seg = new Segment();
    fc.assert(
      fc.property(fc.constantFrom(...GOOD), fc.nat(), fc.uint8Array({ maxLength: 120 }), (f, cut, tail) => {
        const keep = cut % (f.data.length + 1);
        const data = Buffer.concat([f.data.subarray(0, keep), Buffer.from(tail)]);
        return sane(decodeFrame(f.linkType, data, Math.max(data.length, f.origLen), seg), seg, data);
      }),
      { numRuns: 20_000 },
    );
  });

  it('single-byte edits of good frames never throw', () => {
    const seg = new Segment();
    fc.assert(
      fc.property(fc.constantFrom(...GOOD), fc.nat(), fc.integer({ min: 0, max: 255 }), (f, at, value) => {
        const data = Buffer.from(f.data);
        data[at % data.length] = value;
        return sane(decodeFrame(f.linkType, data, f.origLen, seg), seg, data);
      }),
      { numRuns: 20_000 },
    );
  });

  it('a good frame cut by k bytes decodes to a non-ok code or the same header fields', () => {
    fc.assert(
      fc.property(fc.constantFrom(...GOOD), fc.nat(), (f, k) => {
        const whole = new Segment();
        decodeFrame(f.linkType, f.data, f.origLen, whole);
        const want = fixedFields(view(whole));
        const cut = k % (f.data.length + 1);
        const data = f.data.subarray(0, f.data.length - cut);
        const seg = new Segment();
        const s = decodeFrame(f.linkType, data, f.origLen, seg);
        expect(sane(s, seg, data)).toBe(true);
        if (s === 'ok') expect(fixedFields(view(seg))).toEqual(want);
      }),
      { numRuns: 5_000 },
    );
  });

  it('a reused Segment carries nothing over from the previous frame', () => {
    const reused = new Segment();
    fc.assert(
      fc.property(fc.constantFrom(...ALL), fc.constantFrom(...GOOD), (first, second) => {
        decodeFrame(first.linkType, first.data, first.origLen, reused);
        decodeFrame(second.linkType, second.data, second.origLen, reused);
        const fresh = new Segment();
        decodeFrame(second.linkType, second.data, second.origLen, fresh);
        expect(view(reused)).toEqual(view(fresh));
      }),
      { numRuns: 2_000 },
    );
  });
});
