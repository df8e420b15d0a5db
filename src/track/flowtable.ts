import { HOST_LE } from '../decode/bytes';
import type { Segment } from '../decode/segment';
import { addressKey, C, type ConnStore } from './store';

/** Host byte order, held in this module so that the per-segment reads load no imported binding. */
const LITTLE_ENDIAN = HOST_LE;

/** Entries of the table of recently found slots (a power of two, minus one). */
const enum RECENT { MASK = 1023 }
/** An entry's words after its slot: the ports (client's << 16 | server's), the client's and the server's address word. */
const enum R { PORTS = 1, CLIENT = 2, SERVER = 3 }

/**
 * The flow table: both directions of a 4-tuple lead to one slot. `key()` reads the segment's
 * addresses once, as 32-bit words, and hashes them with the ports (symmetric in the two
 * endpoints); a bucket's chain is then compared word by word against the store's `addrW`, so a
 * lookup builds no key string and allocates nothing.
 */
export class FlowTable {
  private buckets: Int32Array;
  private mask: number;
  /** Set by find(): 0 when the segment comes from the client, 1 from the server. */
  dir = 0;
  /** Set by lookup(): the hash of the segment's key. */
  hash = 0;
  /**
   * IPv4 slots lookup() found or insert() added lately, by the low bits of their two ports: at 4 * i
   * the slot (-1: none), then its key (R).
   */
  private readonly recent = new Int32Array((RECENT.MASK + 1) * 4).fill(-1);

  // The key of the segment last passed to key(): address words, ports, words per address.
  readonly src = new Int32Array(4);
  readonly dst = new Int32Array(4);
  srcPort = 0;
  dstPort = 0;
  words = 1;

  constructor(private readonly store: ConnStore) {
    this.buckets = new Int32Array(0);
    this.mask = 0;
    this.resize(1024);
  }

  /**
   * Takes the segment's key and returns its hash (the same for both directions). IPv4 is written
   * out without a loop, and IPv6 is left to key6(): the IPv4 path's optimized code then carries
   * neither the loop nor the IPv6 words.
   */
  key(seg: Segment): number {
    if (seg.family !== 4) return this.key6(seg);
    const buf = seg.buf;
    const so = seg.srcOff;
    const d = seg.dstOff;
    const sp = seg.srcPort;
    const dp = seg.dstPort;
    const ws = LITTLE_ENDIAN
      ? buf[so] | (buf[so + 1] << 8) | (buf[so + 2] << 16) | (buf[so + 3] << 24)
      : (buf[so] << 24) | (buf[so + 1] << 16) | (buf[so + 2] << 8) | buf[so + 3];
    const wd = LITTLE_ENDIAN
      ? buf[d] | (buf[d + 1] << 8) | (buf[d + 2] << 16) | (buf[d + 3] << 24)
      : (buf[d] << 24) | (buf[d + 1] << 16) | (buf[d + 2] << 8) | buf[d + 3];
    this.src[0] = ws;
    this.dst[0] = wd;
    this.srcPort = sp;
    this.dstPort = dp;
    this.words = 1;
    let a = Math.imul(0x811c9dc5 ^ sp, 0x01000193);
    let b = Math.imul(0x811c9dc5 ^ dp, 0x01000193);
    a = Math.imul(a ^ ws, 0x01000193);
    a ^= a >>> 15;
    b = Math.imul(b ^ wd, 0x01000193);
    b ^= b >>> 15;
    return mix((a + b) ^ Math.imul(a ^ b, 0x9e3779b1) ^ 1);
  }

