import { JsonBytes, LIT_PAD, lit, writeAscii, writeDigits, writeLit, writePadded } from '../../events/json-bytes';
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

const B62 = Buffer.from('0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz', 'latin1');

const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);

/** One step of an FNV-1a-style hash, over a whole 32-bit word at once. */
function mix(h: number, w: number): number {
  return Math.imul(h ^ w, 0x01000193) ^ (h >>> 13);
}

/** The bytes of zeekUid() at p. */
function writeZeekUid(b: Uint8Array, p: number, n: number, startedAt: number, ip: string, port: number): number {
  f64[0] = startedAt;
  let a = mix(mix(mix(0x811c9dc5, n), u32[0]), u32[1]);
  let h = mix(mix(mix(0x5bd1e995, u32[1] ^ port), n), u32[0]);
  for (let i = 0; i < ip.length; i++) {
    a = mix(a, ip.charCodeAt(i));
    h = mix(h, ip.charCodeAt(i) << 8);
  }
  a = mix(a, port);
  b[p++] = 0x43; // C
  for (let i = 0; i < 17; i++) {
    let x = (a + Math.imul(i + 1, 0x9e3779b9)) ^ h;
    x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
    x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
    x ^= x >>> 16;
    b[p++] = B62[(x >>> 0) % 62];
    h = Math.imul(h ^ x, 0x01000193);
  }
  return p;
}

/**
 * A Zeek-style uid ("C" and 17 base-62 characters). Derived from the record, not random, so the
 * same capture always gives the same log: two 32-bit hashes (64 bits, as Zeek's own uids carry) of
 * the record's number, its start time's bits and its originator, spread over the 17 characters by a
 * murmur3 finaliser. No number is turned into text on the way: that was most of its cost.
 */
export function zeekUid(n: number, startedAt: number, ip: string, port: number): string {
  const b = Buffer.allocUnsafe(18);
  writeZeekUid(b, 0, n, startedAt, ip, port);
  return b.toString('latin1');
}

/**
 * Milliseconds as seconds with six decimals, the text (ms / 1000).toFixed(6) makes: the integer
 * nearest to x·10^6 for x = ms / 1000, in digits with the point before the last six. Computed
 * below 2^51, x·10^6 is within 0.125 of its exact value; when it is also within 0.25 of an
 * integer, that integer is the nearest one to the exact value, which is toFixed's. Anything else
 * goes to toFixed.
 */
function writeSecs(b: Uint8Array, p: number, ms: number): number {
  const x = ms / 1000;
  const y = x * 1e6;
  const n = Math.round(y);
  if (y >= 0 && y < 2 ** 51 && Math.abs(y - n) < 0.25) {
    const whole = Math.floor(n / 1e6);
    const frac = n - whole * 1e6;
    if (frac >= 0 && frac < 1e6) {
      p = writeDigits(b, p, whole);
      b[p++] = 0x2e;
      return writePadded(b, p, frac, 6);
    }
  }
  return writeAscii(b, p, x.toFixed(6));
}

/** A count as a template literal writes it (String(n)). */
function writeCount(b: Uint8Array, p: number, n: number): number {
  return n >= 0 && n <= Number.MAX_SAFE_INTEGER && Math.floor(n) === n ? writeDigits(b, p, n) : writeAscii(b, p, String(n));
}

/** Room for a row: its fixed text, 12 numbers at their longest (25 characters) and the uid. */
const ROW_ROOM = 128 + 12 * 25 + LIT_PAD;

const TAB = 0x09;
const TCP_UNSET = lit(`tcp\t${UNSET}\t`);
const NOT_LASTED = lit(`${UNSET}\t${UNSET}\t${UNSET}\t`);
const LOCAL_UNSET = lit(`\t${UNSET}\t${UNSET}\t`);
const EMPTY_BYTES = lit(EMPTY);
const END = lit(`\t${UNSET}\n`);

/**
 * One conn.log line for one of Zeek's records (src/track/zeek/lifetime.ts): its own start, duration,
 * counts and history. As Zeek: duration and byte counts are logged only when the record lasted some
 * time; local_orig and local_resp are unset (no local networks are configured). Written as bytes
 * (every field is ASCII), the same text zeekRow() returns.
 */
export function writeZeekRow(w: JsonBytes, r: ZeekRecord): void {
  const o = r.orig;
  const q = r.resp;
  w.room(ROW_ROOM + o.ip.length + q.ip.length + r.history.length);
  const b = w.buf;
  let p = writeSecs(b, w.pos, r.startedAt);
  b[p++] = TAB;
  p = writeZeekUid(b, p, r.n, r.startedAt, o.ip, o.port);
  b[p++] = TAB;
  p = writeAscii(b, p, o.ip);
  b[p++] = TAB;
  p = writeCount(b, p, o.port);
  b[p++] = TAB;
  p = writeAscii(b, p, q.ip);
  b[p++] = TAB;
  p = writeCount(b, p, q.port);
  b[p++] = TAB;
  p = writeLit(b, w.dv, p, TCP_UNSET);
  const durMs = r.lastAt - r.startedAt;
  if (durMs > 0) {
    p = writeSecs(b, p, durMs);
    b[p++] = TAB;
    p = writeCount(b, p, o.bytes);
    b[p++] = TAB;
    p = writeCount(b, p, q.bytes);
    b[p++] = TAB;
  } else p = writeLit(b, w.dv, p, NOT_LASTED);
  p = writeAscii(b, p, r.connState);
  p = writeLit(b, w.dv, p, LOCAL_UNSET);
  p = writeCount(b, p, r.missedBytes);
  b[p++] = TAB;
  p = r.history === '' ? writeLit(b, w.dv, p, EMPTY_BYTES) : writeAscii(b, p, r.history);
  b[p++] = TAB;
  p = writeCount(b, p, o.packets);
  b[p++] = TAB;
  p = writeCount(b, p, o.ipBytes);
  b[p++] = TAB;
  p = writeCount(b, p, q.packets);
  b[p++] = TAB;
  p = writeCount(b, p, q.ipBytes);
  w.pos = writeLit(b, w.dv, p, END);
}

const scratch = new JsonBytes(1024);

/** One conn.log line, as text. */
export function zeekRow(r: ZeekRecord): string {
  scratch.pos = 0;
  writeZeekRow(scratch, r);
  return scratch.result().toString('latin1');
}
