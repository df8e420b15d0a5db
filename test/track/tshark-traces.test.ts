/**
 * tshark's tcp.stream numbers TCP connections the way we count them: a new one at the first packet
 * of a 4-tuple and at a SYN with a new sequence number. For every public trace our connection count
 * must equal tshark's number of distinct streams, unless the trace is listed below with its reason.
 */
import { describe, expect, it } from 'vitest';
import { manifest } from '../support/fixtures.mjs';
import { runTrace, tsharkStreams } from './truth';

// Traces whose count differs from tshark's, with the difference (ours minus tshark's) and why.
const DIFFERENT: Record<string, { by: number; why: string }> = {
  // tshark reassembles IP fragments; the decoder passes fragments by, so the lone SYN split in
  // two fragments never becomes a segment
  'traces/ipv4/fragmented-syn.pcap': { by: -1, why: 'IPv4 fragments are not reassembled' },
  // Teredo between UDP ports 3797 and 32900, which Zeek finds by its signature and so do we;
  // tshark's Teredo heuristic is off by default, so it sees UDP data there
  'traces/tunnels/Teredo.pcap': { by: 1, why: 'a TCP connection in Teredo on a port of its own' },
};

const traces = manifest()
  .map((r) => ({ file: r.file, streams: tsharkStreams(r.file) }))
  .filter((r): r is { file: string; streams: number } => r.streams !== null);

describe("connection count against tshark's tcp.stream", () => {
  const tally = { traces: 0, equal: 0, connections: 0, streams: 0 };

  it.each(traces)('$file', async ({ file, streams }) => {
    const run = await runTrace(file);
    expect(run.error).toBeNull();
    tally.traces++;
    tally.connections += run.connections.length;
    tally.streams += streams;
    if (run.connections.length === streams) tally.equal++;
    const by = DIFFERENT[file]?.by ?? 0;
    expect(run.connections.length, `${file}: ours ${run.connections.length}, tshark ${streams} streams`).toBe(streams + by);
  });

  it('match count', () => {
    // Printed so a run shows how many traces agree with tshark exactly.
    console.log(`tshark streams: ${JSON.stringify(tally)}`);
    expect(tally.equal).toBe(tally.traces - Object.keys(DIFFERENT).length);
  });
});