  /** key() for IPv6: four words each way. */
  private key6(seg: Segment): number {
    const buf = seg.buf;
    let so = seg.srcOff;
    let d = seg.dstOff;
    const src = this.src;
    const dst = this.dst;
    const le = LITTLE_ENDIAN;
    this.srcPort = seg.srcPort;
    this.dstPort = seg.dstPort;
    let a = Math.imul(0x811c9dc5 ^ seg.srcPort, 0x01000193);
    let b = Math.imul(0x811c9dc5 ^ seg.dstPort, 0x01000193);
    for (let i = 0; i < 4; i++, so += 4, d += 4) {
      const ws = le
        ? buf[so] | (buf[so + 1] << 8) | (buf[so + 2] << 16) | (buf[so + 3] << 24)
        : (buf[so] << 24) | (buf[so + 1] << 16) | (buf[so + 2] << 8) | buf[so + 3];
      const wd = le
        ? buf[d] | (buf[d + 1] << 8) | (buf[d + 2] << 16) | (buf[d + 3] << 24)
        : (buf[d] << 24) | (buf[d + 1] << 16) | (buf[d + 2] << 8) | buf[d + 3];
      src[i] = ws;
      dst[i] = wd;
      a = Math.imul(a ^ ws, 0x01000193);
      a ^= a >>> 15;
      b = Math.imul(b ^ wd, 0x01000193);
      b ^= b >>> 15;
    }
    this.words = 4;
    return mix((a + b) ^ Math.imul(a ^ b, 0x9e3779b1) ^ 4);
  }

  /**
   * The slot holding the connection of the segment, or -1; sets `dir`. The few connections active
   * at a time are looked up again and again: a small table of the IPv4 slots found last, indexed by
   * the low bits of the two ports (the same either way round), keeps each slot with a copy of its
   * key (ports, address words), in one array that stays in the first-level cache where the buckets
   * and the store's columns (sized for every connection tracked) do not. A segment that hits it is
   * compared with that copy straight from its bytes, without computing its key and hash. An entry
   * leaves with its slot (remove()), so a copy that matches is the slot's key. A miss leaves the
   * segment's key and its hash (`hash`, for insert()) behind; after a hit, keyed() gives them.
   */
  lookup(seg: Segment): number {
    const sp = seg.srcPort;
    const dp = seg.dstPort;
    const ri = ((sp ^ dp) & RECENT.MASK) << 2;
    if (seg.family === 4) {
      const rc = this.recent;
      const r = rc[ri];
      if (r >= 0) {
        const ports = rc[ri + R.PORTS];
        const fwd = ports === ((sp << 16) | dp);
        const rev = ports === ((dp << 16) | sp);
        if (fwd || rev) {
          const ws = word(seg.buf, seg.srcOff);
          const wd = word(seg.buf, seg.dstOff);
          if (fwd && rc[ri + R.CLIENT] === ws && rc[ri + R.SERVER] === wd) {
            this.dir = 0;
            return r;
          }
          if (rev && rc[ri + R.SERVER] === ws && rc[ri + R.CLIENT] === wd) {
            this.dir = 1;
            return r;
          }
        }
      }
    }
    const h = this.key(seg);
    this.hash = h;
    const s = this.find(h);
    if (s >= 0) this.remember(s);
    return s;
  }

  /** Takes the segment's key (for assign()) and sets `hash`, after a lookup() that found its slot. */
  keyed(seg: Segment): number {
    return (this.hash = this.key(seg));
  }

  /** Slot s (in the table) as the recent one of its ports, with a copy of its key; IPv4 only. */
  private remember(s: number): void {
    const st = this.store;
    if (st.family[s] !== 4) return;
    const cp = st.cport[s];
    const sp = st.sport[s];
    const i = ((cp ^ sp) & RECENT.MASK) << 2;
    const rc = this.recent;
    rc[i] = s;
    rc[i + R.PORTS] = (cp << 16) | sp;
    rc[i + R.CLIENT] = st.addrW[s * 8];
    rc[i + R.SERVER] = st.addrW[s * 8 + 4];
  }

  /** The slot holding the connection of the last key(), or -1; sets `dir`. */
  find(h: number): number {
    const st = this.store;
    let s = this.buckets[h & this.mask] - 1;
    while (s >= 0) {
      if (st.hash[s] === h && this.holds(s)) return s;
      s = st.chain[s];
    }
    return -1;
  }

