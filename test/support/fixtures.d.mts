export const FIXTURES: string;
export const TRACES: string;
export function fixture(rel: string): string;
export function trace(rel: string): string;

export interface ManifestRow {
  file: string; // relative to FIXTURES, e.g. traces/tcp/syn.pcap
  format: string;
  encap: string;
  category: string;
  packets: number;
  tcpPackets: number;
  tcpStreams: number;
  desc: string;
}
export function manifest(): ManifestRow[];
export function parseCsv(text: string): Record<string, string>[];
export function tsharkFlagBits(s: string): number;
