import type { ConnFields, ConnectionSource } from '../../track/record';

// A connection's fields (track/record.ts ConnFields) as one record of a record batch
// (record-batch.ts): what the tracking thread copies out of the store for the record thread to
// write the connection's JSON line from, with the same writer. The fields are numbers and name
// indices already, so packing them is a copy: no view, no string.
//
// From its start (a multiple of 8): the kind byte, family, the two endpoint states, both OPT bit
// sets, FL bits, connState, closedBy and closeKind, the history's length (2 bytes); the id; both
// IPv4 addresses; the 22 numbers; then the history's letters and, for an address that is not
// IPv4, its text (2 bytes of length, then its bytes).

const HEAD = 16;
const IP4 = HEAD + 8;
const NUMS = IP4 + 16;
const STRINGS = NUMS + 8 * 22;

/** The bytes `f` takes as a record, or -1 when it cannot be packed so (notes, an id as text, a text over 64 KiB). */
export function fieldsBytes(f: ConnFields): number {
  if (f.idText !== null || f.notes[0] !== null || f.notes[1] !== null || f.histLen > 0xffff) return -1;
  let n = STRINGS + f.histLen;
  for (let i = 0; i < 2; i++) {
    if (f.ip4[i] >= 0) continue;
    const t = f.ipText[i];
    if (t.length > 0xffff) return -1;
    n += 2 + t.length;
  }
  return (n + 7) & ~7;
}

/** Packs `f` (fieldsBytes(f) bytes) at o, with `kind` first; addresses as text are ASCII. */
export function packFields(u8: Uint8Array, f64: Float64Array, o: number, kind: number, f: ConnFields): number {
  u8[o] = kind;
  u8[o + 1] = f.family;
  u8[o + 2] = f.state[0];
  u8[o + 3] = f.state[1];
  u8[o + 4] = f.opts[0] | (f.opts[1] << 2);
  u8[o + 5] = f.flags;
  u8[o + 6] = f.connState;
  u8[o + 7] = f.closedBy | (f.closeKind << 3);
  u8[o + 8] = f.histLen & 0xff;
  u8[o + 9] = f.histLen >> 8;
  const w = (o + HEAD) >> 3;
  f64[w] = f.id;
  f64[w + 1] = f.ip4[0];
  f64[w + 2] = f.ip4[1];
  const num = f.num;
  for (let i = 0; i < 22; i++) f64[w + 3 + i] = num[i];
  let p = o + STRINGS;
  const h = f.hist;
  for (let i = 0; i < f.histLen; i++) u8[p++] = h[i];
  for (let side = 0; side < 2; side++) {
    if (f.ip4[side] >= 0) continue;
    const t = f.ipText[side];
    u8[p] = t.length & 0xff;
    u8[p + 1] = t.length >> 8;
    p += 2;
    for (let i = 0; i < t.length; i++) u8[p++] = t.charCodeAt(i);
  }
  return (p + 7) & ~7;
}

/** A packed record read back: fill() puts its fields into the writer's ConnFields. */
export class PackedFields implements ConnectionSource {
  private u8!: Uint8Array;
  private f64!: Float64Array;
  private o = 0;

  /** Points at the record at o; returns where the next record starts. */
  at(u8: Uint8Array, f64: Float64Array, o: number): number {
    this.u8 = u8;
    this.f64 = f64;
    this.o = o;
    let p = o + STRINGS + (u8[o + 8] | (u8[o + 9] << 8));
    const w = (o + HEAD) >> 3;
    for (let side = 0; side < 2; side++) if (f64[w + 1 + side] < 0) p += 2 + (u8[p] | (u8[p + 1] << 8));
    return (p + 7) & ~7;
  }

  fill(f: ConnFields): void {
    const u8 = this.u8;
    const f64 = this.f64;
    const o = this.o;
    f.family = u8[o + 1] === 6 ? 6 : 4;
    f.state[0] = u8[o + 2];
    f.state[1] = u8[o + 3];
    f.opts[0] = u8[o + 4] & 3;
    f.opts[1] = u8[o + 4] >> 2;
    f.flags = u8[o + 5];
    f.connState = u8[o + 6];
    f.closedBy = u8[o + 7] & 7;
    f.closeKind = u8[o + 7] >> 3;
    f.notes[0] = f.notes[1] = null;
    const w = (o + HEAD) >> 3;
    f.id = f64[w];
    f.idText = null;
    f.ip4[0] = f64[w + 1];
    f.ip4[1] = f64[w + 2];
    const num = f.num;
    for (let i = 0; i < 22; i++) num[i] = f64[w + 3 + i];
    const len = u8[o + 8] | (u8[o + 9] << 8);
    const h = f.histRoom(len);
    let p = o + STRINGS;
    for (let i = 0; i < len; i++) h[i] = u8[p++];
    f.histLen = len;
    for (let side = 0; side < 2; side++) {
      if (f.ip4[side] >= 0) continue;
      const n = u8[p] | (u8[p + 1] << 8);
      f.ipText[side] = Buffer.from(u8.buffer, u8.byteOffset + p + 2, n).toString('latin1');
      p += 2 + n;
    }
  }
}
