import type { ConnStore } from './store';
import { TCP_STATES } from './states';
import { Matcher, PageHeap, type Selected, type Selection } from './select';

/** Lists of endpoints by state (one per TCP state), by port (one per port number) and by address key. */
const STATE_LISTS = TCP_STATES.length;

/**
 * Indexes for list queries that name a state, a port or a host: every endpoint (slot * 2 + side) is
 * in one list for its state, one for its port and one for its address key (store.ts addressKey),
 * each an intrusive doubly linked list in typed arrays, so keeping them costs a few stores when a
 * connection is created, changes state or leaves, and nothing is allocated per connection. A
 * query walks the shortest list among the filters it gives and checks every filter on each
 * connection there (select.ts's Matcher), so its cost is the size of that list, not of the table.
 * Lists are unordered; the page (the smallest ids above the cursor) comes from a bounded heap.
 *
 * The tracker keeps one only once something serves queries (TrackerCore.enableQueryIndex), so a
 * run that only writes records pays nothing for it. Links hold endpoint + 1 (0: none), so arrays
 * come ready as allocated.
 */
export class QueryIndex {
  private next = new Int32Array(0); // [list kind * cap2 + endpoint], kinds: 0 state, 1 port, 2 host
  private prev = new Int32Array(0);
  private cap2 = 0; // endpoints the link arrays hold
  private readonly stateHead = new Int32Array(STATE_LISTS);
  private readonly portHead = new Int32Array(65536);
  // address key → head of its list and its length (open addressing, linear probing, 0 = empty cell)
  private hKeys = new Int32Array(1024);
  private hHead = new Int32Array(1024);
  private hLen = new Int32Array(1024);
  private hUsed = 0;

  /**
   * Sized for `maxConnections` at once (the links for every slot, the address table for as many
   * addresses), so that growing never holds a server's loop; pages are touched only as used.
   */
  constructor(
    private readonly st: ConnStore,
    maxConnections: number,
  ) {
    this.grow(2 * maxConnections);
    let cells = this.hKeys.length;
    while (cells < 2 * maxConnections + 2) cells *= 2;
    if (cells > this.hKeys.length) this.rehash(cells);
  }

  /** Adds connection s (its states, ports and addresses set). */
  add(s: number): void {
    const st = this.st;
    if (2 * s + 2 > this.cap2) this.grow(Math.max(2 * s + 2, 2 * st.cap));
    for (let side = 0; side < 2; side++) {
      const x = 2 * s + side;
      this.link(0, this.stateHead, st.st[x], x);
      this.link(1, this.portHead, side === 0 ? st.cport[s] : st.sport[s], x);
      this.hostLink(x);
    }
  }

  /** Connection s leaves the table (call before its slot is cleared). */
  remove(s: number): void {
    const st = this.st;
    for (let side = 0; side < 2; side++) {
      const x = 2 * s + side;
      this.unlink(0, this.stateHead, st.st[x], x);
      this.unlink(1, this.portHead, side === 0 ? st.cport[s] : st.sport[s], x);
      this.hostUnlink(x);
    }
  }

  /** Endpoint x goes from state `from` to `to`. */
  move(x: number, from: number, to: number): void {
    this.unlink(0, this.stateHead, from, x);
    this.link(0, this.stateHead, to, x);
  }

  /**
   * The page and total of q, or null when q names no state, port or host, or every list it could
   * walk is longer than `scanAbove` (a scan of the columns is quicker then).
   */
  select(q: Selection, counts: { state: number; port: number }, scanAbove: number): Selected | null {
    const st = this.st;
    let kind = -1;
    let head = 0;
    let best = Infinity;
    if (q.state !== null && counts.state < best) {
      kind = 0;
      best = counts.state;
      head = this.stateHead[TCP_STATES.indexOf(q.state)];
    }
    if (q.port !== null && counts.port < best) {
      kind = 1;
      best = counts.port;
      head = this.portHead[q.port];
    }
    const m = new Matcher(q);
    if (m.hostFamily !== 0) {
      const i = this.hostCell(m.hostKey);
      const len = this.hKeys[i] === 0 ? 0 : this.hLen[i];
      if (len < best) {
        kind = 2;
        best = len;
        head = this.hKeys[i] === 0 ? 0 : this.hHead[i];
      }
    } else if (q.host !== null) {
      return { slots: [], total: 0, more: false }; // not an address: nothing matches
    }
    if (kind < 0 || best > scanAbove) return null;
    const heap = new PageHeap(q.limit, q.afterId);
    const next = this.next;
    const base = kind * this.cap2;
    const stv = st.st;
    const cport = st.cport;
    const sport = st.sport;
    const akey = st.akey;
    for (let e = head; e !== 0; e = next[base + e - 1]) {
      const x = e - 1;
      const s = x >> 1;
      // a connection with both endpoints in this list is taken at its client's
      if ((x & 1) === 1) {
        const both = kind === 0 ? stv[x - 1] === stv[x] : kind === 1 ? cport[s] === sport[s] : akey[x - 1] === akey[x];
        if (both) continue;
      }
      if (m.matches(st, s)) heap.push(st.idNum[s], s);
    }
    return heap.result();
  }

