import type { ConnectionView, EndpointNotes } from './connection';
import type { ConnectionDetailView } from './detail';
import type { Conns } from './conns';
import { QueryIndex } from './queryindex';
import { ConnRecord, type ConnectionSource, type ConnFields } from './record';
import { selectSlots, type RecordPage, type Selected, type Selection } from './select';
import { TCP_STATES } from './states';
import { C, CLOSE_KINDS } from './store';
import type { RecordFilter } from './api';

const K_REFUSED = CLOSE_KINDS.indexOf('refused');

/**
 * Slots sized up front for a server (enableQueryIndex) at most: some 350 bytes of address space
 * each in the store; a table allowed more grows past it as before.
 */
const RESERVE_MAX = 1 << 21;

/** Recent pairs of endpoint notes, looked up by identity (a few: the shared notes of a busy server's connections). */
const PAIRS = 16;
const pairs: [EndpointNotes | null, EndpointNotes | null][] = [];
let nextPair = 0;

/**
 * The notes of a connection's two endpoints as one pair, shared by the connections whose
 * endpoints carry the same two note objects: a busy server's connections, named through their
 * listener on one side and gone on the other, hold a few pairs between them instead of an array
 * each, kept as long as the connection. A pair is never altered (a changed side is another pair).
 */
function notePair(a: EndpointNotes | null, b: EndpointNotes | null): [EndpointNotes | null, EndpointNotes | null] {
  for (let i = 0; i < pairs.length; i++) {
    const p = pairs[i];
    if (p[0] === a && p[1] === b) return p;
  }
  const p: [EndpointNotes | null, EndpointNotes | null] = [a, b];
  pairs[nextPair] = p;
  nextPair = (nextPair + 1) % PAIRS;
  return p;
}

/**
 * What the API reads of the table: one connection, a page of a list query, a snapshot; and what
 * it adds from outside the packets (notes on endpoints, holes in the capture). Views are built
 * here, on demand, never on the packet path.
 */
export class Queries {
  private walkUpTo = 0.5;
  /** The cursor selectRecords' pages read the store through (one: a page is read before the next is asked for). */
  private record: ConnRecord | null = null;

  constructor(
    private readonly c: Conns,
    private readonly maxConnections: number,
  ) {}

  /**
   * Adds what is known of an endpoint from outside the packets (its owner, the kernel's state),
   * merged over earlier notes; it appears on the endpoint in every view. false if id is not tracked.
   * The stored note and the objects inside it (an owner and its alsoHeldBy, a kernel reading) are
   * frozen, as writers keep their text by object (server/json.ts): the note is `fields` itself when
   * the side had none, else a new object; an inner object is frozen in place (so one owner given
   * for many connections stays one object), the caller handing it over with the note.
   */
  annotate(id: string, side: 'client' | 'server', fields: Readonly<EndpointNotes>): boolean {
    const s = this.c.slotOf(id);
    if (s < 0) return false;
    const n = this.c.st.idNum[s];
    const e = this.c.notes.get(n);
    const was = side === 'client' ? (e?.[0] ?? null) : (e?.[1] ?? null);
    // a side with no note yet takes the given object as it is (notes are never altered)
    const note = Object.freeze(was === null ? frozenInside(fields) : { ...was, ...frozenInside(fields) });
    this.c.notes.set(n, side === 'client' ? notePair(note, e?.[1] ?? null) : notePair(e?.[0] ?? null, note));
    return true;
  }

  // ------------------------------------------------------------------ queries

  get(id: string): ConnectionView | undefined {
    const s = this.c.slotOf(id);
    return s < 0 ? undefined : this.c.views.connection(s);
  }

  detail(id: string): ConnectionDetailView | undefined {
    const s = this.c.slotOf(id);
    return s < 0 ? undefined : this.c.views.detail(s);
  }

  /**
   * Flags every open connection as having lived through a hole in the capture (the capture process
   * died or fell behind): some of its packets may be missing. Returns how many were flagged.
   */
  markCaptureGap(): number {
    const st = this.c.st;
    let n = 0;
    for (let s = this.c.oldest; s >= 0; s = st.cnext[s]) {
      if ((st.cflags[s] & C.CLOSED) !== 0) continue;
      st.cflags[s] |= C.CAPTURE_GAP;
      n++;
    }
    return n;
  }

