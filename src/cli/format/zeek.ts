import type { ZeekRecord } from '../../track/zeek';

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

const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);

/** One step of an FNV-1a-style hash, over a whole 32-bit word at once. */
function mix(h: number, w: number): number {
  return Math.imul(h ^ w, 0x01000193) ^ (h >>> 13);
}

/**
 * A Zeek-style uid ("C" and 17 base-62 characters). Derived from the record, not random, so the
 * same capture always gives the same log: two 32-bit hashes (64 bits, as Zeek's own uids carry) of
 * the record's number, its start time's bits and its originator, spread over the 17 characters by a
 * murmur3 finaliser. No number is turned into text on the way: that was most of its cost.
 */
export function zeekUid(n: number, startedAt: number, ip: string, port: number): string {
  f64[0] = startedAt;
  let a = mix(mix(mix(0x811c9dc5, n), u32[0]), u32[1]);
  let b = mix(mix(mix(0x5bd1e995, u32[1] ^ port), n), u32[0]);
  for (let i = 0; i < ip.length; i++) {
    a = mix(a, ip.charCodeAt(i));
    b = mix(b, ip.charCodeAt(i) << 8);
  }
  a = mix(a, port);
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

/**
 * One conn.log line for one of Zeek's records (src/track/zeek/lifetime.ts): its own start, duration,
 * counts and history. As Zeek: duration and byte counts are logged only when the record lasted some
 * time; local_orig and local_resp are unset (no local networks are configured).
 */
export function zeekRow(r: ZeekRecord): string {
  const durMs = r.lastAt - r.startedAt;
  const lasted = durMs > 0;
  const o = r.orig;
  const p = r.resp;
  return (
    `${secs(r.startedAt)}\t${zeekUid(r.n, r.startedAt, o.ip, o.port)}\t${o.ip}\t${o.port}\t${p.ip}\t${p.port}\ttcp\t${UNSET}\t` +
    (lasted ? `${secs(durMs)}\t${o.bytes}\t${p.bytes}\t` : `${UNSET}\t${UNSET}\t${UNSET}\t`) +
    `${r.connState}\t${UNSET}\t${UNSET}\t${r.missedBytes}\t${r.history === '' ? EMPTY : r.history}\t` +
    `${o.packets}\t${o.ipBytes}\t${p.packets}\t${p.ipBytes}\t${UNSET}\n`
  );
}
