/**
 * Zeek's own conn.log for public traces is the expected result for the records `analyze --format
 * zeek` writes (the tracker with Zeek's connection lifetime, zeekRecords): each of Zeek's rows is
 * paired with one of our records by 5-tuple, in order within a tuple (the baselines mask ts), and a
 * row matches when connState and history, as far as the baseline holds them, are equal. Known
 * differences are listed below, each with why; anything else fails, naming the trace, the record
 * and the difference.
 */
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { frameTimeMs } from '../../src/capture/frame';
import { readCaptureFile } from '../../src/capture/file';
import { decodeFrame } from '../../src/decode/decode';
import { Segment } from '../../src/decode/segment';
import { Tracker } from '../../src/track/tracker';
import type { ZeekRecord } from '../../src/track/zeek';
import { FIXTURES } from '../support/fixtures.mjs';
import { baselines, readZeekConnLog, tupleText, type ZeekRow } from './truth';

/** Every frame of the trace through decodeFrame into one Tracker that writes Zeek's records; then the end. */
async function zeekRecords(file: string): Promise<ZeekRecord[]> {
  const records: ZeekRecord[] = [];
  const tracker = new Tracker({ maxConnections: 1_000_000, zeekRecords: (r) => records.push(r) });
  const seg = new Segment();
  await readCaptureFile(path.join(FIXTURES, file), (f) => {
    if (decodeFrame(f.linkType, f.data, f.origLen, seg) === 'ok') tracker.process(seg, frameTimeMs(f));
  });
  tracker.removeAll();
  return records;
}

/** Whether a record is of the row's 5-tuple (as far as the baseline shows it), in either direction. */
function fits(z: ZeekRow, r: ZeekRecord): boolean {
  const eq = <T>(want: T | null, got: T) => want === null || want === got;
  const { orig: o, resp: p } = r;
  return (eq(z.origH, o.ip) && eq(z.origP, o.port) && eq(z.respH, p.ip) && eq(z.respP, p.port)) ||
    (eq(z.origH, p.ip) && eq(z.origP, p.port) && eq(z.respH, o.ip) && eq(z.respP, o.port));
}

/**
 * Pairs Zeek's rows with our records by 5-tuple, in order within a tuple (the baselines mask ts, so
 * a tuple's records are told apart by the order Zeek removed them, which is the order we write them).
 */
function pair(rows: ZeekRow[], ours: ZeekRecord[]): { zeek: ZeekRow; ours: ZeekRecord | null }[] {
  const used = new Set<ZeekRecord>();
  return rows.map((z) => {
    const v = ours.find((o) => !used.has(o) && fits(z, o)) ?? null;
    if (v) used.add(v);
    return { zeek: z, ours: v };
  });
}

interface Allowance {
  why: string;
  /** Whether this difference (ours null: Zeek has a row we do not) is the known one. */
  covers(z: ZeekRow, ours: ZeekRecord | null): boolean;
}

const sameState = (z: ZeekRow, v: ZeekRecord) => z.connState === null || z.connState === v.connState;

// Zeek adds 'X'/'x' when an application analyzer stops early (line, header or nesting limits).
// That is Zeek's protocol policy, not TCP: apart from those letters the rows must agree.
const analyzerLimit: Allowance = {
  why: "Zeek's application analyzer hit a limit ('X' in its history)",
  covers: (z, v) => v !== null && sameState(z, v) && (z.history ?? '').replace(/[xX]/g, '') === v.history,
};

// The btest behind this baseline (core.expire-all-timers) queues more timers than Zeek expires per
// packet (max_timer_expires, 300), so the connection's inactivity timer, due 300 s after its last
// packet, ran only after the retransmission that came exactly then: one row, with the T. The same
// test's run with max_timer_expires=0 (conn-all.log beside it) has our two rows, 'Da' and 'D'.
const timerBudget: Allowance = {
  why: "Zeek's per-packet timer budget (max_timer_expires) delayed the inactivity timer in this test",
  covers: (z, v) => v !== null && z.history === 'DaT' && v.history === 'Da' && sameState(z, v),
};

// Zeek ran without -C, so it dropped packets with bad checksums and logged only 'C'. We never
// reject on checksum (loopback captures leave checksums unfilled).
const zeekDroppedBadChecksums: Allowance = {
  why: 'Zeek dropped packets for their bad checksums',
  covers: (z) => /^[Cc]+$/.test(z.history ?? ''),
};

// Zeek ran bare (-b): no analyzer registered port 443, so for a connection picked up mid-stream
// it kept the first packet's sender as originator. We take the side on 443 for the server and mark
// the flip ('^'), which turns Zeek's letters into the other side's.
const zeekBareKeepsFirstSender: Allowance = {
  why: "Zeek (bare) kept the first sender as originator; we take port 443 for the server ('^')",
  covers: (z, v) => v !== null && sameState(z, v) && v.history === `^${swapCase(z.history ?? '')}`,
};

function swapCase(h: string): string {
  return [...h].map((c) => (c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase())).join('');
}

// The snap length cut the only packet's TCP header inside its options. Zeek does not read such a
// header (an empty history); the decoder reads the fixed 20 bytes, which hold the flags.
const zeekSkipsCutHeader: Allowance = {
  why: 'Zeek skips a TCP header cut inside its options; we read its fixed part',
  covers: (z, v) => v !== null && z.history === '' && sameState(z, v),
};

