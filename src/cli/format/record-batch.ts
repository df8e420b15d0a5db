import type { ConnectionView, SideOptions } from '../../track/connection';
import { CONN_STATES, TCP_STATES, type ConnState } from '../../track/states';
import { CLOSE_KINDS, CLOSED_BY } from '../../track/store';
import { CLOSE_KIND_INDEX, CLOSED_BY_INDEX, CONN_STATE_INDEX, TCP_STATE_INDEX, orNaN } from '../../track/record';
import type { ZeekRecord } from '../../track/zeek';
import type { ConnFields } from '../../track/record';
import { fieldsBytes, packFields, PackedFields } from './record-fields';

/**
 * analyze's records packed into one ArrayBuffer, so the thread that tracks can hand a few thousand
 * of them to the thread that writes them out in one message, with no object or string built on
 * the way: numbers as float64, names as their index in the one list that declares them, addresses,
 * ids and histories as their ASCII bytes. The buffer is transferred and comes back to be filled
 * again. The reading side builds the same objects back, so the same formatter functions write the
 * same text.
 *
 * A record starts at a multiple of 8 bytes with its kind. What cannot be packed so (an endpoint
 * with notes, a string that is not ASCII) is packed as its finished text, made by the caller.
 * A jsonl record and a table row come as the connection's fields (record-fields.ts), which the same
 * writer reads on both sides.
 */
export const RECORD_BATCH_BYTES = 1 << 20;

const VIEW = 1;
const ZEEK = 2;
const TEXT = 3;
const FIELDS = 4;
const TABLE_FIELDS = 5;

/** float64 fields of a view record (from byte 8), then its strings. */
const VIEW_NUMS = 22;
const VIEW_STRINGS = 8 + 8 * VIEW_NUMS;
/** float64 fields of a Zeek record (from byte 8), then its strings. */
const ZEEK_NUMS = 12;
const ZEEK_STRINGS = 8 + 8 * ZEEK_NUMS;

const STATUS = ['open', 'closed'] as const;

const F_PARTIAL = 1;
const F_GUESSED = 2;
const F_GAP = 4;
const F_CSACK = 8;
const F_CTS = 16;
const F_SSACK = 32;
const F_STS = 64;

const orNull = (n: number): number | null => (Number.isNaN(n) ? null : n);

export class RecordBatchWriter {
  private f64!: Float64Array;
  private u8!: Uint8Array;
  private buf!: Buffer;
  buffer!: ArrayBuffer;
  used = 0;
  count = 0;

  constructor(buffer: ArrayBuffer) {
    this.reset(buffer);
  }

  /** Starts filling `buffer` from its beginning. */
  reset(buffer: ArrayBuffer): void {
    this.buffer = buffer;
    this.f64 = new Float64Array(buffer);
    this.u8 = new Uint8Array(buffer);
    this.buf = Buffer.from(buffer);
    this.used = 0;
    this.count = 0;
  }

  /**
   * Packs a connection's view: true when done, false when the batch has no room for it (send it
   * and write again into an empty one), null when the view cannot be packed (write it as text).
   */
  view(c: ConnectionView): boolean | null {
    const cl = c.client;
    const sv = c.server;
    if (cl.process !== undefined || cl.processReason !== undefined || cl.kernel !== undefined) return null;
    if (sv.process !== undefined || sv.processReason !== undefined || sv.kernel !== undefined) return null;
    const need = VIEW_STRINGS + 8 + c.id.length + cl.ip.length + sv.ip.length + c.history.length + 8;
    if (need > this.buffer.byteLength - this.used) return need > this.buffer.byteLength ? null : false;
    const o = this.used;
    const u8 = this.u8;
    const cs = TCP_STATE_INDEX.get(cl.state);
    const ss = TCP_STATE_INDEX.get(sv.state);
    const z = CONN_STATE_INDEX.get(c.connState);
    const by = CLOSED_BY_INDEX.get(c.closedBy);
    const kind = CLOSE_KIND_INDEX.get(c.closeKind);
    if (cs === undefined || ss === undefined || z === undefined || by === undefined || kind === undefined) return null;
    const oc = c.options.client;
    const os = c.options.server;
    u8[o] = VIEW;
    u8[o + 1] = c.family;
    u8[o + 2] = cs;
    u8[o + 3] = ss;
    u8[o + 4] = c.status === 'closed' ? 1 : 0;
    u8[o + 5] = z;
    u8[o + 6] =
      (c.partial ? F_PARTIAL : 0) |
      (c.rolesGuessed ? F_GUESSED : 0) |
      (c.captureGap ? F_GAP : 0) |
      (oc.sackPermitted ? F_CSACK : 0) |
      (oc.timestamps ? F_CTS : 0) |
      (os.sackPermitted ? F_SSACK : 0) |
      (os.timestamps ? F_STS : 0);
    u8[o + 7] = by | (kind << 2);
    const f = this.f64;
    const i = (o >> 3) + 1;
    const h = c.handshake;
    const k = c.counts;
    f[i] = c.startedAt;
    f[i + 1] = orNaN(c.endedAt);
    f[i + 2] = c.lastSeenAt;
    f[i + 3] = orNaN(h.synAt);
    f[i + 4] = orNaN(h.synAckAt);
    f[i + 5] = orNaN(h.ackAt);
    f[i + 6] = orNaN(h.rttMs);
    f[i + 7] = orNaN(h.synToSynAckMs);
    f[i + 8] = orNaN(h.synAckToAckMs);
    f[i + 9] = k.client.packets;
    f[i + 10] = k.client.bytes;
    f[i + 11] = k.server.packets;
    f[i + 12] = k.server.bytes;
    f[i + 13] = orNaN(oc.mss);
    f[i + 14] = orNaN(oc.wscale);
    f[i + 15] = orNaN(os.mss);
    f[i + 16] = orNaN(os.wscale);
    f[i + 17] = cl.port;
    f[i + 18] = sv.port;
    f[i + 19] = c.synRetransmits;
    f[i + 20] = c.anomalies;
    f[i + 21] = c.missedBytes;
    let p = o + VIEW_STRINGS;
    if ((p = this.ascii(c.id, p)) < 0 || (p = this.ascii(cl.ip, p)) < 0 || (p = this.ascii(sv.ip, p)) < 0 || (p = this.ascii(c.history, p)) < 0) return null;
    this.used = (p + 7) & ~7;
    this.count++;
    return true;
  }

