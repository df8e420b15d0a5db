// Hand-made Ethernet/IPv4/TCP packets and a classic pcap writer, for captures no real stack would
// produce at will (floods from a million spoofed sources, deliberately damaged files).
import { closeSync, openSync, writeSync } from 'node:fs';

export const SYN = 0x02;
export const RST = 0x04;
export const PSH = 0x08;
export const ACK = 0x10;
export const FIN = 0x01;

/** IPv4 address "a.b.c.d" or a 32-bit number, as a number. */
export function ip4(a) {
  if (typeof a === 'number') return a >>> 0;
  return a.split('.').reduce((x, p) => ((x << 8) | Number(p)) >>> 0, 0);
}

/**
 * Writes one Ethernet+IPv4+TCP packet into `buf` at `off`; returns its length. `opts` may carry
 * `mss` (adds an MSS option, as every real SYN has) and `payload` (a length; bytes are zero).
 */
export function tcpPacket(buf, off, { src, dst, sport, dport, flags, seq = 0, ack = 0, win = 65535, mss = 0, payload = 0 }) {
  const optLen = mss ? 4 : 0;
  const tcpLen = 20 + optLen;
  const ipLen = 20 + tcpLen + payload;
  buf.fill(0, off, off + 14 + ipLen);
  // Ethernet: zero MACs, type IPv4
  buf.writeUInt16BE(0x0800, off + 12);
  const ip = off + 14;
  buf[ip] = 0x45;
  buf.writeUInt16BE(ipLen, ip + 2);
  buf[ip + 6] = 0x40; // DF
  buf[ip + 8] = 64;
  buf[ip + 9] = 6;
  buf.writeUInt32BE(ip4(src), ip + 12);
  buf.writeUInt32BE(ip4(dst), ip + 16);
  let sum = 0;
  for (let i = 0; i < 20; i += 2) sum += buf.readUInt16BE(ip + i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  buf.writeUInt16BE(~sum & 0xffff, ip + 10);
  const t = ip + 20;
  buf.writeUInt16BE(sport, t);
  buf.writeUInt16BE(dport, t + 2);
  buf.writeUInt32BE(seq >>> 0, t + 4);
  buf.writeUInt32BE(ack >>> 0, t + 8);
  buf[t + 12] = (tcpLen / 4) << 4;
  buf[t + 13] = flags;
  buf.writeUInt16BE(win, t + 14);
  if (mss) {
    buf[t + 20] = 2;
    buf[t + 21] = 4;
    buf.writeUInt16BE(mss, t + 22);
  }
  return 14 + ipLen;
}

/** A classic pcap (microsecond, little-endian, Ethernet) written in large chunks. */
export class PcapWriter {
  constructor(path, snaplen = 65535) {
    this.fd = openSync(path, 'w');
    this.buf = Buffer.alloc(4 << 20);
    this.off = 0;
    this.packets = 0;
    this.bytes = 0;
    const h = this.buf;
    h.writeUInt32LE(0xa1b2c3d4, 0);
    h.writeUInt16LE(2, 4);
    h.writeUInt16LE(4, 6);
    h.writeUInt32LE(snaplen, 16);
    h.writeUInt32LE(1, 20);
    this.off = 24;
  }

  /** Adds a packet built by `build(buf, off) → length` at time `tsUs` (microseconds since the epoch). */
  add(tsUs, build) {
    if (this.off + 16 + 65536 > this.buf.length) this.flush();
    const rec = this.off;
    const len = build(this.buf, rec + 16);
    this.buf.writeUInt32LE(Math.floor(tsUs / 1e6), rec);
    this.buf.writeUInt32LE(tsUs % 1e6, rec + 4);
    this.buf.writeUInt32LE(len, rec + 8);
    this.buf.writeUInt32LE(len, rec + 12);
    this.off = rec + 16 + len;
    this.packets++;
  }

  flush() {
    writeSync(this.fd, this.buf, 0, this.off);
    this.bytes += this.off;
    this.off = 0;
  }

  close() {
    this.flush();
    closeSync(this.fd);
    return { packets: this.packets, bytes: this.bytes };
  }
}
