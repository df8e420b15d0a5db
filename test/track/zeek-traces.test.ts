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

// The decoder does not unwrap this link layer or encapsulation yet, so no segment reached us.
const notDecoded = (what: string): Allowance => ({
  why: `the decoder does not unwrap ${what}`,
  covers: (_z, v) => v === null,
});

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
  'traces/llc.pcap': either(notDecoded('FDDI with LLC/SNAP'), zeekSplits),
  'traces/pop3/pop3.pcap': zeekReusesOnSameIsn,
  'traces/tcp/syn-bad.pcap': zeekDroppedBadChecksums,
  'traces/mixed-vlan-mpls.pcap': notDecoded('MPLS'),
  'traces/mpls-in-vlan.pcap': notDecoded('MPLS inside VLAN'),
  'traces/pbb.pcap': notDecoded('802.1ah provider backbone bridging'),
  'traces/pppoe-over-qinq.pcap': notDecoded('PPPoE over QinQ'),
  'traces/vntag_vlan_sandwich_clean.pcap': notDecoded('VN-Tag'),
  'traces/tunnels/ayiya3.pcap': notDecoded('AYIYA tunnels'),
  'traces/tunnels/geneve-47101.pcap': notDecoded('Geneve tunnels'),
  'traces/tunnels/geneve-inner-tcp-bad-checksum.pcap': either(notDecoded('Geneve tunnels'), zeekDroppedBadChecksums),
  'traces/tunnels/geneve-many-options.pcap': notDecoded('Geneve tunnels'),
  'traces/tunnels/gre-aruba-amsdu.pcap': notDecoded('GRE tunnels'),
  'traces/tunnels/gre-over-udp-4754.pcap': notDecoded('GRE tunnels'),
  'traces/tunnels/gre-sample.pcap': notDecoded('GRE tunnels'),
  'traces/tunnels/gtp/gtp1_gn_normal_incl_fragmentation.pcap': notDecoded('GTP tunnels'),
  'traces/tunnels/gtp/gtp2_different_udp_port.pcap': notDecoded('GTP tunnels'),
  'traces/tunnels/gtp/gtp6_gtp_0x32.pcap': notDecoded('GTP tunnels'),
  'traces/tunnels/vxlan-encapsulated-http.pcap': notDecoded('VXLAN tunnels'),
  'traces/tunnels/vxlan-inner-tcp-bad-checksum.pcap': either(notDecoded('VXLAN tunnels'), zeekDroppedBadChecksums),
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
    expect(matched).toBeGreaterThanOrEqual(130);
  });
});