  byteSize(): number {
    return this.next.byteLength + this.prev.byteLength + this.stateHead.byteLength + this.portHead.byteLength +
      this.hKeys.byteLength + this.hHead.byteLength + this.hLen.byteLength;
  }

  private grow(cap2: number): void {
    const next = new Int32Array(3 * cap2);
    const prev = new Int32Array(3 * cap2);
    for (let k = 0; k < 3; k++) {
      next.set(this.next.subarray(k * this.cap2, (k + 1) * this.cap2), k * cap2);
      prev.set(this.prev.subarray(k * this.cap2, (k + 1) * this.cap2), k * cap2);
    }
    // links name endpoints, not positions, so they stay valid
    this.next = next;
    this.prev = prev;
    this.cap2 = cap2;
  }

  private link(kind: number, heads: Int32Array, key: number, x: number): void {
    const base = kind * this.cap2;
    const h = heads[key];
    this.next[base + x] = h;
    this.prev[base + x] = 0;
    if (h !== 0) this.prev[base + h - 1] = x + 1;
    heads[key] = x + 1;
  }

  private unlink(kind: number, heads: Int32Array, key: number, x: number): void {
    const base = kind * this.cap2;
    const n = this.next[base + x];
    const p = this.prev[base + x];
    if (p !== 0) this.next[base + p - 1] = n;
    else heads[key] = n;
    if (n !== 0) this.prev[base + n - 1] = p;
    this.next[base + x] = 0;
    this.prev[base + x] = 0;
  }

  private hostLink(x: number): void {
    if ((this.hUsed + 1) * 2 > this.hKeys.length) this.rehash(this.hKeys.length * 2);
    const key = this.st.akey[x];
    const i = this.hostCell(key);
    if (this.hKeys[i] === 0) {
      this.hKeys[i] = 1;
      this.hHead[i] = 0;
      this.hLen[i] = 0;
      this.hUsed++;
      this.cellKey[i] = key;
    }
    const base = 2 * this.cap2;
    const h = this.hHead[i];
    this.next[base + x] = h;
    this.prev[base + x] = 0;
    if (h !== 0) this.prev[base + h - 1] = x + 1;
    this.hHead[i] = x + 1;
    // a connection counts once in its host's length, at its client's endpoint when both share the key
    if ((x & 1) === 0 || this.st.akey[x - 1] !== key) this.hLen[i]++;
  }

  private hostUnlink(x: number): void {
    const key = this.st.akey[x];
    const i = this.hostCell(key);
    if (this.hKeys[i] === 0) return;
    const base = 2 * this.cap2;
    const n = this.next[base + x];
    const p = this.prev[base + x];
    if (p !== 0) this.next[base + p - 1] = n;
    else this.hHead[i] = n;
    if (n !== 0) this.prev[base + n - 1] = p;
    this.next[base + x] = 0;
    this.prev[base + x] = 0;
    if ((x & 1) === 0 || this.st.akey[x - 1] !== key) this.hLen[i]--;
    if (this.hHead[i] === 0) this.deleteCell(i);
  }

  /** The address key of each occupied cell (hKeys only marks occupancy, as 0 is a valid key). */
  private cellKey = new Int32Array(1024);

  /** The cell holding `key`, or the empty cell where it would go. */
  private hostCell(key: number): number {
    const mask = this.hKeys.length - 1;
    for (let i = mix(key) & mask; ; i = (i + 1) & mask) {
      if (this.hKeys[i] === 0 || this.cellKey[i] === key) return i;
    }
  }

  private deleteCell(i: number): void {
    const mask = this.hKeys.length - 1;
    // backward-shift deletion keeps every probe chain unbroken
    let j = i;
    for (;;) {
      j = (j + 1) & mask;
      if (this.hKeys[j] === 0) break;
      const home = mix(this.cellKey[j]) & mask;
      const between = i <= j ? i < home && home <= j : i < home || home <= j;
      if (between) continue;
      this.hKeys[i] = this.hKeys[j];
      this.cellKey[i] = this.cellKey[j];
      this.hHead[i] = this.hHead[j];
      this.hLen[i] = this.hLen[j];
      i = j;
    }
    this.hKeys[i] = 0;
    this.hUsed--;
  }

  private rehash(size: number): void {
    const keys = this.hKeys;
    const ck = this.cellKey;
    const heads = this.hHead;
    const lens = this.hLen;
    this.hKeys = new Int32Array(size);
    this.cellKey = new Int32Array(size);
    this.hHead = new Int32Array(size);
    this.hLen = new Int32Array(size);
    for (let i = 0; i < keys.length; i++) {
      if (keys[i] === 0) continue;
      const j = this.hostCell(ck[i]);
      this.hKeys[j] = 1;
      this.cellKey[j] = ck[i];
      this.hHead[j] = heads[i];
      this.hLen[j] = lens[i];
    }
  }
}

function mix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  return h;
}
