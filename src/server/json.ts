import type { ConnectionView, EndpointView, SideOptions } from '../track/connection';

// The list endpoint's body written byte by byte into one buffer: the same text JSON.stringify
// makes of the same object (test/server/json.test.ts holds them equal), without the generic walk
// and without a string per field to collect afterwards — a page of 1 000 connections is most of
// what a list query costs. The shape is fixed and no string in it needs escaping (decimal ids,
// addresses, state names, Zeek's history letters: ASCII without quotes or backslashes); what comes
// from outside the packets (an endpoint's process, the kernel's view) goes through JSON.stringify.

/** Every field of a ConnectionView, in the order the tracker builds them; the writer below writes these. */
const WRITTEN = [
  'id',
  'family',
  'client',
  'server',
  'status',
  'connState',
  'history',
  'partial',
  'captureGap',
  'rolesGuessed',
  'startedAt',
  'endedAt',
  'lastSeenAt',
  'handshake',
  'closedBy',
  'closeKind',
  'counts',
  'options',
  'synRetransmits',
  'anomalies',
  'missedBytes',
] as const satisfies readonly (keyof ConnectionView)[];
/** A field added to ConnectionView and not to the writer fails to compile here. */
const everyField: Exclude<keyof ConnectionView, (typeof WRITTEN)[number]> extends never ? true : never = true;
void everyField;

/** Bytes of a connection's JSON, about (a buffer grows when a page needs more). */
const BYTES_PER_CONNECTION = 900;

/** Two and three fraction digits with their leading zeros. */
const FRAC2 = Array.from({ length: 100 }, (_, i) => String(i).padStart(2, '0'));
const FRAC3 = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, '0'));

/** Appends JSON text to a growing buffer. */
class JsonBytes {
  buf: Buffer;
  pos = 0;

  constructor(size: number) {
    this.buf = Buffer.allocUnsafe(Math.max(256, size));
  }

  private room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(2 * this.buf.length, this.pos + n));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  /** A string of ASCII characters that JSON writes as they are. */
  ascii(s: string): void {
    const n = s.length;
    this.room(n);
    const b = this.buf;
    let p = this.pos;
    for (let i = 0; i < n; i++) b[p++] = s.charCodeAt(i);
    this.pos = p;
  }

  /** Bytes prepared once (the keys and punctuation between the values). */
  lit(k: Uint8Array): void {
    const n = k.length;
    this.room(n);
    const b = this.buf;
    let p = this.pos;
    for (let i = 0; i < n; i++) b[p++] = k[i];
    this.pos = p;
  }

  /** Any JSON text (UTF-8). */
  text(s: string): void {
    this.room(3 * s.length);
    this.pos += this.buf.write(s, this.pos, 'utf8');
  }

  str(s: string | null): void {
    if (s === null) return this.ascii('null');
    this.room(s.length + 2);
    this.buf[this.pos++] = 0x22;
    this.ascii(s);
    this.buf[this.pos++] = 0x22;
  }

  bool(v: boolean): void {
    this.ascii(v ? 'true' : 'false');
  }

  /** A non-negative integer below 2^53, digit by digit (in 32-bit arithmetic, eight digits at a time). */
  private digits(n: number): void {
    if (n < 100_000_000) return this.small(n, 0);
    const hi = Math.floor(n / 100_000_000);
    const lo = n - hi * 100_000_000;
    this.small(hi, 0); // below 10^8 too: n < 2^53
    this.small(lo, 8);
  }

  /** An integer below 10^8, in at least `width` digits (zeros in front). */
  private small(n: number, width: number): void {
    let len = 1;
    for (let x = n; x >= 10; x = (x / 10) | 0) len++;
    if (len < width) len = width;
    this.room(len);
    const b = this.buf;
    const end = this.pos + len;
    let x = n;
    for (let p = end - 1; p >= this.pos; p--) {
      const q = (x / 10) | 0;
      b[p] = 0x30 + x - 10 * q;
      x = q;
    }
    this.pos = end;
  }

  /**
   * A number as JSON.stringify prints it. Times are milliseconds with microseconds in the
   * fraction, and printing a fraction the generic way (shortest round trip) costs more than the
   * rest of a connection: a fraction of at most three digits is printed from integers instead.
   * That text is what the generic way prints whenever its value is the number: below 2^43 two
   * such texts that differ are more than an ulp apart, so no shorter one rounds to the same
   * number, and m / 1000 and the parsed text are both the exact quotient correctly rounded.
   */
  num(n: number | null): void {
    if (n === null || !Number.isFinite(n)) return this.ascii('null');
    if (n >= 0 && n <= Number.MAX_SAFE_INTEGER && Number.isInteger(n) && !Object.is(n, -0)) return this.digits(n);
    if (n > 0.001 && n < 8796093022208) {
      const m = Math.round(n * 1000);
      if (m / 1000 === n) {
        const frac = m % 1000;
        this.digits((m - frac) / 1000);
        this.room(1);
        this.buf[this.pos++] = 0x2e;
        return this.ascii(frac % 100 === 0 ? String(frac / 100) : frac % 10 === 0 ? FRAC2[frac / 10] : FRAC3[frac]);
      }
    }
    this.ascii(String(n));
  }

  result(): Buffer {
    return this.buf.subarray(0, this.pos);
  }
}

