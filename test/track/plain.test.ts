// The plain path (src/track/plain.ts, Machine.plain): the pairs of states it serves are exactly
// those where the transition table moves nothing for a plain ACK, and switching it off changes
// nothing in what the tracker says about any public trace, regression capture or fuzzer case
// (each connection's view, events and ladder, the tracker's stats; golden.test.ts holds the path
// on to the record).
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Machine } from '../../src/track/machine';
import { PLAIN, PLAIN_PAIRS, awaitsSynAck } from '../../src/track/plain';
import { TCP_STATES } from '../../src/track/states';
import { Tracker } from '../../src/track/tracker';
import { NO_ANOMALY, SEGMENT_CLASSES, flagAnomaly, segmentClass } from '../../src/track/transitions';
import { fileGolden, fuzzGolden, goldenFiles } from '../support/track-golden.mjs';
import { deps } from '../fuzz/deps';

const FIXTURES = path.resolve(__dirname, '../fixtures');
const cls = (name: (typeof SEGMENT_CLASSES)[number]): number => SEGMENT_CLASSES.indexOf(name);
const N = TCP_STATES.length;

describe('the plain path, derived from the table', () => {
  it('takes exactly the flags whose class is ACK and that are no anomaly by themselves', () => {
    for (let f = 0; f < 0x1000; f++) {
      const plain = segmentClass(f) === cls('ACK') && flagAnomaly(f) === NO_ANOMALY;
      expect((f & PLAIN.MASK) === PLAIN.FLAGS, `flags 0x${f.toString(16)}`).toBe(plain);
    }
  });

  it('serves what RFC 9293 says a plain ACK leaves alone', () => {
    const still = ['CLOSED', 'LISTEN', 'ESTABLISHED', 'FIN_WAIT_2', 'CLOSE_WAIT', 'TIME_WAIT'];
    for (let a = 0; a < N; a++) {
      for (let b = 0; b < N; b++) expect(PLAIN_PAIRS[a * N + b], `${TCP_STATES[a]} → ${TCP_STATES[b]}`).toBe(still.includes(TCP_STATES[b]) ? 1 : 0);
    }
  });

  it('checks a handshake ACK where the table moves on ACK_SYN', () => {
    const moves = TCP_STATES.filter((_, r) => awaitsSynAck(r));
    expect(moves).toEqual(['SYN_SENT', 'SYN_RECEIVED']);
  });
});

describe('the same output with the plain path switched off', () => {
  class OnePath extends Tracker {
    constructor(o?: ConstructorParameters<typeof Tracker>[0]) {
      super(o);
      (this as unknown as { machine: Machine }).machine.usePlainPath(false);
    }
  }
  const onePath = { ...deps, Tracker: OnePath };
  afterEach(() => vi.restoreAllMocks());

  it('takes the plain path on a public trace, and never when it is switched off', async () => {
    const plain = vi.spyOn(Machine.prototype as unknown as { plain: () => boolean }, 'plain');
    const taken = (): number => plain.mock.results.filter((r) => r.value === true).length;
    const file = path.join(FIXTURES, 'zeek', 'traces', 'http-vlan-0.pcap');
    const g = await fileGolden(deps, file);
    expect(g.connections.length).toBeGreaterThan(0);
    expect(taken()).toBeGreaterThan(0);
    plain.mockClear();
    expect((await fileGolden(onePath, file)).connections).toEqual(g.connections);
    expect(plain).toHaveBeenCalled();
    expect(taken()).toBe(0);
  });

  it.each(goldenFiles())('%s', async (rel: string) => {
    const full = path.join(FIXTURES, rel);
    expect(await fileGolden(onePath, full)).toEqual(await fileGolden(deps, full));
  });

  it('fuzzer cases (fixed seed)', async () => {
    const opts = { seed: 11, packets: 20_000, flows: 100_000 };
    expect(await fuzzGolden(onePath, opts)).toEqual(await fuzzGolden(deps, opts));
  });
});