// The tunnel's datagrams were fragmented on the way. Zeek reassembles the outer fragments; the
// decoder reads each tunnelled segment from its first fragment, which stops short of the
// segment's end, so the tracker sees content gaps ('g') where Zeek has none. Apart from gap
// letters (and Zeek's own 'X'), the histories agree.
const outerFragments: Allowance = {
  why: "outer IP fragments are not reassembled: segments read from first fragments lack their last bytes ('g')",
  covers: (z, v) => v !== null && sameState(z, v) && v.history.replace(/[gG]/g, '') === (z.history ?? '').replace(/[gGxX]/g, ''),
};

// These baselines keep only the history column, so the reader cannot drop non-TCP rows: the 'D'
// row is the tunnel's own UDP flow (data from its originator), which has no TCP counterpart.
const outerUdpRow: Allowance = {
  why: "the baseline holds only histories: its 'D' row is the tunnel's UDP flow",
  covers: (z, v) => v === null && z.origH === null && z.connState === null && z.history === 'D',
};

const either = (...list: Allowance[]): Allowance => ({
  why: list.map((a) => a.why).join('; or '),
  covers: (z, v) => list.some((a) => a.covers(z, v)),
});

const ALLOWED: Record<string, Allowance> = {
  'traces/ftp/fake-long-commands.pcap': analyzerLimit,
  'traces/gnutella/max-line.pcapng': analyzerLimit,
  'traces/http/deeply-nested-mime.pcap': analyzerLimit,
  'traces/smtp/mime-header-size-limit.pcap': analyzerLimit,
  'traces/tunnels/tunnel-direct-bypass.pcap': analyzerLimit,
  'traces/tcp/retransmit-timeout.pcapng': timerBudget,
  'traces/tcp/syn-bad.pcap': zeekDroppedBadChecksums,
  'traces/tunnels/geneve-inner-tcp-bad-checksum.pcap': either(zeekDroppedBadChecksums, outerUdpRow),
  'traces/tunnels/vxlan-inner-tcp-bad-checksum.pcap': either(zeekDroppedBadChecksums, outerUdpRow),
  'traces/tunnels/gre-aruba-amsdu.pcap': zeekBareKeepsFirstSender,
  'traces/vntag_vlan_sandwich_clean.pcap': zeekSkipsCutHeader,
  'traces/tunnels/gtp/gtp1_gn_normal_incl_fragmentation.pcap': outerFragments,
  'traces/tunnels/gtp/gtp2_different_udp_port.pcap': outerFragments,
};

interface Verdict {
  trace: string;
  row: ZeekRow;
  ours: ZeekRecord | null;
  outcome: 'match' | 'allowed' | 'differs' | 'nothing-to-compare';
}

const primaries = baselines().filter((b) => b.primary && readZeekConnLog(b.corpusFile).length > 0);
const verdicts = new Map<string, Verdict[]>();

beforeAll(async () => {
  for (const b of primaries) {
    const rows = readZeekConnLog(b.corpusFile);
    const pairs = pair(rows, await zeekRecords(b.trace));
    const allow = ALLOWED[b.trace];
    verdicts.set(
      b.trace,
      pairs.map(({ zeek: z, ours: v }) => {
        let outcome: Verdict['outcome'];
        if (z.connState === null && z.history === null) outcome = 'nothing-to-compare';
        else if (v !== null && sameState(z, v) && (z.history === null || z.history === v.history)) outcome = 'match';
        else outcome = allow?.covers(z, v) ? 'allowed' : 'differs';
        return { trace: b.trace, row: z, ours: v, outcome };
      }),
    );
  }
}, 300_000);

describe("connState and history against Zeek's conn.log", () => {
  it.each(primaries.map((b) => b.trace))('%s', (trace) => {
    const bad = verdicts.get(trace)!.filter((v) => v.outcome === 'differs');
    const text = bad.map(
      (v) =>
        `${trace} ${tupleText(v.row)}: Zeek ${v.row.connState ?? '-'} ${JSON.stringify(v.row.history)}, ours ` +
        (v.ours ? `${v.ours.connState} ${JSON.stringify(v.ours.history)} (record ${v.ours.n})` : 'no connection'),
    );
    expect(text).toEqual([]);
  });

  it('match rate', () => {
    const all = [...verdicts.values()].flat().filter((v) => v.outcome !== 'nothing-to-compare');
    const count = (o: Verdict['outcome']) => all.filter((v) => v.outcome === o).length;
    const byReason = new Map<string, number>();
    for (const v of all.filter((x) => x.outcome === 'allowed')) {
      const why = ALLOWED[v.trace].why;
      byReason.set(why, (byReason.get(why) ?? 0) + 1);
    }
    const llcAll = all.filter((v) => v.trace === 'traces/llc.pcap');
    const llc = llcAll.length;
    const llcMatched = llcAll.filter((v) => v.outcome === 'match').length;
    const matched = count('match');
    console.log(
      [
        `Zeek conn.log rows compared: ${all.length} in ${verdicts.size} traces`,
        `  exact match (connState and history): ${matched} (${((100 * matched) / all.length).toFixed(1)}%)`,
        `  without llc.pcap's ${llc} one-RST rows: ${matched - llcMatched}/${all.length - llc} (${((100 * (matched - llcMatched)) / (all.length - llc)).toFixed(1)}%)`,
        `  known differences: ${count('allowed')}`,
        ...[...byReason].map(([why, n]) => `    ${n} × ${why}`),
        `  unexplained: ${count('differs')}`,
      ].join('\n'),
    );
    expect(count('differs')).toBe(0);
    // Every row matches but those of the differences named above.
    expect(matched).toBe(all.length - count('allowed'));
    expect(matched / all.length).toBeGreaterThanOrEqual(0.98);
  });
});
