import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { jsonLine } from '../../../src/cli/format/jsonl';
import type { ConnectionView } from '../../../src/track/connection';

const golden: Record<string, { records: string[] }> = JSON.parse(
  readFileSync(path.resolve(__dirname, '../../fixtures/analyze/public-traces.json'), 'utf8'),
);
const views: ConnectionView[] = Object.values(golden).flatMap((g) => g.records.map((l) => JSON.parse(l)));

describe('jsonLine', () => {
  it('jsonLine writes what JSON.stringify writes, for every connection of the public traces', () => {
    expect(views.length).toBeGreaterThan(200);
    for (const v of views) expect(jsonLine(v)).toBe(JSON.stringify(v) + '\n');
  });

  it('a null, a fraction and an IPv6 address come out as JSON.stringify writes them', () => {
    const v = views.find((x) => x.family === 6 && x.endedAt === null) ?? views[0];
    const w: ConnectionView = { ...v, startedAt: 1.5e12 + 0.125, endedAt: null, closedBy: 'both', closeKind: 'refused' };
    expect(jsonLine(w)).toBe(JSON.stringify(w) + '\n');
  });
});
