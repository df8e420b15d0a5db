import { describe, expect, it } from 'vitest';
import { DecodeCounters } from '../../src/decode/decode';
import { isDecodeError, SKIP_CODES, type DecodeStatus } from '../../src/decode/segment';
import { DECODE_STATUSES } from '../../src/decode/status';
import type { Fixture } from './fixtures/fixture';
import * as L from './fixtures/link';
import * as V4 from './fixtures/ipv4';
import * as V6 from './fixtures/ipv6';
import * as T from './fixtures/tcp';
import * as E from './fixtures/encap';
import * as TU from './fixtures/tunnel';
import { decodeFixture } from './decode-view';

const ALL_FIXTURES: Fixture[] = [L, V4, V6, T, E, TU].flatMap((m) => Object.values(m) as Fixture[]);

describe('DecodeCounters', () => {
  it('counts frames by outcome and by code', () => {
    const c = new DecodeCounters();
    const seen: DecodeStatus[] = ['ok', 'ok', 'not-tcp', 'ip-fragment', 'truncated-tcp', 'bad-ip6-ext', 'ok'];
    for (const s of seen) c.count(s);
    expect({ frames: c.frames, ok: c.ok, skipped: c.skipped, errors: c.errors }).toEqual({
      frames: 7, ok: 3, skipped: 2, errors: 2,
    });
    const by = c.byCode();
    expect(Object.keys(by)).toEqual([...DECODE_STATUSES]);
    expect(by).toMatchObject({ ok: 3, 'not-tcp': 1, 'ip-fragment': 1, 'truncated-tcp': 1, 'bad-ip6-ext': 1, 'not-ip': 0 });
  });

  it('starts again from zero after reset', () => {
    const c = new DecodeCounters();
    c.count('not-ip');
    c.reset();
    expect(c.frames + c.ok + c.skipped + c.errors).toBe(0);
    expect(Object.values(c.byCode()).every((n) => n === 0)).toBe(true);
  });

  it('sorts every code into ok, skipped or error the way SKIP_CODES says', () => {
    for (const s of DECODE_STATUSES) {
      const c = new DecodeCounters();
      c.count(s);
      expect([c.ok, c.skipped, c.errors]).toEqual([s === 'ok' ? 1 : 0, SKIP_CODES.has(s) ? 1 : 0, isDecodeError(s) ? 1 : 0]);
    }
  });
});

describe('status codes', () => {
  it('every code comes out of at least one fixture', () => {
    const produced = new Set(ALL_FIXTURES.map((f) => decodeFixture(f).status));
    expect([...produced].sort()).toEqual([...DECODE_STATUSES].sort());
  });
});