  /** Packs a connection's fields, for its jsonl line (or, `table`, its table row); as `view`. */
  fields(f: ConnFields, table = false): boolean | null {
    const need = fieldsBytes(f);
    if (need < 0) return null;
    if (need > this.buffer.byteLength - this.used) return need > this.buffer.byteLength ? null : false;
    this.used = packFields(this.u8, this.f64, this.used, table ? TABLE_FIELDS : FIELDS, f);
    this.count++;
    return true;
  }

  /** Packs one of Zeek's records; as `view`. */
  zeek(r: ZeekRecord): boolean | null {
    const need = ZEEK_STRINGS + 6 + r.orig.ip.length + r.resp.ip.length + r.history.length + 8;
    if (need > this.buffer.byteLength - this.used) return need > this.buffer.byteLength ? null : false;
    const z = CONN_STATE_INDEX.get(r.connState);
    if (z === undefined) return null;
    const o = this.used;
    this.u8[o] = ZEEK;
    this.u8[o + 1] = z;
    const f = this.f64;
    const i = (o >> 3) + 1;
    const a = r.orig;
    const b = r.resp;
    f[i] = r.n;
    f[i + 1] = r.startedAt;
    f[i + 2] = r.lastAt;
    f[i + 3] = a.port;
    f[i + 4] = a.packets;
    f[i + 5] = a.bytes;
    f[i + 6] = a.ipBytes;
    f[i + 7] = b.port;
    f[i + 8] = b.packets;
    f[i + 9] = b.bytes;
    f[i + 10] = b.ipBytes;
    f[i + 11] = r.missedBytes;
    let p = o + ZEEK_STRINGS;
    if ((p = this.ascii(a.ip, p)) < 0 || (p = this.ascii(b.ip, p)) < 0 || (p = this.ascii(r.history, p)) < 0) return null;
    this.used = (p + 7) & ~7;
    this.count++;
    return true;
  }

  /** Packs a finished record's text (UTF-8); false when it does not fit in what is left. */
  text(s: string): boolean {
    const o = this.used;
    if (RecordBatchWriter.textBytes(s) > this.buffer.byteLength - o) return false;
    const n = this.buf.write(s, o + 8, 'utf8');
    this.u8[o] = TEXT;
    new DataView(this.buffer).setUint32(o + 4, n, true);
    this.used = (o + 8 + n + 7) & ~7;
    this.count++;
    return true;
  }

  /** The size an empty batch needs to take this text as one record. */
  static textBytes(s: string): number {
    return (8 + Buffer.byteLength(s) + 7) & ~7;
  }

  /** `s` as a 2-byte length and its bytes at `p`; the next position, or -1 when `s` is not ASCII. */
  private ascii(s: string, p: number): number {
    const u8 = this.u8;
    const n = s.length;
    if (n > 0xffff) return -1;
    u8[p] = n & 0xff;
    u8[p + 1] = n >> 8;
    p += 2;
    for (let j = 0; j < n; j++) {
      const ch = s.charCodeAt(j);
      if (ch > 0x7f) return -1;
      u8[p + j] = ch;
    }
    return p + n;
  }
}

/** What a record read back is. */
export type BatchRecord =
  | { kind: 'view'; view: ConnectionView }
  /** A jsonl line's fields. */
  | { kind: 'fields'; fields: PackedFields }
  /** A table row's fields. */
  | { kind: 'table'; fields: PackedFields }
  | { kind: 'zeek'; zeek: ZeekRecord } | { kind: 'text'; text: string };

