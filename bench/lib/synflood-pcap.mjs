// A SYN flood as a capture: `established` connections that complete their handshake and exchange
// a little data before the flood (and stay open), then `syns` SYNs from spoofed sources, each
// answered by the server's SYN+ACK and never acknowledged (half-open), then `established` more
// connections, and at the end one more data segment on each of the first ones (so a tracker that
// evicted them would see them come back mid-stream).
import { ACK, PSH, PcapWriter, SYN, tcpPacket } from './packets.mjs';

export const SERVER = '192.168.0.1';
export const PORT = 80;

export function writeSynFlood(path, { syns = 1_000_000, established = 100, ratePerS = 100_000, startUs = 1_700_000_000_000_000 } = {}) {
  const w = new PcapWriter(path);
  let t = startUs;
  const est = (i) => ({ src: `10.1.${i >> 8}.${i & 255}`, sport: 40000 + (i % 20000) });
  const open = (i) => {
    const c = est(i);
    const isn = (i * 7919) >>> 0;
    const risn = (i * 104729) >>> 0;
    const p = { src: c.src, dst: SERVER, sport: c.sport, dport: PORT };
    const r = { src: SERVER, dst: c.src, sport: PORT, dport: c.sport };
    w.add(t++, (b, o) => tcpPacket(b, o, { ...p, flags: SYN, seq: isn, mss: 1460 }));
    w.add(t++, (b, o) => tcpPacket(b, o, { ...r, flags: SYN | ACK, seq: risn, ack: isn + 1, mss: 1460 }));
    w.add(t++, (b, o) => tcpPacket(b, o, { ...p, flags: ACK, seq: isn + 1, ack: risn + 1 }));
    w.add(t++, (b, o) => tcpPacket(b, o, { ...p, flags: PSH | ACK, seq: isn + 1, ack: risn + 1, payload: 10 }));
    w.add(t++, (b, o) => tcpPacket(b, o, { ...r, flags: ACK, seq: risn + 1, ack: isn + 11 }));
  };
  for (let i = 0; i < established; i++) open(i);
  const gapUs = Math.max(1, Math.round(1e6 / ratePerS));
  for (let i = 0; i < syns; i++) {
    const src = (0x0b000000 + i) >>> 0; // 11.0.0.0/8: one spoofed address per SYN
    const sport = 1024 + (i % 64000);
    const isn = Math.imul(i, 2654435761) >>> 0;
    w.add(t, (b, o) => tcpPacket(b, o, { src, dst: SERVER, sport, dport: PORT, flags: SYN, seq: isn, mss: 1460 }));
    w.add(t + 1, (b, o) => tcpPacket(b, o, { src: SERVER, dst: src, sport: PORT, dport: sport, flags: SYN | ACK, seq: ~isn >>> 0, ack: isn + 1, mss: 1460 }));
    t += gapUs;
  }
  for (let i = established; i < 2 * established; i++) open(i);
  for (let i = 0; i < established; i++) {
    const c = est(i);
    const isn = (i * 7919) >>> 0;
    const risn = (i * 104729) >>> 0;
    w.add(t++, (b, o) => tcpPacket(b, o, { src: c.src, dst: SERVER, sport: c.sport, dport: PORT, flags: PSH | ACK, seq: isn + 11, ack: risn + 1, payload: 10 }));
  }
  return w.close();
}
