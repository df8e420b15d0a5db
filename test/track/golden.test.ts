// The tracker against the record of an earlier build (bench/track-golden.mjs wrote
// test/fixtures/track/golden.json): on every public trace and regression capture, each connection
// with the same view, events and ladder, leaving the table in the same order; and the same
// digest over a fixed-seed run of the fuzzer's packet and flow cases.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fileGolden, fuzzGolden, goldenFiles } from '../support/track-golden.mjs';
import { deps } from '../fuzz/deps';

const FIXTURES = path.resolve(__dirname, '../fixtures');
const golden = JSON.parse(readFileSync(path.join(FIXTURES, 'track/golden.json'), 'utf8')) as {
  files: Record<string, string[] | { error: string; connections: string[] }>;
  fuzz: { seed: number; packets: number; flows: number; connections: number; digest: string };
};

describe('the tracker against its recorded output', () => {
  it('covers every capture', () => {
    expect(Object.keys(golden.files).sort()).toEqual(goldenFiles().sort());
  });

  it.each(goldenFiles())('%s', async (rel: string) => {
    const g = await fileGolden(deps, path.join(FIXTURES, rel));
    const want = golden.files[rel];
    expect(g.error ? { error: g.error, connections: g.connections } : g.connections).toEqual(want);
  });

  it('fuzzer cases (fixed seed)', async () => {
    const f = golden.fuzz;
    expect(await fuzzGolden(deps, { seed: f.seed, packets: f.packets, flows: f.flows })).toEqual(f);
  });
});
