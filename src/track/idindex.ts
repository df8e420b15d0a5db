/**
 * Connection id → slot, open addressing with linear probing in typed arrays (ids start at 1; 0
 * marks an empty cell). Cheaper per entry than a Map and invisible to the garbage collector.
 */
export class IdIndex {
  private keys = new Float64Array(1024);
  private vals = new Int32Array(1024);
  private n = 0;

  get(id: number): number {
    const keys = this.keys;
    const mask = keys.length - 1;
    for (let i = hash(id) & mask; ; i = (i + 1) & mask) {
      const k = keys[i];
      if (k === id) return this.vals[i];
      if (k === 0) return -1;
    }
  }

  set(id: number, slot: number): void {
    if ((this.n + 1) * 2 > this.keys.length) this.rehash(this.keys.length * 2);
    const keys = this.keys;
    const mask = keys.length - 1;
    let i = hash(id) & mask;
    while (keys[i] !== 0 && keys[i] !== id) i = (i + 1) & mask;
    if (keys[i] === 0) this.n++;
    keys[i] = id;
    this.vals[i] = slot;
  }

  delete(id: number): void {
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

  byteSize(): number {
    return this.keys.byteLength + this.vals.byteLength;
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