  list(): ConnectionView[] {
    const out: ConnectionView[] = [];
    for (let s = this.c.oldest; s >= 0; s = this.c.st.cnext[s]) out.push(this.c.views.connection(s));
    return out;
  }

  /** Connection number `id`'s fields from the store, no view built; false if it is not tracked. */
  fields(id: number, into: ConnFields): boolean {
    if (!Number.isInteger(id) || id <= 0) return false;
    const s = this.c.ids.get(id);
    if (s < 0) return false;
    this.cursor().at(s).fill(into);
    return true;
  }

  /** Every connection, oldest first, through the cursor (list() without the views). */
  eachRecord(visit: (c: ConnectionSource) => void): void {
    const st = this.c.st;
    const rec = this.cursor();
    for (let s = this.c.oldest; s >= 0; s = st.cnext[s]) visit(rec.at(s));
  }

  /** eachRecord for the connections `only` lets through, told apart by their states, close kind and SYN retransmits alone. */
  eachRecordOf(only: RecordFilter, visit: (c: ConnectionSource) => void): void {
    const st = this.c.st;
    const rec = this.cursor();
    const m0 = only.clientStates;
    const m1 = only.serverStates;
    for (let s = this.c.oldest; s >= 0; s = st.cnext[s]) {
      if (
        ((1 << st.st[2 * s]) & m0) !== 0 ||
        ((1 << st.st[2 * s + 1]) & m1) !== 0 ||
        (only.refused && (st.cflags[s] & C.KIND_MASK) >>> C.KIND_SHIFT === K_REFUSED) ||
        (only.synRetransmits && st.synRetx[s] > 0)
      )
        visit(rec.at(s));
    }
  }

  /** The one cursor over the store that pages and readers of fields go through (each read before the next is asked for). */
  private cursor(): ConnRecord {
    return (this.record ??= new ConnRecord(this.c.st, this.c.hist, this.c.notes));
  }

  /**
   * Keeps lists by state, port and host from now on (built from the table as it is), so that list
   * queries naming one of them cost the length of the shortest such list instead of a scan of the
   * table. A server turns it on; a run that only writes records never pays for it. A list walk
   * reads each connection at a random place where a scan reads the columns in order, so a query
   * whose shortest list holds more than `walkUpTo` of the table is scanned instead. The store and
   * the tables are sized for `maxConnections` here, so that none of them grows while serving (the
   * largest growth step held the loop for 120 ms at a million connections).
   */
  enableQueryIndex(walkUpTo = 0.5): void {
    this.walkUpTo = walkUpTo;
    if (this.c.index !== null) return;
    const max = Math.min(RESERVE_MAX, Math.max(1, Math.floor(this.maxConnections)));
    this.c.st.reserve(max);
    this.c.flows.reserve(max);
    this.c.ids.reserve(max);
    const index = new QueryIndex(this.c.st, max);
    for (let s = this.c.oldest; s >= 0; s = this.c.st.cnext[s]) index.add(s);
    this.c.index = index;
  }

  /** One page of the connections a list query matches, in creation order, with how many match in all. */
  select(q: Selection): { connections: ConnectionView[]; total: number; more: boolean } {
    const r = this.page(q);
    return { connections: r.slots.map((s) => this.c.views.connection(s)), total: r.total, more: r.more };
  }

  /**
   * The page select() gives, read from the store through a cursor instead of views: a list page of
   * a thousand connections a second built a thousand views (and their addresses' text) for the
   * writer to read once and drop, nearly half of what a live server allocated.
   */
  selectRecords(q: Selection): RecordPage {
    const r = this.page(q);
    const slots = r.slots;
    const st = this.c.st;
    const rec = this.cursor();
    return {
      length: slots.length,
      at: (i) => rec.at(slots[i]),
      lastId: slots.length > 0 ? st.idNum[slots[slots.length - 1]] : -1,
      total: r.total,
      more: r.more,
    };
  }

  private page(q: Selection): Selected {
    return this.walkPage(q) ?? this.fromIndex(q) ?? selectSlots(this.c.st, q);
  }

