// A fixed-seed slice of bench/fuzz.mjs: damaged capture files (bit flips, lengths set to extremes,
// cuts, splices, gzip damage) built from the public traces go through the readers, the decoder
// and the tracker. No exception may escape, every rejection carries a known code and a message,
// and the tracker's counts stay consistent. A failing case number reproduces with
// `node bench/fuzz.mjs --seed SEED`, which also keeps its input in test/fixtures/regressions/.
import { describe, expect, it } from 'vitest';
import { createFuzzer, type Corpus } from '../support/fuzz/engine.mjs';
import { loadCorpus } from '../support/fuzz/corpus.mjs';
import { deps } from './deps';

const SEED = 7;
const CASES = 1500;

describe('capture files under mutation', () => {
  let corpus: Corpus;

  it('loads real captures to mutate', async () => {
    corpus = await loadCorpus(deps.readCaptureFile as never);
    expect(corpus.files.length).toBeGreaterThan(20);
    expect(corpus.files.some((f) => f.name.endsWith('.pcapng'))).toBe(true);
  });

  it(`${CASES} cases: nothing throws, every error is named, the tracker stays consistent`, async () => {
    const fz = createFuzzer(deps, corpus, { seed: SEED });
    const findings: string[] = [];
    for (let i = 0; i < CASES; i++) {
      try {
        await fz.fileCase(i);
      } catch (e) {
        findings.push(`case ${i}: ${(e as Error).message}`);
      }
    }
    fz.checkNow();
    expect(findings).toEqual([]);
    // the mutations reach the readers' error paths, not just the happy one
    const codes = Object.keys(fz.tally.fileErrors);
    for (const c of ['truncated-record', 'record-too-large', 'bad-magic', 'gzip-error']) expect(codes).toContain(c);
    expect(fz.tally.frames).toBeGreaterThan(1000);
  });
});
