/**
 * Zeek's own conn.log for public traces is the expected result for connState and history: each of
 * Zeek's rows is paired with one of our connections by 4-tuple (and by order for a reused tuple),
 * and a row matches when both columns the baseline holds are equal. Known differences are listed
 * below, each with why; anything else fails, naming the trace, the connection and the difference.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { ConnectionView } from '../../src/track/connection';
import { baselines, pair, readZeekConnLog, runTrace, tupleText, type ZeekRow } from './truth';

interface Allowance {
  why: string;
  /** Whether this difference (ours null: Zeek has a row we do not) is the known one. */
  covers(z: ZeekRow, ours: ConnectionView | null): boolean;
}

const sameState = (z: ZeekRow, v: ConnectionView) => z.connState === null || z.connState === v.connState;

// Zeek adds 'X'/'x' when an application analyzer stops early (line, header or nesting limits).
// That is Zeek's protocol policy, not TCP: apart from those letters the rows must agree.
const analyzerLimit: Allowance = {
  why: "Zeek's application analyzer hit a limit ('X' in its history)",
  covers: (z, v) => v !== null && sameState(z, v) && (z.history ?? '').replace(/[xX]/g, '') === v.history,
};

// Zeek removes a connection a few seconds (tcp_close_delay, 5 s) after it closed or was reset, and
// makes a new row for any later packet of the same 4-tuple, even without a SYN. We keep such late
// packets on the one connection until a new SYN, as tshark's tcp.stream does; so Zeek's first row
// is the start of our connection's history, and its later rows have no counterpart here.
const zeekSplits: Allowance = {
  why: 'Zeek starts a new row for packets that come after a close or a reset',
  covers: (z, v) => v === null || (z.history !== null && v.history.startsWith(z.history)),
};

// Zeek treats every SYN on a connection it considers closed as a new connection (IsReuse). Here
// the client retried after each RST with the same initial sequence number: TCP and tshark see one
// attempt, and we do too; Zeek's first row matches ours exactly.
const zeekReusesOnSameIsn: Allowance = {
  why: 'Zeek opens a new row for a SYN with the same ISN after a RST',
  covers: (_z, v) => v === null,
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
  'traces/modbus/modbus-and-non-modbus-p502.pcap': zeekSplits,
  'traces/tunnels/Teredo.pcap': zeekSplits,
  // 1333 RSTs on one tuple: one row each in Zeek (a split after every reset), over FDDI frames
  'traces/llc.pcap': zeekSplits,
  'traces/pop3/pop3.pcap': zeekReusesOnSameIsn,
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
  ours: ConnectionView | null;
  outcome: 'match' | 'allowed' | 'differs' | 'nothing-to-compare';
}

const primaries = baselines().filter((b) => b.primary && readZeekConnLog(b.corpusFile).length > 0);
const verdicts = new Map<string, Verdict[]>();

beforeAll(async () => {
  for (const b of primaries) {
    const rows = readZeekConnLog(b.corpusFile);
    const run = await runTrace(b.trace);
    const { pairs } = pair(rows, run.connections);
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
        (v.ours ? `${v.ours.connState} ${JSON.stringify(v.ours.history)} (connection ${v.ours.id})` : 'no connection'),
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
    const llc = all.filter((v) => v.trace === 'traces/llc.pcap').length;
    const matched = count('match');
    console.log(
      [
        `Zeek conn.log rows compared: ${all.length} in ${verdicts.size} traces`,
        `  exact match (connState and history): ${matched} (${((100 * matched) / all.length).toFixed(1)}%)`,
        `  without llc.pcap's ${llc} one-RST rows: ${matched}/${all.length - llc} (${((100 * matched) / (all.length - llc)).toFixed(1)}%)`,
        `  known differences: ${count('allowed')}`,
        ...[...byReason].map(([why, n]) => `    ${n} × ${why}`),
        `  unexplained: ${count('differs')}`,
      ].join('\n'),
    );
    expect(count('differs')).toBe(0);
    // Everything Zeek logged that reached the tracker and is not one of Zeek's own splits matches.
    expect(matched).toBeGreaterThanOrEqual(148);
  });
});