  /**
   * Queries whose total the counters know — on status alone (the dashboard's, and most paging), or
   * on one state or one port over all connections: the page by walking the creation order from the
   * cursor, so the cost is the page's, not the table's. null when no counter gives the total, the
   * cursor's connection is gone, or matches are too sparse for a short walk; the scan answers those.
   */
  private walkPage(q: Selection): Selected | null {
    const st = this.c.st;
    const c = this.c.counters;
    if (q.host !== null || (q.status !== 'all' && (q.state !== null || q.port !== null)) || (q.state !== null && q.port !== null)) return null;
    const state = q.state === null ? -1 : TCP_STATES.indexOf(q.state);
    const port = q.port === null ? -1 : q.port;
    const want = q.status === 'all' ? -1 : q.status === 'closed' ? C.CLOSED : 0;
    const total =
      state >= 0 ? c.eitherIn(state)
      : port >= 0 ? c.byPort[port]
      : want < 0 ? st.used : want === C.CLOSED ? c.closed : c.open;
    const slots: number[] = [];
    if (total === 0) return { slots, total, more: false };
    let s = this.c.oldest;
    if (q.afterId > 0) {
      const at = this.c.ids.get(q.afterId);
      if (at < 0) return null;
      s = st.cnext[at];
    }
    const limit = Math.max(1, q.limit);
    let budget = 8 * limit + 8192;
    for (; s >= 0; s = st.cnext[s]) {
      if (--budget < 0) return null;
      if (want >= 0 && (st.cflags[s] & C.CLOSED) !== want) continue;
      if (state >= 0 && st.st[2 * s] !== state && st.st[2 * s + 1] !== state) continue;
      if (port >= 0 && st.cport[s] !== port && st.sport[s] !== port) continue;
      if (slots.length === limit) return { slots, total, more: true };
      slots.push(s);
    }
    return { slots, total, more: false };
  }

  /** The query from the shortest of its lists in the index, unless they are all long enough that a scan is quicker. */
  private fromIndex(q: Selection): Selected | null {
    if (this.c.index === null || (q.state === null && q.port === null && q.host === null)) return null;
    const c = this.c.counters;
    const state = q.state === null ? -1 : TCP_STATES.indexOf(q.state);
    const counts = {
      state: state < 0 ? Infinity : c.eitherIn(state),
      port: q.port === null ? Infinity : c.byPort[q.port],
    };
    return this.c.index.select(q, counts, this.c.st.used * this.walkUpTo);
  }

  /**
   * At most `limit` connections matching `keep` (null: all), the open ones first and then the
   * newest, in creation order; `total` is how many match. Without a filter only the chosen get a
   * view, so a snapshot of a big table costs a walk over its flags, not a view of everything.
   */
  snapshot(limit: number, keep: ((c: ConnectionView) => boolean) | null = null): { connections: ConnectionView[]; total: number } {
    const st = this.c.st;
    const open: number[] = [];
    const closed: number[] = [];
    let total = 0;
    for (let s = this.c.newest; s >= 0; s = st.cprev[s]) {
      if (keep !== null && !keep(this.c.views.connection(s))) continue;
      total++;
      if ((st.cflags[s] & C.CLOSED) === 0) {
        if (open.length < limit) open.push(s);
      } else if (closed.length < limit) closed.push(s);
    }
    const chosen = open.concat(closed.slice(0, Math.max(0, limit - open.length)));
    chosen.sort((a, b) => st.idNum[a] - st.idNum[b]);
    return { connections: chosen.map((s) => this.c.views.connection(s)), total };
  }
}

/** A note's inner objects frozen (an owner's alsoHeldBy with it); the note itself as given. */
function frozenInside(fields: Readonly<EndpointNotes>): Readonly<EndpointNotes> {
  const p = fields.process;
  if (p && !Object.isFrozen(p)) {
    if (p.alsoHeldBy) Object.freeze(p.alsoHeldBy);
    Object.freeze(p);
  }
  if (fields.kernel && !Object.isFrozen(fields.kernel)) Object.freeze(fields.kernel);
  return fields;
}
