import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeFrame } from '../../src/decode/decode';
import { Segment, type DecodeStatus } from '../../src/decode/segment';
import { fixture, manifest } from '../support/fixtures.mjs';
import { ourFields, PI_ERROR, readPcap, theirFields, tsharkRows, type TsharkRow } from './pcap-tools';

// Public captures (Zeek's test traces) that other parts of the project test against too: many link
// types, VLANs, IPv6 extension headers, fragments, snap-length cuts, odd flags and options.
interface Trace {
  file: string;
  packets: number;
}

/** Trace files by link type, from the manifest (files with one link type per packet left out). */
function groups(): Array<[string, Trace[]]> {
  const by = new Map<string, Trace[]>();
  for (const r of manifest()) {
    if (r.encap === 'per-packet') continue;
    by.set(r.encap, [...(by.get(r.encap) ?? []), { file: r.file, packets: r.packets }]);
  }
  return [...by.entries()];
}

// The layers (tshark's names in frame.protocols) this decoder unwraps to reach TCP: link types,
// VLAN tags, MPLS (also an Ethernet pseudowire), PBB, PPPoE, VN-Tag, FabricPath, LLC/SNAP, IP and
// IPv6 with their extension headers, GRE (ERSPAN, PPTP's PPP, Aruba's 802.11), UDP tunnels, IP-in-IP.
// A frame whose layers before its first TCP header are all in here must decode.
const UNWRAPPED = new Set([
  'eth', 'ethertype', 'vlan', 'mpls', 'pwethheuristic', 'pwethcw', 'ieee8021ah', 'pppoes', 'ppp', 'vntag', 'cfp',
  'llc', 'fddi', 'sll', 'null', 'raw', 'ip', 'ipv6', 'gre', 'erspan', 'wlan', 'udp', 'vxlan', 'geneve', 'gtp',
  'ayiya', 'teredo',
]);

function unwrapped(protocols: string): boolean {
  const layers = protocols.split(':');
  const tcp = layers.indexOf('tcp');
  return tcp > 0 && layers.slice(0, tcp).every((l) => UNWRAPPED.has(l) || l.startsWith('ipv6.'));
}

/**
 * Traces with TCP that tshark, by its defaults, does not see, with the number of such frames: only
 * these may decode where tshark shows no TCP header.
 */
const BEYOND_TSHARK: Record<string, { frames: number; why: string }> = {
  'traces/tunnels/gtp/gtp1_gn_normal_incl_fragmentation.pcap': {
    frames: 4,
    why: 'first fragments whose second piece the capture lacks: tshark cannot reassemble them and shows IP data; the tunnelled TCP header is whole in them',
  },
  'traces/tunnels/Teredo.pcap': {
    frames: 22,
    why: "Teredo between UDP ports 3797 and 32900: Zeek finds it by its signature (as we do); tshark's Teredo heuristic is off by default, so it shows UDP data",
  },
};

const run = promisify(execFile);

describe('public traces against tshark', () => {
  let dir = '';
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tcpscope-decode-traces-'));
  });
  afterAll(() => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it.each(groups())('%s traces: every segment we decode matches tshark, and we decode every one we unwrap', async (encap, traces) => {
    // One tshark run per link type: mergecap concatenates the traces into one microsecond pcap,
    // which is also the one format pcap-parser reads.
    const merged = path.join(dir, `${encap}.pcap`);
    await run('mergecap', ['-a', '-F', 'pcap', '-w', merged, ...traces.map((t) => fixture(t.file))]);
    const { linkType, frames } = await readPcap(merged);
    const rows = await tsharkRows(merged);
    expect(rows.length).toBe(frames.length);
    // Which trace each merged frame came from, for the messages and the list above.
    const origin = traces.flatMap((t) => Array.from({ length: t.packets }, (_, i) => ({ trace: t.file, n: i + 1 })));
    expect(origin.length).toBe(frames.length);

    const seg = new Segment();
    const mismatches: string[] = [];
    const missed: string[] = [];
    const beyond = new Map<string, number>();
    let plain = 0;
    let fromFirstFragments = 0;
    frames.forEach((fr, i) => {
      const status: DecodeStatus = decodeFrame(linkType, fr.data, fr.origLen, seg);
      const r: TsharkRow = rows[i];
      const { trace, n } = origin[i];
      const tsharkTcp = r['tcp.seq_raw'] !== '';
      const isPlain = unwrapped(r['frame.protocols']) && tsharkTcp;
      // Where tshark's own dissection raised an error it may cut the packet shorter than its IP
      // length says (a FabricPath frame read as ending in an FCS, a PPPoE length below the IP
      // length): its TCP length is no truth then; every other field still is.
      const flagged = r.severities.some((s) => s >= PI_ERROR);
      if (isPlain) plain++;
      if (status === 'ok') {
        let t = r;
        if (!tsharkTcp && seg.encapDepth > 0 && r['ip.flags.mf'] === '1' && r['ip.frag_offset'] === '0') {
          // A tunnel's first fragment: tshark shows the segment on the frame that completes the
          // datagram (the same IP ID, a later fragment).
          const j = rows.findIndex((x, k) => k > i && x['ip.id'] === r['ip.id'] && x['ip.frag_offset'] !== '0' && x['tcp.seq_raw'] !== '');
          if (j >= 0) {
            t = rows[j];
            fromFirstFragments++;
          }
        }
        if (t['tcp.seq_raw'] === '' && BEYOND_TSHARK[trace] && seg.encapDepth > 0) {
          beyond.set(trace, (beyond.get(trace) ?? 0) + 1);
          return;
        }
        const ours = ourFields(seg);
        const theirs = theirFields(t);
        const cut = (x: string) => (flagged ? x.slice(0, x.lastIndexOf(' ')) : x);
        if (cut(ours) !== cut(theirs)) mismatches.push(`${trace} frame ${n}: ours ${ours}, tshark ${theirs}`);
      } else if (
        isPlain &&
        // tshark reassembles IP fragments and reads on through lengths it flags as errors itself;
        // both are skipped or damage here on purpose.
        (r['ip.frag_offset'] === '' || r['ip.frag_offset'] === '0') &&
        !flagged
      ) {
        missed.push(`${trace} frame ${n}: ${status}, tshark ${r['frame.protocols']}`);
      }
    });
    expect(mismatches).toEqual([]);
    expect(missed).toEqual([]);
    const declared = Object.entries(BEYOND_TSHARK).filter(([t]) => traces.some((x) => x.file === t));
    expect(Object.fromEntries(beyond)).toEqual(Object.fromEntries(declared.map(([t, b]) => [t, b.frames])));
    // The set above must recognise what tshark prints for this link type, or the check is empty.
    expect(plain).toBeGreaterThan(0);
    // The GTP traces' fragmented datagrams are read from their first pieces.
    if (encap === 'ether') expect(fromFirstFragments).toBe(78);
  });
});
