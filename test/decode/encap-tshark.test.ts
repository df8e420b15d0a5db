// Every encapsulation fixture the decoder reads as TCP is read the same way by tshark: the fixtures
// are written to a pcap file per link type and tshark dissects them, so the edited ones are checked
// by a decoder other than ours (addresses of the innermost IP header, ports, numbers, flags, window,
// length).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeFrame } from '../../src/decode/decode';
import { Segment } from '../../src/decode/segment';
import type { Fixture } from './fixtures/fixture';
import * as E from './fixtures/encap';
import * as TU from './fixtures/tunnel';
import { ourFields, theirFields, tsharkRows, writePcap } from './pcap-tools';

const ALL = Object.entries({ ...E, ...TU }) as Array<[string, Fixture]>;

/** Fixtures tshark reads otherwise, and how. */
const TSHARK_OTHERWISE: Record<string, { noTcp?: true; noLength?: true; why: string }> = {
  teredoSeenSyn6: { noTcp: true, why: 'Teredo on a port of its own: tshark shows UDP data (its heuristic is off by default)' },
  greFirstFragment: { noTcp: true, why: 'a first fragment alone: tshark keeps it for reassembly and shows IP data' },
  fabricPathSyn4: {
    noLength: true,
    why: 'tshark reads the frame FabricPath carries as ending in a 4-byte FCS: the IP packet comes out short (an error it flags), with no TCP length',
  },
  fabricPathSyn6: { noLength: true, why: 'as fabricPathSyn4' },
  gtpFirstFragment: {
    noLength: true,
    why: "tshark counts only this fragment's bytes as the TCP length; the inner IP header gives the whole segment's",
  },
};

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tcpscope-encap-tshark-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('encapsulation fixtures against tshark', () => {
  const byLink = new Map<number, Array<[string, Fixture]>>();
  for (const [name, f] of ALL) byLink.set(f.linkType, [...(byLink.get(f.linkType) ?? []), [name, f]]);

  it.each([...byLink.entries()])('link type %i: every fixture we decode as TCP, tshark decodes alike', async (linkType, list) => {
    const file = path.join(dir, `${linkType}.pcap`);
    writePcap(file, linkType, list.map(([, f]) => f));
    const rows = await tsharkRows(file);
    expect(rows.length).toBe(list.length);
    const seg = new Segment();
    const differ: string[] = [];
    let compared = 0;
    list.forEach(([name, f], i) => {
      if (decodeFrame(f.linkType, f.data, f.origLen, seg) !== 'ok') return;
      const otherwise = TSHARK_OTHERWISE[name];
      const r = rows[i];
      if (otherwise?.noTcp) {
        if (r['tcp.seq_raw'] !== '') differ.push(`${name}: tshark now decodes TCP here`);
        return;
      }
      const cut = (s: string) => (otherwise?.noLength ? s.slice(0, s.lastIndexOf(' ')) : s);
      compared++;
      if (cut(ourFields(seg)) !== cut(theirFields(r))) differ.push(`${name}: ours ${ourFields(seg)}, tshark ${theirFields(r)}`);
    });
    expect(differ).toEqual([]);
    expect(compared).toBeGreaterThan(0);
  });
});
