import { addrString } from '../decode/segment';
import type { TcpState } from '../track/states';

/** One row of /proc/net/tcp or tcp6: a socket as the kernel holds it. */
export interface KernelSocket {
  family: 4 | 6;
  localIp: string;
  localPort: number;
  remoteIp: string;
  remotePort: number;
  state: TcpState;
  /** Bytes sent and not yet acknowledged. */
  txQueue: number;
  /** Bytes received and not yet read; for a listener, connections waiting for accept(). */
  rxQueue: number;
  uid: number;
  /** Socket inode (0 for TIME_WAIT and request sockets, which no process holds). */
  inode: number;
}

/**
 * The kernel's TCP state numbers (include/net/tcp_states.h) by RFC 9293 name. NEW_SYN_RECV (12) is
 * a request socket, SYN_RECEIVED to the peer.
 */
const KERNEL_STATES: readonly (TcpState | undefined)[] = [
  undefined,
  'ESTABLISHED',
  'SYN_SENT',
  'SYN_RECEIVED',
  'FIN_WAIT_1',
  'FIN_WAIT_2',
  'TIME_WAIT',
  'CLOSED',
  'CLOSE_WAIT',
  'LAST_ACK',
  'LISTEN',
  'CLOSING',
  'SYN_RECEIVED',
];

export interface ParsedTable {
  sockets: KernelSocket[];
  /** Lines that did not have the expected shape (skipped, never fatal). */
  badLines: number;
}

/**
 * Parses /proc/net/tcp (family 4) or /proc/net/tcp6 (family 6). The addresses are the kernel's
 * words printed in host byte order (little-endian here), so each 32-bit word is read back to front.
 */
export function parseProcTcp(text: string, family: 4 | 6, out: KernelSocket[] = []): ParsedTable {
  let badLines = 0;
  let start = text.indexOf('\n') + 1; // the header
  if (start === 0) return { sockets: out, badLines: text.trim() === '' ? 0 : 1 };
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    const line = text.slice(start, end);
    start = end + 1;
    if (line.trim() === '') continue;
    const s = parseLine(line, family);
    if (s) out.push(s);
    else badLines++;
  }
  return { sockets: out, badLines };
}

function parseLine(line: string, family: 4 | 6): KernelSocket | null {
  const f = line.trim().split(/\s+/);
  if (f.length < 10) return null;
  const local = endpoint(f[1], family);
  const remote = endpoint(f[2], family);
  const state = KERNEL_STATES[parseInt(f[3], 16)];
  const q = f[4].split(':');
  const uid = Number(f[7]);
  const inode = Number(f[9]);
  if (!local || !remote || !state || q.length !== 2 || !Number.isInteger(uid) || !Number.isInteger(inode)) return null;
  const tx = parseInt(q[0], 16);
  const rx = parseInt(q[1], 16);
  if (Number.isNaN(tx) || Number.isNaN(rx)) return null;
  return { family, localIp: local.ip, localPort: local.port, remoteIp: remote.ip, remotePort: remote.port, state, txQueue: tx, rxQueue: rx, uid, inode };
}

function endpoint(text: string, family: 4 | 6): { ip: string; port: number } | null {
  const colon = text.indexOf(':');
  const hex = text.slice(0, colon);
  const port = parseInt(text.slice(colon + 1), 16);
  if (colon < 0 || Number.isNaN(port) || hex.length !== (family === 4 ? 8 : 32) || !/^[0-9A-Fa-f]+$/.test(hex)) return null;
  const bytes = new Uint8Array(hex.length / 2);
  let k = 0;
  for (let w = 0; w < hex.length; w += 8) {
    for (let b = 6; b >= 0; b -= 2) bytes[k++] = parseInt(hex.slice(w + b, w + b + 2), 16);
  }
  return { ip: addrString(bytes, 0, family), port };
}
