/**
 * Zeek's choice of originator for a connection whose first packet is not a plain SYN
 * (TCPAnalyzer::WantConnection), with Zeek's likely_server_ports approximated.
 */
import type { Segment } from '../../decode/segment';
import type { History } from '../history';
import { C, type ConnStore } from '../store';
import { F } from '../transitions';
import { L } from './names';


/**
 * Zeek's likely_server_ports, approximated: the well-known ports plus the registered ports of the
 * analyzers Zeek loads by default.
 */
const LIKELY_SERVER_HIGH = new Set([
  1080, 1194, 1433, 1434, 1521, 1723, 1812, 1883, 2049, 2811, 3128, 3268, 3306, 3389, 4369, 5060,
  5222, 5223, 5269, 5432, 5672, 5900, 6379, 6666, 6667, 6668, 6669, 8000, 8080, 8888, 9092, 11211,
  20000, 27017,
]);

export function likelyServerPort(p: number): boolean {
  return (p > 0 && p < 1024) || LIKELY_SERVER_HIGH.has(p);
}

/** Whether the sender of a connection's first segment is Zeek's originator. */
export function zeekSenderIsOrig(flags: number, srcPort: number, dstPort: number): boolean {
  const syn = (flags & F.SYN) !== 0;
  if (syn && (flags & F.ACK) === 0) return true;
  if (!likelyServerPort(srcPort)) return true;
  if (likelyServerPort(dstPort)) return !(!syn && srcPort < dstPort);
  return false;
}

/**
 * Takes Zeek's originator for slot s, whose record begins with seg sent from side d (0: our client):
 * C.ZFLIP when it is our server, and '^' in the history when Zeek chose the receiver.
 */
export function takeZeekOrigin(st: ConnStore, hist: History, s: number, d: number, seg: Segment): void {
  const senderIsOrig = zeekSenderIsOrig(seg.flags, seg.srcPort, seg.dstPort);
  if ((senderIsOrig ? d : 1 - d) === 1) st.cflags[s] |= C.ZFLIP;
  if (!senderIsOrig) hist.append(s, L.FLIPPED);
}
