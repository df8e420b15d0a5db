/**
 * Connection id → slot. Ids are handed out one after another (add() takes each in turn), so the
 * newest RING ids sit in a ring indexed by the id itself: adding one is a single store next to the
 * last, where a hash table took a cache miss at a random cell for every new connection, and a
 * rehash now and then. Ids that live on while RING newer ones are added move, when the ring comes
 * round to them, into a hash table (open addressing with linear probing; ids start at 1, 0 marks
 * an empty cell). Both are typed arrays: cheaper per entry than a Map, invisible to the collector.
 */
const enum RING { SIZE = 1 << 17, MASK = SIZE - 1 }

export class IdIndex {
  /** slot + 1 of the id at each position (0: none, or dropped). */
  private readonly ring = new Int32Array(RING.SIZE);
  /** The newest id added. */
  private newest = 0;
  private keys = new Float64Array(1024);
  private vals = new Int32Array(1024);
  private n = 0;

  /** Records a new id: the one after the id added last (the first may be any). */
  add(id: number, slot: number): void {
    const i = id & RING.MASK;
    const old = this.ring[i];
    // the id this one displaces (RING.SIZE before it) is still tracked: it moves to the hash table
    if (old !== 0) this.set(id - RING.SIZE, old - 1);
    this.ring[i] = slot + 1;
    this.newest = id;
  }

  get(id: number): number {
    if (this.inRing(id)) return this.ring[id & RING.MASK] - 1;
    const keys = this.keys;
    const mask = keys.length - 1;
    for (let i = hash(id) & mask; ; i = (i + 1) & mask) {
      const k = keys[i];
      if (k === 0) return -1;
      if (k === id) return this.vals[i];
    }
  }

  delete(id: number): void {
    if (this.inRing(id)) {
      this.ring[id & RING.MASK] = 0;
      return;
    }
    const keys = this.keys;
    const mask = keys.length - 1;
    let i = hash(id) & mask;
    while (keys[i] !== id) {
      if (keys[i] === 0) return;
      i = (i + 1) & mask;
    }
    // backward-shift deletion keeps every probe chain unbroken
    let j = i;
    for (;;) {
      j = (j + 1) & mask;
      if (keys[j] === 0) break;
      const home = hash(keys[j]) & mask;
      const between = i <= j ? i < home && home <= j : i < home || home <= j;
      if (between) continue;
      keys[i] = keys[j];
      this.vals[i] = this.vals[j];
      i = j;
    }
    keys[i] = 0;
    this.n--;
  }

  /** One of the newest RING ids (ids are positive). */
  private inRing(id: number): boolean {
    return id <= this.newest && id > this.newest - RING.SIZE && id > 0;
  }

  /** Sizes the hash table for `n` ids now, so that adding them never rehashes. */
  reserve(n: number): void {
    let size = this.keys.length;
    while (size < 2 * n + 2) size *= 2;
    if (size > this.keys.length) this.rehash(size);
  }

  byteSize(): number {
    return this.ring.byteLength + this.keys.byteLength + this.vals.byteLength;
  }

  private set(id: number, slot: number): void {
    if ((this.n + 1) * 2 > this.keys.length) this.rehash(this.keys.length * 2);
    const keys = this.keys;
    const mask = keys.length - 1;
    let i = hash(id) & mask;
    while (keys[i] !== 0 && keys[i] !== id) i = (i + 1) & mask;
    if (keys[i] === 0) this.n++;
    keys[i] = id;
    this.vals[i] = slot;
  }

  private rehash(size: number): void {
    const oldK = this.keys;
    const oldV = this.vals;
    this.keys = new Float64Array(size);
    this.vals = new Int32Array(size);
    this.n = 0;
    for (let i = 0; i < oldK.length; i++) if (oldK[i] !== 0) this.set(oldK[i], oldV[i]);
  }
}

function hash(id: number): number {
  let h = Math.imul(id | 0, 0x9e3779b1) ^ Math.imul((id / 4294967296) | 0, 0x85ebca6b);
  h ^= h >>> 15;
  return h;
}
