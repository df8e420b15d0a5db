// A fixed-seed slice of bench/fuzz.mjs at the packet level: real frames with mutated headers
// (IP and TCP lengths and offsets at extremes, random option lists and flags, random seq/ack,
// frames cut short, wrong wire lengths, other link types) go through the decoder and the tracker.
import { describe, expect, it } from 'vitest';
import { createFuzzer, type Corpus } from '../support/fuzz/engine.mjs';
import { loadCorpus } from '../support/fuzz/corpus.mjs';
import { deps } from './deps';

const SEED = 11;
const CASES = 40_000;

describe('frames under mutation', () => {
  let corpus: Corpus;

  it('loads real frames to mutate', async () => {
    corpus = await loadCorpus(deps.readCaptureFile as never);
    expect(corpus.frames.length).toBeGreaterThan(1000);
  });

  it(`${CASES} cases: known statuses only, sane segments, a consistent tracker`, () => {
    const fz = createFuzzer(deps, corpus, { seed: SEED });
    const findings: string[] = [];
    for (let i = 0; i < CASES; i++) {
      try {
        fz.packetCase(i);
      } catch (e) {
        findings.push(`case ${i}: ${(e as Error).message}`);
        if (findings.length > 20) break;
      }
    }
    fz.checkNow();
    expect(findings).toEqual([]);
    const st = fz.tally.decodeByStatus;
    // most mutations are caught by name, and plenty still decode and reach the tracker
    expect(st.ok).toBeGreaterThan(CASES / 10);
    for (const c of ['bad-tcp-offset', 'bad-ip-header-length', 'bad-ip-total-length', 'truncated-tcp']) expect(st[c] ?? 0).toBeGreaterThan(0);
  });
});

describe('the state machine under random flows', () => {
  it('200 000 segments with random flags on 8 tuples sharing a table of 4: consistent counts throughout', () => {
    const fz = createFuzzer(deps, { files: [], frames: [] }, { seed: 13 });
    for (let i = 0; i < 200_000; i++) fz.flowCase(i);
    fz.checkNow();
    expect(fz.tally.flows).toBe(200_000);
  });
});
