// analyze writes each connection as it finishes; what it writes must be what the build before that
// change wrote (every record of every public trace, as a set: ids, endpoints, states, connState,
// history, counts, times), as test/fixtures/analyze/public-traces.json holds it
// (bench/analyze-golden.mjs made it with that build's CLI).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyzeFile } from '../../src/cli/analyze';
import type { AnalyzeFormat } from '../../src/cli/options';
import { FIXTURES } from '../support/fixtures.mjs';

const REPO = path.resolve(__dirname, '..', '..');
const golden: Record<string, { exit: number; error: string; records: string[] }> = JSON.parse(
  readFileSync(path.join(REPO, 'test/fixtures/analyze/public-traces.json'), 'utf8'),
);
const where = (file: string) => (file.startsWith('test/') ? path.join(REPO, file) : path.join(FIXTURES, file));

async function analyze(file: string, format: AnalyzeFormat = 'jsonl', extra: { maxConnections?: number } = {}) {
  let out = '';
  const r = await analyzeFile({ file, format, readThread: 'off', ...extra }, (c) => {
    out += c;
  });
  return { out, ...r };
}

describe('analyze', () => {
  it('writes the same records as before on every public trace', async () => {
    const files = Object.keys(golden);
    expect(files.length).toBeGreaterThan(100);
    const differ: string[] = [];
    for (const file of files) {
      const g = golden[file];
      const { out, result } = await analyze(where(file));
      const lines = out.split('\n').filter(Boolean).sort();
      expect(result.error === null ? 0 : 1, file).toBe(g.exit);
      if (JSON.stringify(lines) !== JSON.stringify(g.records)) differ.push(file);
      else expect(lines).toEqual(g.records);
    }
    for (const file of differ) {
      const { out } = await analyze(where(file));
      expect(out.split('\n').filter(Boolean).sort(), file).toEqual(golden[file].records);
    }
  }, 120_000);

  it('writes every connection once in each format, the table with its summary', async () => {
    const file = where('traces/tcp/reassembly.pcap' in golden ? 'traces/tcp/reassembly.pcap' : Object.keys(golden).find((f) => golden[f].records.length > 3)!);
    const n = golden[path.relative(FIXTURES, file)]?.records.length ?? (await analyze(file)).connections;
    const zeek = await analyze(file, 'zeek');
    const rows = zeek.out.split('\n').filter((l) => l && !l.startsWith('#'));
    expect(rows).toHaveLength(n);
    expect(new Set(rows.map((r) => r.split('\t')[1])).size).toBe(n);
    expect(zeek.out).toMatch(/^#separator/);
    expect(zeek.out).toMatch(/#close\t\S+\n$/);
    const table = await analyze(file, 'table');
    expect(table.out).toMatch(/^START \(UTC\)\s+CLIENT\s+SERVER\s+CLIENT STATE/);
    expect(table.out).toContain(`\n${n} connection${n === 1 ? '' : 's'} (`);
  });

  it('a full table evicts and still writes the evicted, each once', async () => {
    const file = Object.keys(golden).sort((a, b) => golden[b].records.length - golden[a].records.length)[0];
    const all = golden[file].records.map((l) => JSON.parse(l).id).sort();
    const { out, connections } = await analyze(where(file), 'jsonl', { maxConnections: 2 });
    const ids = out.split('\n').filter(Boolean).map((l) => JSON.parse(l).id).sort();
    expect(connections).toBe(all.length);
    expect(ids).toEqual(all);
  });
});
