// The connection table's columns: what each shows, and the value it sorts by.
import { bytes, duration, endpoint, ms } from './format.js';
import { ownerText, ownerTitle } from './sockets.js';

function ipKey(ip) {
  // IPv4 sorts numerically; IPv6 after it, by text.
  if (!ip.includes(':')) return '4' + ip.split('.').map((p) => p.padStart(3, '0')).join('.');
  return '6' + ip;
}

function endpointKey(ep) {
  return `${ipKey(ep.ip)}#${String(ep.port).padStart(5, '0')}`;
}

/** Time since the connection started, on the source's clock. */
export function ageOf(c, now) {
  return now - c.startedAt;
}

function lifetime(r) {
  const c = r.c;
  if (c.status !== 'closed' || c.endedAt == null) return 'open';
  return `lasted ${duration(c.endedAt - c.startedAt)} (closed: ${c.closeKind ?? 'unknown'})`;
}

/** The local owners of a connection: "curl (12) → nginx (80)", '' when none is known. */
function processes(c) {
  const a = c.client.process ? ownerText(c.client.process) : '';
  const b = c.server.process ? ownerText(c.server.process) : '';
  return a || b ? `${a || '·'} → ${b || '·'}` : '';
}

export const COLUMNS = [
  { key: 'client', label: 'Client', cls: 'addr', sort: (r) => endpointKey(r.c.client), text: (r) => endpoint(r.c.client) },
  { key: 'cstate', label: 'Client state', state: 'client', sort: (r) => r.c.client.state },
  { key: 'server', label: 'Server', cls: 'addr', sort: (r) => endpointKey(r.c.server), text: (r) => endpoint(r.c.server) },
  { key: 'sstate', label: 'Server state', state: 'server', sort: (r) => r.c.server.state },
  { key: 'proc', label: 'Process', cls: 'proc', sort: (r) => processes(r.c), text: (r) => processes(r.c),
    title: (r) => [`client: ${ownerTitle(r.c.client.process, r.c.client.processReason) || '—'}`, `server: ${ownerTitle(r.c.server.process, r.c.server.processReason) || '—'}`].join('\n') },
  { key: 'conn', label: 'Conn', cls: 'cs', sort: (r) => r.c.connState, text: (r) => r.c.connState, title: (r) => `history ${r.c.history || '—'}` },
  { key: 'rtt', label: 'RTT', num: true, sort: (r) => r.c.handshake.rttMs ?? Infinity, text: (r) => ms(r.c.handshake.rttMs) },
  { key: 'up', label: 'Bytes →', num: true, aria: 'Bytes client to server', sort: (r) => r.c.counts.client.bytes, text: (r) => bytes(r.c.counts.client.bytes) },
  { key: 'down', label: 'Bytes ←', num: true, aria: 'Bytes server to client', sort: (r) => r.c.counts.server.bytes, text: (r) => bytes(r.c.counts.server.bytes) },
  { key: 'age', label: 'Age', num: true, sort: (r) => -r.c.startedAt, text: (r, now) => duration(ageOf(r.c, now)), title: lifetime },
];

export function sortRows(rows, key, dir, now) {
  const col = COLUMNS.find((c) => c.key === key) ?? COLUMNS[COLUMNS.length - 1];
  const sign = dir === 'desc' ? -1 : 1;
  const keyed = rows.map((r) => ({ r, k: col.sort(r, now) }));
  keyed.sort((a, b) => {
    const x = a.k;
    const y = b.k;
    // Ties fall back to newest first, so equal rows keep a stable, useful order.
    if (x === y) return b.r.c.startedAt - a.r.c.startedAt;
    return (x < y ? -1 : 1) * sign;
  });
  return keyed.map((k) => k.r);
}
