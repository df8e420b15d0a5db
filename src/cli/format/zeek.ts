import type { ConnectionView } from '../../track/connection';

/** The columns of Zeek's conn.log, in Zeek's order (base/protocols/conn/main.zeek). */
const FIELDS = [
  ['ts', 'time'],
  ['uid', 'string'],
  ['id.orig_h', 'addr'],
  ['id.orig_p', 'port'],
  ['id.resp_h', 'addr'],
  ['id.resp_p', 'port'],
  ['proto', 'enum'],
  ['service', 'string'],
  ['duration', 'interval'],
  ['orig_bytes', 'count'],
  ['resp_bytes', 'count'],
  ['conn_state', 'string'],
  ['local_orig', 'bool'],
  ['local_resp', 'bool'],
  ['missed_bytes', 'count'],
  ['history', 'string'],
  ['orig_pkts', 'count'],
  ['orig_ip_bytes', 'count'],
  ['resp_pkts', 'count'],
  ['resp_ip_bytes', 'count'],
  ['tunnel_parents', 'set[string]'],
] as const;

const UNSET = '-';
const EMPTY = '(empty)';

/** Zeek's own log-file time format, %Y-%m-%d-%H-%M-%S in local time. */
function zeekClock(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}-${p(d.getHours())}-${p(d.getMinutes())}-${p(d.getSeconds())}`;
}

export function zeekHeader(now: Date): string {
  return (
    [
      '#separator \\x09',
      '#set_separator\t,',
      `#empty_field\t${EMPTY}`,
      `#unset_field\t${UNSET}`,
      '#path\tconn',
      `#open\t${zeekClock(now)}`,
      `#fields\t${FIELDS.map((f) => f[0]).join('\t')}`,
      `#types\t${FIELDS.map((f) => f[1]).join('\t')}`,
    ].join('\n') + '\n'
  );
}

export function zeekFooter(now: Date): string {
  return `#close\t${zeekClock(now)}\n`;
}

const B62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/**
 * A Zeek-style uid ("C" and 17 base-62 characters). Derived from the connection, not random, so the
 * same capture always gives the same log: two 32-bit FNV-1a hashes of the id, start time and client
 * (64 bits, as Zeek's own uids carry), spread over the 17 characters by a murmur3 finaliser.
 */
export function zeekUid(c: ConnectionView): string {
  const key = `${c.id}|${c.startedAt}|${c.client.ip}|${c.client.port}`;
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ key.length;
  for (let i = 0; i < key.length; i++) {
    const ch = key.charCodeAt(i);
    a = Math.imul(a ^ ch, 0x01000193);
    b = Math.imul(b ^ ch, 0x5bd1e995) ^ (b >>> 15);
  }
  let s = 'C';
  for (let i = 0; i < 17; i++) {
    let x = (a + Math.imul(i + 1, 0x9e3779b9)) ^ b;
    x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
    x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
    x ^= x >>> 16;
    s += B62[(x >>> 0) % 62];
    b = Math.imul(b ^ x, 0x01000193);
  }
  return s;
}

function secs(ms: number): string {
  return (ms / 1000).toFixed(6);
}

/** IP-layer byte counts, when the tracker provides them (Zeek's *_ip_bytes); unset otherwise. */
function ipBytes(side: { packets: number; bytes: number }): string {
  const v = (side as { ipBytes?: unknown }).ipBytes;
  return typeof v === 'number' ? String(v) : UNSET;
}

export function zeekRow(c: ConnectionView): string {
  // Zeek's duration runs from the first to the last packet, not to a timer's verdict.
  const last = c.lastSeenAt ?? c.endedAt ?? c.startedAt;
  const durMs = last - c.startedAt;
  // As Zeek: duration and byte counts are logged only when the connection lasted some time.
  const lasted = durMs > 0;
  const cols = [
    secs(c.startedAt),
    zeekUid(c),
    c.client.ip,
    String(c.client.port),
    c.server.ip,
    String(c.server.port),
    'tcp',
    UNSET,
    lasted ? secs(durMs) : UNSET,
    lasted ? String(c.counts.client.bytes) : UNSET,
    lasted ? String(c.counts.server.bytes) : UNSET,
    c.connState,
    UNSET, // local_orig/local_resp: Zeek leaves them unset when no local networks are configured
    UNSET,
    String(c.missedBytes ?? 0),
    c.history === '' ? EMPTY : c.history,
    String(c.counts.client.packets),
    ipBytes(c.counts.client),
    String(c.counts.server.packets),
    ipBytes(c.counts.server),
    UNSET,
  ];
  return cols.join('\t') + '\n';
}