  /** Whether slot s holds the key of the last key() (either way round); sets `dir`. */
  private holds(s: number): boolean {
    const st = this.store;
    const n = this.words;
    if (st.family[s] !== (n === 1 ? 4 : 6)) return false;
    const w = st.addrW;
    const src = this.src;
    const dst = this.dst;
    const sp = this.srcPort;
    const dp = this.dstPort;
    const c = s * 8;
    if (st.cport[s] === sp && st.sport[s] === dp && same(w, c, src, n) && same(w, c + 4, dst, n)) {
      this.dir = 0;
      return true;
    }
    if (st.sport[s] === sp && st.cport[s] === dp && same(w, c + 4, src, n) && same(w, c, dst, n)) {
      this.dir = 1;
      return true;
    }
    return false;
  }

  /** Writes the last key() into slot s: addresses and ports, the sender as client if `dir` is 0. */
  assign(s: number, dir: number): void {
    const st = this.store;
    const w = st.addrW;
    const c = dir === 0 ? this.src : this.dst;
    const v = dir === 0 ? this.dst : this.src;
    const base = s * 8;
    for (let i = 0; i < this.words; i++) {
      w[base + i] = c[i];
      w[base + 4 + i] = v[i];
    }
    st.cport[s] = dir === 0 ? this.srcPort : this.dstPort;
    st.sport[s] = dir === 0 ? this.dstPort : this.srcPort;
    st.akey[2 * s] = addressKey(c, 0, this.words);
    st.akey[2 * s + 1] = addressKey(v, 0, this.words);
  }

  /** Sizes the buckets for `n` connections now, so that insert() never resizes below that. */
  reserve(n: number): void {
    let size = this.buckets.length;
    while (size < 2 * n) size *= 2;
    if (size > this.buckets.length) this.resize(size);
  }

  insert(s: number, h: number): void {
    const st = this.store;
    if (st.used * 2 > this.buckets.length) this.resize(this.buckets.length * 2);
    st.hash[s] = h;
    const b = h & this.mask;
    st.chain[s] = this.buckets[b] - 1;
    this.buckets[b] = s + 1;
    st.cflags[s] |= C.IN_TABLE;
    this.remember(s);
  }

  remove(s: number): void {
    const st = this.store;
    if ((st.cflags[s] & C.IN_TABLE) === 0) return;
    st.cflags[s] &= ~C.IN_TABLE;
    const i = ((st.cport[s] ^ st.sport[s]) & RECENT.MASK) << 2;
    if (this.recent[i] === s) this.recent[i] = -1;
    const b = st.hash[s] & this.mask;
    let p = this.buckets[b] - 1;
    if (p === s) {
      this.buckets[b] = st.chain[s] + 1;
      return;
    }
    while (p >= 0) {
      const nx = st.chain[p];
      if (nx === s) {
        st.chain[p] = st.chain[s];
        return;
      }
      p = nx;
    }
  }

  private resize(size: number): void {
    const st = this.store;
    // Buckets hold slot + 1, so a new table is all empty as allocated (no fill to touch its pages).
    this.buckets = new Int32Array(size);
    this.mask = size - 1;
    // Re-thread every connection that is in the table (chains are rebuilt in place).
    const cflags = st.cflags;
    for (let s = 0, n = st.slotsTouched; s < n; s++) {
      if ((cflags[s] & C.IN_TABLE) === 0) continue;
      const b = st.hash[s] & this.mask;
      st.chain[s] = this.buckets[b] - 1;
      this.buckets[b] = s + 1;
    }
  }
}

/** Four address bytes at `o` as the word key() and the store's `addrW` hold (host byte order). */
function word(buf: Uint8Array, o: number): number {
  return LITTLE_ENDIAN
    ? buf[o] | (buf[o + 1] << 8) | (buf[o + 2] << 16) | (buf[o + 3] << 24)
    : (buf[o] << 24) | (buf[o + 1] << 16) | (buf[o + 2] << 8) | buf[o + 3];
}

function mix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h;
}

function same(a: Int32Array, ao: number, b: Int32Array, n: number): boolean {
  if (a[ao] !== b[0]) return false;
  for (let i = 1; i < n; i++) if (a[ao + i] !== b[i]) return false;
  return true;
}