/** Reads a batch back, record by record, as the objects that were packed (or their text). */
export class RecordBatchReader {
  private readonly f64: Float64Array;
  private readonly u8: Buffer;
  private readonly dv: DataView;
  private off = 0;
  private left: number;
  /** A fields record read back (one, reused: valid until the next record). */
  private readonly packed = new PackedFields();
  private readonly fields: BatchRecord = { kind: 'fields', fields: this.packed };
  private readonly table: BatchRecord = { kind: 'table', fields: this.packed };

  constructor(buffer: ArrayBuffer, used: number, count: number) {
    this.f64 = new Float64Array(buffer, 0, used >> 3);
    this.u8 = Buffer.from(buffer, 0, used);
    this.dv = new DataView(buffer, 0, used);
    this.left = count;
  }

  /** The next record, or null after the last. */
  next(): BatchRecord | null {
    if (this.left === 0) return null;
    this.left--;
    const o = this.off;
    const u8 = this.u8;
    const kind = u8[o];
    if (kind === FIELDS || kind === TABLE_FIELDS) {
      this.off = this.packed.at(u8, this.f64, o);
      return kind === FIELDS ? this.fields : this.table;
    }
    if (kind === TEXT) {
      const n = this.dv.getUint32(o + 4, true);
      this.off = (o + 8 + n + 7) & ~7;
      return { kind: 'text', text: u8.toString('utf8', o + 8, o + 8 + n) };
    }
    const f = this.f64;
    const i = (o >> 3) + 1;
    if (kind === ZEEK) {
      let p = o + ZEEK_STRINGS;
      const oip = this.str(p);
      p += 2 + oip.length;
      const rip = this.str(p);
      p += 2 + rip.length;
      const history = this.str(p);
      p += 2 + history.length;
      this.off = (p + 7) & ~7;
      const zeek: ZeekRecord = {
        n: f[i],
        connectionId: '',
        startedAt: f[i + 1],
        lastAt: f[i + 2],
        orig: { ip: oip, port: f[i + 3], packets: f[i + 4], bytes: f[i + 5], ipBytes: f[i + 6] },
        resp: { ip: rip, port: f[i + 7], packets: f[i + 8], bytes: f[i + 9], ipBytes: f[i + 10] },
        connState: CONN_STATES[u8[o + 1]] as ConnState,
        history,
        missedBytes: f[i + 11],
      };
      return { kind: 'zeek', zeek };
    }
    let p = o + VIEW_STRINGS;
    const id = this.str(p);
    p += 2 + id.length;
    const cip = this.str(p);
    p += 2 + cip.length;
    const sip = this.str(p);
    p += 2 + sip.length;
    const history = this.str(p);
    p += 2 + history.length;
    this.off = (p + 7) & ~7;
    const fl = u8[o + 6];
    const side = (mss: number, wscale: number, sack: number, ts: number): SideOptions => ({
      mss: orNull(mss),
      wscale: orNull(wscale),
      sackPermitted: (fl & sack) !== 0,
      timestamps: (fl & ts) !== 0,
    });
    const view: ConnectionView = {
      id,
      family: u8[o + 1] === 6 ? 6 : 4,
      client: { ip: cip, port: f[i + 17], state: TCP_STATES[u8[o + 2]] },
      server: { ip: sip, port: f[i + 18], state: TCP_STATES[u8[o + 3]] },
      status: STATUS[u8[o + 4]],
      connState: CONN_STATES[u8[o + 5]] as ConnState,
      history,
      partial: (fl & F_PARTIAL) !== 0,
      captureGap: (fl & F_GAP) !== 0,
      rolesGuessed: (fl & F_GUESSED) !== 0,
      startedAt: f[i],
      endedAt: orNull(f[i + 1]),
      lastSeenAt: f[i + 2],
      handshake: {
        synAt: orNull(f[i + 3]),
        synAckAt: orNull(f[i + 4]),
        ackAt: orNull(f[i + 5]),
        rttMs: orNull(f[i + 6]),
        synToSynAckMs: orNull(f[i + 7]),
        synAckToAckMs: orNull(f[i + 8]),
      },
      closedBy: CLOSED_BY[u8[o + 7] & 3],
      closeKind: CLOSE_KINDS[u8[o + 7] >> 2] ?? null,
      counts: {
        client: { packets: f[i + 9], bytes: f[i + 10] },
        server: { packets: f[i + 11], bytes: f[i + 12] },
      },
      options: { client: side(f[i + 13], f[i + 14], F_CSACK, F_CTS), server: side(f[i + 15], f[i + 16], F_SSACK, F_STS) },
      synRetransmits: f[i + 19],
      anomalies: f[i + 20],
      missedBytes: f[i + 21],
    };
    return { kind: 'view', view };
  }

  private str(p: number): string {
    const n = this.u8[p] | (this.u8[p + 1] << 8);
    return this.u8.toString('latin1', p + 2, p + 2 + n);
  }
}
