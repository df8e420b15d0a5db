import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FieldsView } from '../../../src/cli/format/fields-view';
import { tableLine, writeTableFields, writeTableLine } from '../../../src/cli/format/table';
import { ConnFields } from '../../../src/track/record';
import { ViewSource } from '../../../src/track/view-source';
import { JsonBytes } from '../../../src/events/json-bytes';
import type { ConnectionView } from '../../../src/track/connection';
import type { DiagnosedConnection } from '../../../src/sockets/diagnose-file';

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

describe('writeTableFields', () => {
  it('writes the bytes of tableLine from the fields of every connection of the public traces, named processes, long cells', () => {
    const v6 = views.find((v) => v.family === 6) ?? views[0];
    const v4 = views.find((v) => v.family === 4) ?? views[0];
    const named: ConnectionView = {
      ...v6,
      history: 'ShADadFfRrTtWwCcIiQq^',
      partial: true,
      client: { ...v6.client, process: { pid: 42, command: 'café', cmdline: 'café --x', user: null, netns: null, fd: 3, via: 'comment' } },
      server: { ...v6.server, process: { pid: 7, command: '', cmdline: '', user: null, netns: null, fd: 4, via: 'comment' } },
      handshake: { ...v6.handshake, rttMs: 0.0004 },
    };
    const big: ConnectionView = {
      ...v4,
      status: 'open',
      history: '',
      startedAt: 0.0005,
      lastSeenAt: 86_400_000.25,
      counts: { client: { packets: 2 ** 33 + 1, bytes: 5e12 }, server: { packets: 7, bytes: 2 ** 32 } },
    };
    const all = [...views, named, big];
    const src = new ViewSource();
    const f = new ConnFields();
    const w = new JsonBytes(64);
    for (const v of all) {
      src.of(v).fill(f);
      w.pos = 0;
      writeTableFields(w, f);
      expect(w.result().toString('utf8')).toBe(tableLine(v));
    }
  });

  it('writes IPv4 addresses from their numbers as the store gives them', () => {
    const v4 = views.find((v) => v.family === 4)!;
    const f = new ConnFields();
    new ViewSource().of(v4).fill(f);
    for (const side of [0, 1] as const) {
      const [a, b, c, d] = (side === 0 ? v4.client.ip : v4.server.ip).split('.').map(Number);
      f.ip4[side] = a * 0x1000000 + ((b << 16) | (c << 8) | d);
    }
    const w = new JsonBytes(64);
    writeTableFields(w, f);
    expect(w.result().toString('utf8')).toBe(tableLine(v4));
  });
});

describe('writeTableFields durations', () => {
  it('writes the text toFixed makes for every scale: random values, ties, powers of ten, negative', () => {
    const v = views.find((x) => x.family === 4)!;
    const picks: number[] = [0, 0.0005, 0.0015, 0.25, 0.05, 0.95, 0.9995, 0.99999, 1, 1.005, 1.05, 2.5, 999.95, 999.99, 1000, 1000.5, 1005, 1015, 59_999.995, 1e15, 1e19, 1e22, -0.0001, -1, -1500];
    let seed = 1;
    const rnd = () => ((seed = Math.imul(seed ^ (seed >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0) / 2 ** 32;
    for (let i = 0; i < 20_000; i++) {
      const scale = 10 ** Math.floor(rnd() * 12 - 5);
      // halves and quarters of the last decimal shown, and plain random values
      const x = i % 3 === 0 ? Math.round(rnd() * 1e4) / 2e4 * scale : i % 3 === 1 ? (Math.round(rnd() * 2e3) + 0.5) / 1e4 : rnd() * scale;
      picks.push(x);
    }
    const src = new ViewSource();
    const f = new ConnFields();
    const w = new JsonBytes(64);
    for (let i = 0; i < picks.length; i++) {
      const c: ConnectionView = { ...v, startedAt: 1_700_000_000_000, lastSeenAt: 1_700_000_000_000 + picks[i], handshake: { ...v.handshake, rttMs: picks[picks.length - 1 - i] } };
      src.of(c).fill(f);
      // the fill reads rttMs from the view; the store's is a difference of times: the same number
      w.pos = 0;
      writeTableFields(w, f);
      expect(w.result().toString('utf8')).toBe(tableLine(c));
    }
  });
});

describe('FieldsView', () => {
  it('reads every value the summary and the diagnoser read of the view the fields were filled from', () => {
    const src = new ViewSource();
    const f = new ConnFields();
    const fv = new FieldsView(f);
    for (const v of views) {
      src.of(v).fill(f);
      expect(readFields(fv)).toEqual(readFields(v));
    }
  });
});

/** The fields the summary and the diagnoser read, from a view or from the fields' view. */
function readFields(x: DiagnosedConnection & Pick<ConnectionView, 'id' | 'connState'>) {
  return {
    id: x.id,
    client: { ip: x.client.ip, port: x.client.port, state: x.client.state },
    server: { ip: x.server.ip, port: x.server.port, state: x.server.state },
    status: x.status,
    connState: x.connState,
    startedAt: x.startedAt,
    endedAt: x.endedAt,
    lastSeenAt: x.lastSeenAt,
    handshake: { synAt: x.handshake.synAt, synAckAt: x.handshake.synAckAt, ackAt: x.handshake.ackAt },
    closedBy: x.closedBy,
    closeKind: x.closeKind,
    counts: { client: { bytes: x.counts.client.bytes }, server: { bytes: x.counts.server.bytes } },
  };
}
