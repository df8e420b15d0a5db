import { C, type ConnStore } from './store';
import { TCP_STATES } from './states';
import { Matcher, PageHeap, type Selected, type Selection } from './select';

/** Lists of endpoints by state (one per TCP state), by port (one per port number) and by address key. */
const STATE_LISTS = TCP_STATES.length;
const HOST_CELL = 4;

/**
 * Indexes for list queries that name a state, a port or a host: every endpoint (slot * 2 + side) is
 * in one list for its state, one for its port and one for its address key (store.ts addressKey),
 * each an intrusive doubly linked list in typed arrays, so keeping them costs a few stores when a
 * connection is created, changes state or leaves, and nothing is allocated per connection. A
 * query walks the shortest list among the filters it gives and checks every filter on each
 * connection there (select.ts's Matcher), so its cost is the size of that list, not of the table.
 * Lists are unordered; the page (the smallest ids above the cursor) comes from a bounded heap.
 *
 * The tracker keeps one only once something serves queries (Queries.enableQueryIndex, queries.ts), so a
 * run that only writes records pays nothing for it. Links hold endpoint + 1 (0: none), so arrays
 * come ready as allocated.
 */
export class QueryIndex {
  private next = new Int32Array(0); // [list kind * cap2 + endpoint], kinds: 0 state, 1 port, 2 host
  private prev = new Int32Array(0);
  private cap2 = 0; // endpoints the link arrays hold
  // head and tail of each list, side by side
  private readonly stateEnds = new Int32Array(2 * STATE_LISTS);
  private readonly portEnds = new Int32Array(2 * 65536);
  /**
   * Address key → its list, in cells of HOST_CELL: key, head, tail, length (open addressing, linear
   * probing). A cell is in use while its list is not empty (head ≠ 0); one cell is one cache line's
   * worth, where four parallel arrays cost four misses a connection.
   */
  private cells = new Int32Array(1024 * HOST_CELL);
  private cellCount = 1024;
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
    let cells = this.cellCount;
    while (cells < 2 * maxConnections + 2) cells *= 2;
    if (cells > this.cellCount) this.rehash(cells);
  }

  /** Adds connection s (its states, ports and addresses set). */
  add(s: number): void {
    const st = this.st;
    if (2 * s + 2 > this.cap2) this.grow(Math.max(2 * s + 2, 2 * st.cap));
    for (let side = 0; side < 2; side++) {
      const x = 2 * s + side;
      this.link(0, this.stateEnds, 2 * st.st[x], x);
      this.link(1, this.portEnds, 2 * (side === 0 ? st.cport[s] : st.sport[s]), x);
      this.hostLink(x);
    }
  }

  /** Connection s leaves the table (call before its slot is cleared). */
  remove(s: number): void {
    const st = this.st;
    for (let side = 0; side < 2; side++) {
      const x = 2 * s + side;
      this.unlink(0, this.stateEnds, 2 * st.st[x], x);
      this.unlink(1, this.portEnds, 2 * (side === 0 ? st.cport[s] : st.sport[s]), x);
      this.hostUnlink(x);
    }
  }

  /** Endpoint x goes from state `from` to `to`. */
  move(x: number, from: number, to: number): void {
    this.unlink(0, this.stateEnds, 2 * from, x);
    this.link(0, this.stateEnds, 2 * to, x);
  }

  /**
   * The page and total of q, or null when q names no state, port or host, or every list it could
   * walk is longer than `scanAbove` (a scan of the columns is quicker then).
   */
  select(q: Selection, counts: { state: number; port: number }, scanAbove: number): Selected | null {
    const st = this.st;
    const m = new Matcher(q);
    if (m.hostFamily === 0 && q.host !== null) return { slots: [], total: 0, more: false }; // not an address: nothing matches
    const { kind, head, best } = this.shortestList(q, m, counts);
    if (kind < 0 || best > scanAbove) return null;
    const heap = new PageHeap(q.limit, q.afterId);
    const next = this.next;
    const base = kind * this.cap2;
    // the filters inline, over local columns (this loop may walk hundreds of thousands)
    const stv = st.st;
    const cport = st.cport;
    const sport = st.sport;
    const akey = st.akey;
    const cflags = st.cflags;
    const family = st.family;
    const idNum = st.idNum;
    const wantStatus = m.wantStatus;
    const state = m.state;
    const port = m.port;
    const fam = m.hostFamily;
    const hk = m.hostKey;
    for (let e = head; e !== 0; e = next[base + e - 1]) {
      const x = e - 1;
      const s = x >> 1;
      const c = x & ~1;
      // a connection with both endpoints in this list is taken at its client's
      if (x !== c) {
        const both = kind === 0 ? stv[c] === stv[x] : kind === 1 ? cport[s] === sport[s] : akey[c] === akey[x];
        if (both) continue;
      }
      if (wantStatus >= 0 && (cflags[s] & C.CLOSED) !== wantStatus) continue;
      if (state >= 0 && stv[c] !== state && stv[c + 1] !== state) continue;
      if (port >= 0 && cport[s] !== port && sport[s] !== port) continue;
      if (fam !== 0) {
        if (akey[c] !== hk && akey[c + 1] !== hk) continue;
        if (family[s] !== fam) continue;
        // an IPv4 address is its own key, so a key and the family are the whole comparison
        if (fam === 6 && !m.matches(st, s)) continue;
      }
      heap.push(idNum[s], s);
    }
    return heap.result();
  }

  /** The shortest of the lists q could walk: by state (kind 0), port (1) or host (2); kind -1 for none. */
  private shortestList(q: Selection, m: Matcher, counts: { state: number; port: number }): { kind: number; head: number; best: number } {
    let kind = -1;
    let head = 0;
    let best = Infinity;
    if (q.state !== null && counts.state < best) {
      kind = 0;
      best = counts.state;
      head = this.stateEnds[2 * TCP_STATES.indexOf(q.state)];
    }
    if (q.port !== null && counts.port < best) {
      kind = 1;
      best = counts.port;
      head = this.portEnds[2 * q.port];
    }
    if (m.hostFamily !== 0) {
      const c = this.hostCell(m.hostKey) * HOST_CELL;
      const len = this.cells[c + 3];
      if (len < best) {
        kind = 2;
        best = len;
        head = this.cells[c + 1];
      }
    }
    return { kind, head, best };
  }

  byteSize(): number {
    return this.next.byteLength + this.prev.byteLength + this.stateEnds.byteLength + this.portEnds.byteLength +
      this.cells.byteLength;
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

  /**
   * Appends endpoint x to a list of a kind, whose head and tail are ends[at] and ends[at + 1].
   * Appending keeps the port and address lists in creation order (those never change for a
   * connection), and the state lists in the order of the changes, which is close to it: the page's
   * heap then turns most later matches away with one comparison.
   */
  private link(kind: number, ends: Int32Array, at: number, x: number): void {
    const base = kind * this.cap2;
    const t = ends[at + 1];
    this.prev[base + x] = t;
    this.next[base + x] = 0;
    if (t !== 0) this.next[base + t - 1] = x + 1;
    else ends[at] = x + 1;
    ends[at + 1] = x + 1;
  }

  private unlink(kind: number, ends: Int32Array, at: number, x: number): void {
    const base = kind * this.cap2;
    const n = this.next[base + x];
    const p = this.prev[base + x];
    if (p !== 0) this.next[base + p - 1] = n;
    else ends[at] = n;
    if (n !== 0) this.prev[base + n - 1] = p;
    else ends[at + 1] = p;
    this.next[base + x] = 0;
    this.prev[base + x] = 0;
  }

  private hostLink(x: number): void {
    if ((this.hUsed + 1) * 2 > this.cellCount) this.rehash(this.cellCount * 2);
    const key = this.st.akey[x];
    const c = this.hostCell(key) * HOST_CELL;
    const cells = this.cells;
    if (cells[c + 1] === 0) {
      cells[c] = key;
      cells[c + 3] = 0;
      this.hUsed++;
    }
    this.link(2, cells, c + 1, x);
    // a connection counts once in its host's length, at its client's endpoint when both share the key
    if ((x & 1) === 0 || this.st.akey[x - 1] !== key) cells[c + 3]++;
  }

  private hostUnlink(x: number): void {
    const key = this.st.akey[x];
    const i = this.hostCell(key);
    const c = i * HOST_CELL;
    const cells = this.cells;
    if (cells[c + 1] === 0) return;
    this.unlink(2, cells, c + 1, x);
    if ((x & 1) === 0 || this.st.akey[x - 1] !== key) cells[c + 3]--;
    if (cells[c + 1] === 0) this.deleteCell(i);
  }

  /** The cell holding `key`, or the empty cell where it would go. */
  private hostCell(key: number): number {
    const mask = this.cellCount - 1;
    const cells = this.cells;
    for (let i = mix(key) & mask; ; i = (i + 1) & mask) {
      if (cells[i * HOST_CELL + 1] === 0 || cells[i * HOST_CELL] === key) return i;
    }
  }

  private deleteCell(i: number): void {
    const mask = this.cellCount - 1;
    const cells = this.cells;
    // backward-shift deletion keeps every probe chain unbroken
    let j = i;
    for (;;) {
      j = (j + 1) & mask;
      if (cells[j * HOST_CELL + 1] === 0) break;
      const home = mix(cells[j * HOST_CELL]) & mask;
      const between = i <= j ? i < home && home <= j : i < home || home <= j;
      if (between) continue;
      cells.copyWithin(i * HOST_CELL, j * HOST_CELL, j * HOST_CELL + HOST_CELL);
      i = j;
    }
    cells.fill(0, i * HOST_CELL, i * HOST_CELL + HOST_CELL);
    this.hUsed--;
  }

  private rehash(count: number): void {
    const old = this.cells;
    const oldCount = this.cellCount;
    this.cells = new Int32Array(count * HOST_CELL);
    this.cellCount = count;
    for (let i = 0; i < oldCount; i++) {
      const o = i * HOST_CELL;
      if (old[o + 1] === 0) continue;
      this.cells.set(old.subarray(o, o + HOST_CELL), this.hostCell(old[o]) * HOST_CELL);
    }
  }
}

function mix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  return h;
}
