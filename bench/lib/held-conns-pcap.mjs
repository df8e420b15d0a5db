// A capture of many whole connections, for a server to hold and be queried about: each one from a
// client address of its own to one of a few servers and ports, in a mix that leaves every kind of
// state behind — closed by FIN from both sides (most), still open with data exchanged, refused with
// a RST, half-closed by the client (FIN_WAIT_2 / CLOSE_WAIT), and a SYN never answered (SYN_SENT).
// Connections follow one another `gapUs` apart; the whole file spans connections × gapUs of capture
// time, which is kept under the tracker's closed retention (300 s) so that a replay holds them all.
import { ACK, FIN, PSH, PcapWriter, RST, SYN, tcpPacket } from './packets.mjs';

export const SERVERS = ['192.168.0.1', '192.168.0.2'];
export const PORTS = [80, 443, 8080, 5432];

/** What connection i is (closed, open, refused, halfClosed, synOnly): 70/15/5/5/5 of every 20. */
export function kindOf(i) {
  const k = i % 20;
  if (k < 14) return 'closed';
  if (k < 17) return 'open';
  if (k < 18) return 'refused';
  if (k < 19) return 'halfClosed';
  return 'synOnly';
}

export function writeHeldConnections(path, { connections = 1_000_000, gapUs = 100, startUs = 1_700_000_000_000_000 } = {}) {
  const w = new PcapWriter(path);
  let t = startUs;
  for (let i = 0; i < connections; i++) {
    const src = (0x0a000000 + i + 1) >>> 0; // 10.0.0.1 onwards: one client address each
    const sport = 1024 + (i % 60000);
    const dst = SERVERS[i & 1];
    const dport = PORTS[(i >> 1) % PORTS.length];
    const isn = Math.imul(i + 1, 2654435761) >>> 0;
    const risn = Math.imul(i + 7, 40503) >>> 0;
    const c = { src, dst, sport, dport };
    const s = { src: dst, dst: src, sport: dport, dport: sport };
    const kind = kindOf(i);
    let u = t;
    w.add(u++, (b, o) => tcpPacket(b, o, { ...c, flags: SYN, seq: isn, mss: 1460 }));
    if (kind === 'refused') {
      w.add(u++, (b, o) => tcpPacket(b, o, { ...s, flags: RST | ACK, seq: 0, ack: isn + 1, win: 0 }));
    } else if (kind !== 'synOnly') {
      w.add(u++, (b, o) => tcpPacket(b, o, { ...s, flags: SYN | ACK, seq: risn, ack: isn + 1, mss: 1460 }));
      w.add(u++, (b, o) => tcpPacket(b, o, { ...c, flags: ACK, seq: isn + 1, ack: risn + 1 }));
      w.add(u++, (b, o) => tcpPacket(b, o, { ...c, flags: PSH | ACK, seq: isn + 1, ack: risn + 1, payload: 20 }));
      w.add(u++, (b, o) => tcpPacket(b, o, { ...s, flags: PSH | ACK, seq: risn + 1, ack: isn + 21, payload: 40 }));
      if (kind === 'closed' || kind === 'halfClosed') {
        w.add(u++, (b, o) => tcpPacket(b, o, { ...c, flags: FIN | ACK, seq: isn + 21, ack: risn + 41 }));
        if (kind === 'closed') {
          w.add(u++, (b, o) => tcpPacket(b, o, { ...s, flags: FIN | ACK, seq: risn + 41, ack: isn + 22 }));
          w.add(u++, (b, o) => tcpPacket(b, o, { ...c, flags: ACK, seq: isn + 22, ack: risn + 42 }));
        } else {
          w.add(u++, (b, o) => tcpPacket(b, o, { ...s, flags: ACK, seq: risn + 41, ack: isn + 22 }));
        }
      }
    }
    t += gapUs;
  }
  return w.close();
}
