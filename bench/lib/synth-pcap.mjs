#!/usr/bin/env node
// Writes a classic pcap of N complete TCP connections to stdout, for memory benchmarks with more
// connections than a loopback capture can hold: SYN, SYN+ACK, ACK, a request, a response, FIN from
// the client, FIN from the server, the last ACK (8 packets). 64 connections are under way at once,
// and new ones start at --rate per second of capture time (default 10 000, the rate of the real
// loopback bench capture). Connection i is 10.a.b.c:p → 10.255.0.1:80 with a = i / 50 000 … so
// every connection has a 4-tuple of its own (see synth-check.mjs).
//
//   node bench/lib/synth-pcap.mjs --connections 5000000 | tcpscope analyze - --format zeek
import { ACK, FIN, PSH, SYN, tcpPacket } from './packets.mjs';

const args = process.argv.slice(2);
const opt = (n, d) => (args.includes(n) ? Number(args[args.indexOf(n) + 1]) : d);
const N = opt('--connections', 1_000_000);
const rate = opt('--rate', 10_000);
const GROUP = 64;
const PER = 8;
const usPerPacket = 1e6 / (rate * PER);


const out = Buffer.alloc(1 << 20);
let off = 0;
const flush = async () => {
  const chunk = Buffer.from(out.subarray(0, off));
  off = 0;
  if (!process.stdout.write(chunk)) await new Promise((r) => process.stdout.once('drain', r));
};
// pcap header: microseconds, little-endian, snaplen 65535, Ethernet
out.writeUInt32LE(0xa1b2c3d4, 0);
out.writeUInt16LE(2, 4);
out.writeUInt16LE(4, 6);
out.writeUInt32LE(65535, 16);
out.writeUInt32LE(1, 20);
off = 24;

const T0 = 1_700_000_000e6; // µs
// Each step's packet is made once by tcpPacket (with a zero IPv4 checksum: tcpscope never judges
// checksums); per connection only addresses, ports, sequence numbers and times are written.
const server = ((10 << 24) | (255 << 16) | 1) >>> 0;
const STEPS = [
  [0, SYN, 0, 0, 1460, 64240, 0], // [from server, flags, seq offset, ack offset, mss, window, payload]
  [1, SYN | ACK, 0, 1, 1460, 65160, 0],
  [0, ACK, 1, 1, 0, 502, 0],
  [0, PSH | ACK, 1, 1, 0, 502, 64],
  [1, PSH | ACK, 1, 65, 0, 510, 128],
  [0, FIN | ACK, 65, 129, 0, 502, 0],
  [1, FIN | ACK, 129, 66, 0, 510, 0],
  [0, ACK, 66, 130, 0, 502, 0],
];
const templates = STEPS.map(([fromServer, flags, , , mss, win, payload]) => {
  const b = Buffer.alloc(256);
  const len = tcpPacket(b, 0, { src: 0, dst: 0, sport: 0, dport: 0, flags, mss, win, payload });
  b.writeUInt16BE(0, 14 + 10);
  return { b: b.subarray(0, len), fromServer, len };
});
let pkt = 0;
for (let g = 0; g < N; g += GROUP) {
  const n = Math.min(GROUP, N - g);
  for (let step = 0; step < PER; step++) {
    const t = templates[step];
    const [fromServer, , seqOff, ackOff] = STEPS[step];
    for (let k = 0; k < n; k++) {
      const i = g + k;
      const block = Math.floor(i / 50_000);
      const client = ((10 << 24) | (((block >> 8) & 255) << 16) | ((block & 255) << 8) | (1 + ((i >> 8) & 127))) >>> 0;
      const cport = 10_000 + (i % 50_000);
      const cisn = Math.imul(i, 0x9e3779b1) >>> 0;
      const sisn = (cisn ^ 0x5a5a5a5a) >>> 0;
      if (off + 16 + 256 > out.length) await flush();
      const us = T0 + Math.floor(pkt++ * usPerPacket);
      out.writeUInt32LE(Math.floor(us / 1e6), off);
      out.writeUInt32LE(us % 1e6, off + 4);
      out.writeUInt32LE(t.len, off + 8);
      out.writeUInt32LE(t.len, off + 12);
      const o = off + 16;
      t.b.copy(out, o);
      out.writeUInt32BE(fromServer ? server : client, o + 26);
      out.writeUInt32BE(fromServer ? client : server, o + 30);
      out.writeUInt16BE(fromServer ? 80 : cport, o + 34);
      out.writeUInt16BE(fromServer ? cport : 80, o + 36);
      out.writeUInt32BE(((fromServer ? sisn : cisn) + seqOff) >>> 0, o + 38);
      if (step > 0) out.writeUInt32BE(((fromServer ? cisn : sisn) + ackOff) >>> 0, o + 42);
      off += 16 + t.len;
    }
  }
}
await flush();
