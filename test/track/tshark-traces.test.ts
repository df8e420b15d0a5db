/**
 * tshark's tcp.stream numbers TCP connections the way we count them: a new one at the first packet
 * of a 4-tuple and at a SYN with a new sequence number. For every public trace our connection count
 * must equal tshark's number of distinct streams, unless the trace is listed below with its reason.
 */
import { describe, expect, it } from 'vitest';
import { manifest } from '../support/fixtures';
import { runTrace, tsharkStreams } from './truth';

// tshark decodes these link layers and encapsulations; our decoder does not (yet), so none of the
// trace's segments reach the tracker. The counts differ by the streams inside them.
const NOT_DECODED: Record<string, string> = {
  'traces/llc.pcap': 'FDDI with LLC/SNAP',
  'traces/mixed-vlan-mpls.pcap': 'MPLS (the VLAN-only streams are counted)',
  'traces/mpls-in-vlan.pcap': 'MPLS inside VLAN (the plain streams are counted)',
  'traces/pbb.pcap': '802.1ah provider backbone bridging',
  'traces/pppoe-over-qinq.pcap': 'PPPoE over QinQ',
  'traces/snap-tcp.pcap': 'Ethernet 802.3 with LLC/SNAP',
  'traces/vntag_vlan_sandwich_clean.pcap': 'VN-Tag',
  // tshark reassembles IP fragments; the decoder passes fragments by, so the lone SYN split in
  // two fragments never becomes a segment
  'traces/ipv4/fragmented-syn.pcap': 'IPv4 fragments',
  'traces/tunnels/ayiya3.pcap': 'AYIYA tunnels',
  'traces/tunnels/geneve-47101.pcap': 'Geneve tunnels',
  'traces/tunnels/geneve-inner-tcp-bad-checksum.pcap': 'Geneve tunnels',
  'traces/tunnels/geneve-many-options.pcap': 'Geneve tunnels',
  'traces/tunnels/gre-aruba-amsdu.pcap': 'GRE tunnels',
  'traces/tunnels/gre-over-udp-4754.pcap': 'GRE tunnels',
  'traces/tunnels/gre-sample.pcap': 'GRE tunnels',
  'traces/tunnels/gtp/gtp1_gn_normal_incl_fragmentation.pcap': 'GTP tunnels',
  'traces/tunnels/gtp/gtp2_different_udp_port.pcap': 'GTP tunnels',
  'traces/tunnels/gtp/gtp6_gtp_0x32.pcap': 'GTP tunnels',
  'traces/tunnels/vxlan-encapsulated-http.pcap': 'VXLAN tunnels',
  'traces/tunnels/vxlan-inner-tcp-bad-checksum.pcap': 'VXLAN tunnels',
};

const traces = manifest()
  .map((r) => ({ file: r.file, streams: tsharkStreams(r.file) }))
  .filter((r): r is { file: string; streams: number } => r.streams !== null);

describe("connection count against tshark's tcp.stream", () => {
  it.each(traces)('$file', async ({ file, streams }) => {
    const run = await runTrace(file);
    expect(run.error).toBeNull();
    if (NOT_DECODED[file] !== undefined) {
      expect(run.connections.length).toBeLessThanOrEqual(streams);
      return;
    }
    expect(run.connections.length, `${file}: ours ${run.connections.length}, tshark ${streams} streams`).toBe(streams);
  });
});
