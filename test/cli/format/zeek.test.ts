import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { zeekUid } from '../../../src/cli/format/zeek';
import type { ConnectionView } from '../../../src/track/connection';

const golden: Record<string, { records: string[] }> = JSON.parse(
  readFileSync(path.resolve(__dirname, '../../fixtures/analyze/public-traces.json'), 'utf8'),
);
const views: ConnectionView[] = Object.values(golden).flatMap((g) => g.records.map((l) => JSON.parse(l)));

describe('zeekUid', () => {
  it('Zeek uids: C and 17 base-62 characters, the same for the same connection, distinct across connections', () => {
    const uids = views.map(zeekUid);
    for (const u of uids) expect(u).toMatch(/^C[0-9A-Za-z]{17}$/);
    expect(views.map(zeekUid)).toEqual(uids);
    const distinct = new Set(views.map((v) => `${v.id}|${v.startedAt}|${v.client.ip}|${v.client.port}`)).size;
    expect(new Set(uids).size).toBe(distinct);
    // a million ids on one tuple and start time: no two alike
    const seen = new Set<string>();
    const v = views[0];
    for (let i = 1; i <= 1_000_000; i++) seen.add(zeekUid({ ...v, id: String(i) }));
    expect(seen.size).toBe(1_000_000);
  });
});
