// A jsonl record is the Connection object as the REST API writes it (src/server/json.ts), the same
// text JSON.stringify makes of the connection's view: from a view, and from the tracker's store as
// analyze writes it.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readCaptureFile } from '../../../src/capture/file';
import { jsonLine, writeJsonLine } from '../../../src/cli/format/jsonl';
import { Engine } from '../../../src/ingest/engine';
import { JsonBytes } from '../../../src/events/json-bytes';
import type { ConnectionView } from '../../../src/track/connection';
import { FIXTURES, manifest } from '../../support/fixtures.mjs';

const HAVE_TRACES = existsSync(path.join(FIXTURES, 'manifest.tsv'));

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

  it('writes times of microsecond precision, and every other number, as JSON.stringify does', () => {
    const v = views[0];
    // a fixed seed: the same numbers every run
    let seed = 12345;
    const rand = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
    const times: number[] = [0, 1, 0.001, 0.0005, 1e-7, 999.999, 1e9, 1e9 + 0.001, 3.999999999999e12, 4e12, 4e12 + 0.5, 2 ** 53, -0, -1.5, Infinity, NaN];
    for (let k = 0; k < 20000; k++) {
      // as a capture's timestamps become epoch ms: seconds * 1000 + microseconds * 1000 / 1e6
      times.push(Math.floor(1e9 + rand() * 2.9e9) * 1000 + (Math.floor(rand() * 1e6) * 1000) / 1e6);
      times.push(rand() * 1e4, Math.round(rand() * 1e6) / 1000, rand() * 4.1e12, Math.floor(rand() * 5e12));
    }
    for (const t of times) {
      const w: ConnectionView = { ...v, startedAt: t, handshake: { ...v.handshake, rttMs: t / 7 } };
      expect(jsonLine(w), String(t)).toBe(JSON.stringify(w) + '\n');
    }
  });
});

describe('writeJsonLine from the tracker’s store', { skip: !HAVE_TRACES }, () => {
  it('writes what JSON.stringify writes of the view, for every connection of the public traces, notes and holes included', async () => {
    const files = manifest().filter((r) => r.tcpStreams > 0).map((r) => r.file);
    const w = new JsonBytes(1 << 16);
    const got: string[] = [];
    const want: string[] = [];
    for (const [i, file] of files.entries()) {
      const engine = new Engine({ maxConnections: 1_000_000 });
      // each connection leaves through both sinks: the record first, then the view
      engine.tracker.onRemoveRecord((r) => {
        w.pos = 0;
        writeJsonLine(w, r);
        got.push(w.result().toString('utf8'));
      });
      engine.tracker.onRemove((c) => want.push(JSON.stringify(c) + '\n'));
      await readCaptureFile(path.join(FIXTURES, file), (f) => engine.onFrame(f));
      if (i % 2 === 0) engine.tracker.markCaptureGap();
      const list = engine.tracker.list();
      for (let k = 0; k < list.length; k += 5) {
        engine.tracker.annotate(list[k].id, 'client', {
          process: { pid: 7 + k, command: 'cürl', cmdline: `curl -H "X: \\ ${k}" \u2028 http://x/`, user: null, netns: null, fd: 3, via: 'comment' },
        });
        if (k % 3 === 0) engine.tracker.annotate(list[k].id, 'server', { processReason: 'not-local' });
      }
      engine.tracker.removeAll();
    }
    expect(want.length).toBeGreaterThan(200);
    expect(want.some((l) => l.includes('"family":6'))).toBe(true);
    expect(want.some((l) => l.includes('"captureGap":true'))).toBe(true);
    expect(want.some((l) => l.includes('"processReason"'))).toBe(true);
    expect(got).toEqual(want);
  });
});
