import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyzeFile } from '../../../src/cli/analyze';
import { zeekUid } from '../../../src/cli/format/zeek';
import type { ConnectionView } from '../../../src/track/connection';
import { FIXTURES } from '../../support/fixtures.mjs';

const golden: Record<string, { records: string[] }> = JSON.parse(
  readFileSync(path.resolve(__dirname, '../../fixtures/analyze/public-traces.json'), 'utf8'),
);
const views: ConnectionView[] = Object.values(golden).flatMap((g) => g.records.map((l) => JSON.parse(l)));

describe('zeekUid', () => {
  it('Zeek uids: C and 17 base-62 characters, the same for the same record, distinct across records', () => {
    const uid = (v: ConnectionView) => zeekUid(Number(v.id), v.startedAt, v.client.ip, v.client.port);
    const uids = views.map(uid);
    for (const u of uids) expect(u).toMatch(/^C[0-9A-Za-z]{17}$/);
    expect(views.map(uid)).toEqual(uids);
    const distinct = new Set(views.map((v) => `${v.id}|${v.startedAt}|${v.client.ip}|${v.client.port}`)).size;
    expect(new Set(uids).size).toBe(distinct);
    // a million records on one tuple and start time: no two alike
    const seen = new Set<string>();
    const v = views[0];
    for (let i = 1; i <= 1_000_000; i++) seen.add(zeekUid(i, v.startedAt, v.client.ip, v.client.port));
    expect(seen.size).toBe(1_000_000);
  });
});

describe('analyze --format zeek', () => {
  // Zeek's own conn.log (its btest baselines, ts and uid masked) is the truth: the same rows in the
  // same order, column for column (all of Zeek's but ts, uid, service and the local_* flags). Rows of
  // connections still open when the capture ends come in Zeek's hash-table order (ours: oldest
  // first), so where there are several of them (Teredo.pcap) the rows are compared as a set.
  const cases = [
    ['traces/pop3/pop3.pcap', true],
    ['traces/modbus/modbus-and-non-modbus-p502.pcap', true],
    ['traces/tunnels/Teredo.pcap', false],
  ] as const;
  const COLUMNS = ['id.orig_h', 'id.orig_p', 'id.resp_h', 'id.resp_p', 'proto', 'duration', 'orig_bytes', 'resp_bytes', 'conn_state', 'missed_bytes', 'history', 'orig_pkts', 'orig_ip_bytes', 'resp_pkts', 'resp_ip_bytes'];

  function rows(text: string, onlyTcp: boolean): Record<string, string>[] {
    const fields = text.split('\n').find((l) => l.startsWith('#fields'))!.split('\t').slice(1);
    return text
      .split('\n')
      .filter((l) => l !== '' && !l.startsWith('#'))
      .map((l) => Object.fromEntries(l.split('\t').map((v, i) => [fields[i], v])))
      .filter((r) => !onlyTcp || r.proto === 'tcp')
      .map((r) => Object.fromEntries(COLUMNS.map((c) => [c, r[c]])));
  }

  it.each(cases)("%s: Zeek's rows, in Zeek's order: %s", async (trace, ordered) => {
    let out = '';
    await analyzeFile({ file: path.join(FIXTURES, trace), format: 'zeek', readThread: 'off' }, (c) => {
      out += c;
    });
    const zeek = readFileSync(path.join(FIXTURES, trace.replace(/\.pcap$/, '.zeek-conn.log')), 'utf8');
    const key = (r: Record<string, string>) => JSON.stringify(r);
    const ours = rows(out, true);
    const want = rows(zeek, true);
    if (ordered) expect(ours).toEqual(want);
    else expect(ours.map(key).sort()).toEqual(want.map(key).sort());
    for (const line of out.split('\n').filter((l) => l !== '' && !l.startsWith('#'))) {
      expect(line.split('\t')[1]).toMatch(/^C[0-9A-Za-z]{17}$/);
    }
  });
});
