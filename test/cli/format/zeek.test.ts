import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyzeFile } from '../../../src/cli/analyze';
import { zeekRow, zeekUid } from '../../../src/cli/format/zeek';
import type { ZeekRecord } from '../../../src/track/zeek';
import type { ConnectionView } from '../../../src/track/connection';
import { FIXTURES } from '../../support/fixtures.mjs';
import { tempDir } from '../../support/temp';
import { writePcap, type PcapFrame } from '../../decode/pcap-tools';

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

describe('zeekRow', () => {
  // The line as template text writes it (toFixed(6) for times, String for counts): zeekRow writes
  // bytes and must come to the same text.
  const text = (r: ZeekRecord): string => {
    const secs = (ms: number) => (ms / 1000).toFixed(6);
    const d = r.lastAt - r.startedAt;
    const o = r.orig;
    const p = r.resp;
    return (
      `${secs(r.startedAt)}\t${zeekUid(r.n, r.startedAt, o.ip, o.port)}\t${o.ip}\t${o.port}\t${p.ip}\t${p.port}\ttcp\t-\t` +
      (d > 0 ? `${secs(d)}\t${o.bytes}\t${p.bytes}\t` : '-\t-\t-\t') +
      `${r.connState}\t-\t-\t${r.missedBytes}\t${r.history === '' ? '(empty)' : r.history}\t${o.packets}\t${o.ipBytes}\t${p.packets}\t${p.ipBytes}\t-\n`
    );
  };

  it('writes what template text writes: capture times, odd durations and counts', () => {
    let seed = 99;
    const rand = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
    const base: ZeekRecord = {
      n: 1,
      connectionId: '1',
      startedAt: 0,
      lastAt: 0,
      orig: { ip: '10.0.0.1', port: 40000, packets: 3, bytes: 0, ipBytes: 120 },
      resp: { ip: 'fe80::1', port: 80, packets: 2, bytes: 0, ipBytes: 80 },
      connState: 'SF',
      history: 'ShADadFf',
      missedBytes: 0,
    };
    const starts = [0, 1, 0.0005, 0.0004999, 1e-7, 999.9995, 1.5, 2 ** 51 / 1000, 2 ** 53, 1e21, -0, -1.5, 1e300];
    const spans = [0, -1, 1e-9, 0.0005, 0.0015, 0.0025, 1.1100000143051147, 299_999.9999995, 1e15];
    for (let k = 0; k < 20000; k++) {
      // as a capture's timestamps become epoch ms: seconds * 1000 + microseconds * 1000 / 1e6
      const t = Math.floor(1e9 + rand() * 2.9e9) * 1000 + (Math.floor(rand() * 1e6) * 1000) / 1e6;
      starts.push(t, rand() * 1e13, Math.floor(rand() * 1e9) / 1000);
      spans.push(rand() * 10, (Math.floor(rand() * 1e6) * 1000) / 1e6, t - Math.floor(t / 1000) * 1000);
    }
    const counts = [0, -0, 7, 2 ** 32, 2 ** 53 + 2, 1e21, 0.5];
    for (let i = 0; i < starts.length; i++) {
      const startedAt = starts[i];
      const r: ZeekRecord = {
        ...base,
        n: i + 1,
        startedAt,
        lastAt: startedAt + spans[i % spans.length],
        orig: { ...base.orig, bytes: counts[i % counts.length], packets: i },
        history: i % 5 === 0 ? '' : base.history,
        missedBytes: counts[(i + 3) % counts.length],
      };
      expect(zeekRow(r), String(startedAt)).toBe(text(r));
    }
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

/**
 * Ethernet frames (IPv4, TCP, no options) of [seconds, from client?, flags, seq, ack, payload
 * length, client port (40000)] between 10.0.0.1 and 10.0.0.2:80.
 */
function frames(packets: Array<[number, boolean, number, number, number, number, number?]>): PcapFrame[] {
  const out: PcapFrame[] = [];
  for (const [sec, fromClient, flags, seq, ack, len, port = 40000] of packets) {
    const frame = Buffer.alloc(14 + 20 + 20 + len);
    frame.writeUInt16BE(0x0800, 12);
    const ip = 14;
    frame[ip] = 0x45;
    frame.writeUInt16BE(40 + len, ip + 2);
    frame[ip + 8] = 64;
    frame[ip + 9] = 6;
    const [a, b] = fromClient ? [[10, 0, 0, 1], [10, 0, 0, 2]] : [[10, 0, 0, 2], [10, 0, 0, 1]];
    frame.set(a, ip + 12);
    frame.set(b, ip + 16);
    const tcp = ip + 20;
    frame.writeUInt16BE(fromClient ? port : 80, tcp);
    frame.writeUInt16BE(fromClient ? 80 : port, tcp + 2);
    frame.writeUInt32BE(seq, tcp + 4);
    frame.writeUInt32BE(ack, tcp + 8);
    frame[tcp + 12] = 5 << 4;
    frame[tcp + 13] = flags;
    frame.writeUInt16BE(65535, tcp + 14);
    out.push({ data: frame, origLen: frame.length, ts: 1_700_000_000 + sec });
  }
  return out;
}

describe("analyze --format zeek: Zeek's lifetime, not the table's", () => {
  it('a half-closed connection idle for 200 s, then an answer: one record, as Zeek keeps it 5 minutes', async () => {
    const S = 2, F = 1, A = 16, P = 8;
    const file = path.join(tempDir('tcpscope-zeek-'), 'half-close.pcap');
    writePcap(
      file,
      1,
      frames([
        [0, true, S, 1000, 0, 0],
        [0.001, false, S | A, 5000, 1001, 0],
        [0.002, true, A, 1001, 5001, 0],
        [0.003, true, F | A, 1001, 5001, 0], // the client is done sending
        [0.004, false, A, 5001, 1002, 0],
        // other traffic meanwhile (it moves the table's clock on)
        ...[60, 120, 180, 190].map((t): [number, boolean, number, number, number, number, number] => [t, true, S, 7000, 0, 0, 40000 + t]),
        [200, false, P | A, 5001, 1002, 10], // the server answers, 200 s later
        [200.001, true, A, 1002, 5011, 0],
        [200.002, false, F | A, 5011, 1002, 0],
        [200.003, true, A, 1002, 5012, 0],
      ]),
    );
    let out = '';
    await analyzeFile({ file, format: 'zeek', readThread: 'off' }, (c) => {
      out += c;
    });
    const rows = out.split('\n').filter((l) => l !== '' && !l.startsWith('#')).map((l) => l.split('\t'));
    const ours = rows.filter((r) => r[3] === '40000');
    expect(ours.map((r) => [r[11], r[15]])).toEqual([['SF', 'ShAFadf']]);
    expect(rows.filter((r) => r[3] !== '40000').map((r) => r[11])).toEqual(['S0', 'S0', 'S0', 'S0']);
  });
});