/** The text before each value (named by the value), and the punctuation: bytes prepared once. */
const T = bytesOf({
  mss: '{"mss":',
  wscale: ',"wscale":',
  sackPermitted: ',"sackPermitted":',
  timestamps: ',"timestamps":',
  close: '}',
  ip: '{"ip":',
  port: ',"port":',
  state: ',"state":',
  id: '{"id":',
  family: ',"family":',
  client: ',"client":',
  server: ',"server":',
  status: ',"status":',
  connState: ',"connState":',
  history: ',"history":',
  partial: ',"partial":',
  captureGap: ',"captureGap":',
  rolesGuessed: ',"rolesGuessed":',
  startedAt: ',"startedAt":',
  endedAt: ',"endedAt":',
  lastSeenAt: ',"lastSeenAt":',
  synAt: ',"handshake":{"synAt":',
  synAckAt: ',"synAckAt":',
  ackAt: ',"ackAt":',
  rttMs: ',"rttMs":',
  synToSynAckMs: ',"synToSynAckMs":',
  synAckToAckMs: ',"synAckToAckMs":',
  closedBy: '},"closedBy":',
  closeKind: ',"closeKind":',
  clientPackets: ',"counts":{"client":{"packets":',
  bytes: ',"bytes":',
  serverPackets: '},"server":{"packets":',
  optionsClient: '}},"options":{"client":',
  synRetransmits: '},"synRetransmits":',
  anomalies: ',"anomalies":',
  missedBytes: ',"missedBytes":',
  page: '{"connections":[',
  comma: ',',
  nextCursor: '],"nextCursor":',
  total: ',"total":',
});

function bytesOf<K extends string>(texts: Record<K, string>): Record<K, Uint8Array> {
  const out = {} as Record<K, Uint8Array>;
  for (const k of Object.keys(texts) as K[]) out[k] = Buffer.from(texts[k], 'latin1');
  return out;
}

function options(w: JsonBytes, o: SideOptions): void {
  w.lit(T.mss);
  w.num(o.mss);
  w.lit(T.wscale);
  w.num(o.wscale);
  w.lit(T.sackPermitted);
  w.bool(o.sackPermitted);
  w.lit(T.timestamps);
  w.bool(o.timestamps);
  w.lit(T.close);
}

/** An endpoint, with what is known of it beyond the packets in the view's own key order. */
function endpoint(w: JsonBytes, e: EndpointView): void {
  w.lit(T.ip);
  w.str(e.ip);
  w.lit(T.port);
  w.num(e.port);
  w.lit(T.state);
  w.str(e.state);
  if (e.process !== undefined || e.processReason !== undefined || e.kernel !== undefined) {
    for (const k of Object.keys(e) as (keyof EndpointView)[]) {
      const v = e[k];
      if (k === 'ip' || k === 'port' || k === 'state' || v === undefined) continue;
      w.ascii(`,"${k}":`);
      w.text(JSON.stringify(v));
    }
  }
  w.lit(T.close);
}

function connection(w: JsonBytes, c: ConnectionView): void {
  const h = c.handshake;
  const k = c.counts;
  w.lit(T.id);
  w.str(c.id);
  w.lit(T.family);
  w.num(c.family);
  w.lit(T.client);
  endpoint(w, c.client);
  w.lit(T.server);
  endpoint(w, c.server);
  w.lit(T.status);
  w.str(c.status);
  w.lit(T.connState);
  w.str(c.connState);
  w.lit(T.history);
  w.str(c.history);
  w.lit(T.partial);
  w.bool(c.partial);
  w.lit(T.captureGap);
  w.bool(c.captureGap);
  w.lit(T.rolesGuessed);
  w.bool(c.rolesGuessed);
  w.lit(T.startedAt);
  w.num(c.startedAt);
  w.lit(T.endedAt);
  w.num(c.endedAt);
  w.lit(T.lastSeenAt);
  w.num(c.lastSeenAt);
  w.lit(T.synAt);
  w.num(h.synAt);
  w.lit(T.synAckAt);
  w.num(h.synAckAt);
  w.lit(T.ackAt);
  w.num(h.ackAt);
  w.lit(T.rttMs);
  w.num(h.rttMs);
  w.lit(T.synToSynAckMs);
  w.num(h.synToSynAckMs);
  w.lit(T.synAckToAckMs);
  w.num(h.synAckToAckMs);
  w.lit(T.closedBy);
  w.str(c.closedBy);
  w.lit(T.closeKind);
  w.str(c.closeKind);
  w.lit(T.clientPackets);
  w.num(k.client.packets);
  w.lit(T.bytes);
  w.num(k.client.bytes);
  w.lit(T.serverPackets);
  w.num(k.server.packets);
  w.lit(T.bytes);
  w.num(k.server.bytes);
  w.lit(T.optionsClient);
  options(w, c.options.client);
  w.lit(T.server);
  options(w, c.options.server);
  w.lit(T.synRetransmits);
  w.num(c.synRetransmits);
  w.lit(T.anomalies);
  w.num(c.anomalies);
  w.lit(T.missedBytes);
  w.num(c.missedBytes);
  w.lit(T.close);
}

/** One connection as JSON.stringify writes it. */
export function connectionJson(c: ConnectionView): string {
  const w = new JsonBytes(BYTES_PER_CONNECTION);
  connection(w, c);
  return w.result().toString('utf8');
}

/** A list page, as JSON.stringify writes `{ connections, nextCursor, total }`, in UTF-8. */
export function pageJson(connections: readonly ConnectionView[], nextCursor: string | null, total: number): Buffer {
  const w = new JsonBytes(BYTES_PER_CONNECTION * connections.length + 128);
  w.lit(T.page);
  for (let i = 0; i < connections.length; i++) {
    if (i > 0) w.lit(T.comma);
    connection(w, connections[i]);
  }
  w.lit(T.nextCursor);
  w.str(nextCursor);
  w.lit(T.total);
  w.num(total);
  w.lit(T.close);
  return w.result();
}
