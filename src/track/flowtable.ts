import type { Segment } from '../decode/segment';
import { C, type ConnStore } from './store';

/**
 * The flow table: both directions of a 4-tuple lead to one slot. The hash is computed straight
 * from the address bytes and ports in the frame (symmetric in the two endpoints), and a bucket's
 * chain is compared byte by byte, so a lookup builds no key string and allocates nothing.
 */
export class FlowTable {
  private buckets: Int32Array;
  private mask: number;
  /** Set by find(): 0 when the segment comes from the client, 1 from the server. */
  dir = 0;

  constructor(private readonly store: ConnStore) {
    this.buckets = new Int32Array(0);
    this.mask = 0;
    this.resize(1024);
  }

  /** Symmetric hash of a segment's endpoints. */
  static hashSegment(seg: Segment): number {
    const n = seg.family === 4 ? 4 : 16;
    const a = hashEndpoint(seg.buf, seg.srcOff, n, seg.srcPort);
    const b = hashEndpoint(seg.buf, seg.dstOff, n, seg.dstPort);
    return mix((a + b) ^ Math.imul(a ^ b, 0x9e3779b1) ^ n);
  }

  /** The slot holding this segment's connection, or -1; sets `dir`. */
  find(seg: Segment, h: number): number {
    const st = this.store;
    const n = seg.family === 4 ? 4 : 16;
    let s = this.buckets[h & this.mask];
    while (s >= 0) {
      if (st.hash[s] === h && st.family[s] === seg.family) {
        const base = s * 32;
        if (
          st.cport[s] === seg.srcPort &&
          st.sport[s] === seg.dstPort &&
          same(st.addr, base, seg.buf, seg.srcOff, n) &&
          same(st.addr, base + 16, seg.buf, seg.dstOff, n)
        ) {
          this.dir = 0;
          return s;
        }
        if (
          st.sport[s] === seg.srcPort &&
          st.cport[s] === seg.dstPort &&
          same(st.addr, base + 16, seg.buf, seg.srcOff, n) &&
          same(st.addr, base, seg.buf, seg.dstOff, n)
        ) {
          this.dir = 1;
          return s;
        }
      }
      s = st.chain[s];
    }
    return -1;
  }

  insert(s: number, h: number): void {
    const st = this.store;
    if (st.used * 2 > this.buckets.length) this.resize(this.buckets.length * 2);
    st.hash[s] = h;
    const b = h & this.mask;
    st.chain[s] = this.buckets[b];
    this.buckets[b] = s;
    st.cflags[s] |= C.IN_TABLE;
  }

  remove(s: number): void {
    const st = this.store;
    if ((st.cflags[s] & C.IN_TABLE) === 0) return;
    st.cflags[s] &= ~C.IN_TABLE;
    const b = st.hash[s] & this.mask;
    let p = this.buckets[b];
    if (p === s) {
      this.buckets[b] = st.chain[s];
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
    const old = this.buckets;
    this.buckets = new Int32Array(size).fill(-1);
    this.mask = size - 1;
    // Re-thread every chain: collect the slots first, since chains are rebuilt in place.
    const slots: number[] = [];
    for (let i = 0; i < old.length; i++) {
      for (let s = old[i]; s >= 0; s = st.chain[s]) slots.push(s);
    }
    for (const s of slots) {
      const b = st.hash[s] & this.mask;
      st.chain[s] = this.buckets[b];
      this.buckets[b] = s;
    }
  }
}

function hashEndpoint(buf: Uint8Array, off: number, n: number, port: number): number {
  let h = 0x811c9dc5 ^ port;
  for (let i = 0; i < n; i += 4) {
    const w = (buf[off + i] << 24) | (buf[off + i + 1] << 16) | (buf[off + i + 2] << 8) | buf[off + i + 3];
    h = Math.imul(h ^ w, 0x01000193);
    h ^= h >>> 15;
  }
  return mix(h);
}

function mix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h;
}

function same(a: Uint8Array, ao: number, b: Uint8Array, bo: number, n: number): boolean {
  for (let i = 0; i < n; i++) if (a[ao + i] !== b[bo + i]) return false;
  return true;
}
