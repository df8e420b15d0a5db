import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { tableLine, writeTableLine } from '../../../src/cli/format/table';
import { JsonBytes } from '../../../src/events/json-bytes';
import type { ConnectionView } from '../../../src/track/connection';

const golden: Record<string, { records: string[] }> = JSON.parse(
  readFileSync(path.resolve(__dirname, '../../fixtures/analyze/public-traces.json'), 'utf8'),
);
const views: ConnectionView[] = Object.values(golden).flatMap((g) => g.records.map((l) => JSON.parse(l)));

describe('writeTableLine', () => {
  it('writes the bytes of tableLine: every connection of the public traces, named processes, long cells', () => {
    const v6 = views.find((v) => v.family === 6) ?? views[0];
    const named: ConnectionView = {
      ...v6,
      history: 'ShADadFfRrTtWwCcIiQq^',
      client: { ...v6.client, process: { pid: 42, command: 'café', cmdline: 'café --x', user: null, netns: null, fd: 3, via: 'comment' } },
      handshake: { ...v6.handshake, rttMs: 0.0004 },
    };
    // counts past 32 bits, a start in the first second of 1970, IPv4
    const v4 = views.find((v) => v.family === 4) ?? views[0];
    const big: ConnectionView = {
      ...v4,
      startedAt: 0.0005,
      lastSeenAt: 86_400_000.25,
      counts: { client: { packets: 2 ** 33 + 1, bytes: 5e12 }, server: { packets: 7, bytes: 2 ** 32 } },
    };
    const all = [...views, named, big];
    expect(all.some((v) => tableLine(v).includes('µs'))).toBe(true);
    const w = new JsonBytes(64);
    for (const v of all) {
      w.pos = 0;
      writeTableLine(w, v);
      expect(w.result().toString('utf8')).toBe(tableLine(v));
    }
  });
});
