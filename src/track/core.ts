import type { EventSink } from './events';
import type { TrackerOptions, TrackerStats } from './api';
import type { ConnectionDetailView, ConnectionView, EndpointNotes } from './connection';
import { EV, EventLog, REF, evWord } from './eventlog';
import { FlowTable } from './flowtable';
import { History } from './history';
import { IdIndex } from './idindex';
import { Ladder, LADDER_BLOCK } from './ladder';
import { resolveOptions } from './options';
import { QueryIndex } from './queryindex';
import { selectSlots, type Selected, type Selection } from './select';
import { EventPool, SegPool } from './pools';
import { TrackerCounters } from './stats';
import { C, ConnStore, E, K } from './store';
import { TimerLists } from './timers';
import { TCP_STATES } from './states';
import { CL, ROLE, S, __, nextState } from './transitions';
import { Views } from './view';
import { ZeekMirror } from './zeek';

// const enums: the compiler writes their values in place, where an exported constant would be a
// property load on the packet path.
/** closedBy (C.BY_MASK) */
export const enum By { CLIENT = 1, SERVER = 2, BOTH = 3 }
/** closeKind (C.KIND_MASK) */
export const enum Kind { FIN = 1, RST = 2, TIMEOUT = 3, REFUSED = 4 }
/** teardown phases, indices into TD_PHASES */
export const enum TD { FIN = 0, CLOSED = 1 }
/** teardown kinds, indices into TD_KINDS */
export const enum TDK { FIN = 0, RST = 1, TIMEOUT = 2 }
/** handshake phases, indices into HS_PHASES */
export const enum HS { SYN = 0, SYNACK = 1, EST = 2 }
/** connection phases, indices into CONN_PHASES */
export const enum CONN { OPENED = 0, CLOSED = 1, EVICTED = 2 }
const NO_STATE_CHANGE = __;
/**
 * Slots sized up front for a server (enableQueryIndex) at most: some 350 bytes of address space
 * each in the store; a table allowed more grows past it as before.
 */
const RESERVE_MAX = 1 << 21;

/**
 * The tracker's storage and the primitives everything else is built from: changing an endpoint's
 * state (with its event and counters), keeping and emitting events, closing and forgetting a
 * connection, and the queries. The packet path is in tracker.ts, timers and eviction in expiry.ts.
 */
export abstract class TrackerCore {
  readonly options: TrackerOptions;
  protected readonly st: ConnStore;
  protected readonly flows: FlowTable;
  protected readonly ids = new IdIndex();
  protected readonly lists: TimerLists;
  protected readonly ladder: Ladder;
  protected readonly log: EventLog;
  protected readonly hist: History;
  protected readonly zeek: ZeekMirror;
  protected readonly views: Views;
  /** What was learned of endpoints from outside the packets (owners, the kernel's view), by id number. */
  protected readonly notes = new Map<number, [EndpointNotes | null, EndpointNotes | null]>();
  protected readonly sinks: EventSink[] = [];
  protected readonly removeSinks: ((c: ConnectionView) => void)[] = [];
  protected readonly timeoutByClass: Float64Array;
  /** The ladder's head length (segments kept from the start). */
  private readonly ladderHead: number;
  private readonly eventLog: boolean;

  protected nextId = 1;
  /** Oldest and newest tracked connection (the creation-order list through cprev/cnext). */
  protected oldest = -1;
  protected newest = -1;
  /** Slots (and their ids) with a FIN awaiting reception; expire() settles them. */
  protected pendSlots: number[] = [];
  protected pendIds: number[] = [];

  // the segment being processed
  protected now = 0;
  protected ord = 0;
  /** Some endpoint changed state while handling the current segment or timer. */
  protected changed = false;
  protected readonly counters = new TrackerCounters();
  /** Lists by state, port and host for list queries; kept only once something serves them. */
  protected index: QueryIndex | null = null;
  private walkUpTo = 0.5;

  constructor(opts?: Partial<TrackerOptions>) {
    this.options = resolveOptions(opts);
    const o = this.options;
    const maxConn = Math.max(1, Math.floor(o.maxConnections));
    this.st = new ConnStore(Math.min(1024, maxConn), maxConn);
    this.flows = new FlowTable(this.st);
    this.lists = new TimerLists(this.st);
    // at least one block, so every event can find its segment (the first ones always stay)
    const head = Math.max(1, Math.ceil(Math.max(0, o.ladderHead) / LADDER_BLOCK)) * LADDER_BLOCK;
    const tail = Math.max(0, Math.floor(o.ladderTail));
    this.ladder = new Ladder(this.st, new SegPool(), head, tail);
    this.ladderHead = head;
    this.eventLog = o.eventLog;
    this.log = new EventLog(this.st, new EventPool());
    this.hist = new History(this.st);
    this.zeek = new ZeekMirror(this.st, this.hist, { records: o.zeekRecords });
    this.views = new Views(this.st, this.hist, this.ladder, this.log, this.notes);
    const t = o.timeouts;
    this.timeoutByClass = Float64Array.from([
      t.synSent,
      t.synReceived,
      t.established,
      t.finWait,
      t.closeWait,
      t.lastAck,
      2 * o.mslMs,
      t.closedRetention,
    ]);
  }

  onEvent(sink: EventSink): void {
    this.sinks.push(sink);
  }

  /**
   * `sink` gets each connection as it leaves the table (its retention ended, it was evicted, or
   * removeAll), as it was then. The view is built only when there is such a sink.
   */
  onRemove(sink: (c: ConnectionView) => void): void {
    this.removeSinks.push(sink);
  }

  /**
   * Removes every connection, oldest first, through the remove sinks (the end of a file); at most
   * `max` of them when given. Returns how many it removed.
   */
  removeAll(max = Infinity): number {
    let n = 0;
    while (this.oldest >= 0 && n < max) {
      this.drop(this.oldest);
      n++;
    }
    return n;
  }

  protected setClosedBy(s: number, by: number, both: boolean): void {
    const st = this.st;
    const cur = (st.cflags[s] & C.BY_MASK) >>> C.BY_SHIFT;
    const next = both ? By.BOTH : cur === 0 ? by : cur;
    st.cflags[s] = (st.cflags[s] & ~C.BY_MASK) | (next << C.BY_SHIFT);
  }

  /** An acceptable acknowledgement of endpoint x's SYN: ISN < ack ≤ what x sent. */
  protected acksSyn(x: number, ackNo: number): boolean {
    const st = this.st;
    return ((ackNo - st.isn[x]) | 0) > 0 && ((ackNo - st.hi[x]) | 0) <= 0;
  }

  /** Side d sent its FIN (the FIN_WAIT_1 or LAST_ACK is already set). */
  protected finSent(s: number, d: number, peerFinInFlight: boolean): void {
    // Both sent a FIN before receiving the other's: a simultaneous close.
    this.setClosedBy(s, d === 0 ? By.CLIENT : By.SERVER, peerFinInFlight);
    this.emit(s, evWord(EV.TEARDOWN, d, true, TD.FIN, TDK.FIN, 0), this.ord);
  }

  protected receivePendingFin(s: number, x: number): void {
    const st = this.st;
    st.eflags[x] &= ~E.PEND_FIN;
    this.apply(s, x & 1, ROLE.RECEIVER, CL.FIN, st.pendOrd[x]);
  }

  /** Looks up the table for side `side` of s and applies the change; true if the state changed. */
  protected apply(s: number, side: number, role: number, cls: number, ref: number): boolean {
    const cur = this.st.st[2 * s + side];
    const next = nextState(role, cls, cur);
    if (next === NO_STATE_CHANGE || next === cur) return false;
    this.setState(s, side, next, ref);
    return true;
  }

  protected setState(s: number, side: number, to: number, ref: number): void {
    const st = this.st;
    const x = 2 * s + side;
    const from = st.st[x];
    if (from === to) return;
    this.unpair(s);
    st.st[x] = to;
    this.pair(s);
    if (this.index !== null) this.index.move(x, from, to);
    this.counters.byState[side * 11 + from]--;
    this.counters.byState[side * 11 + to]++;
    this.changed = true;
    this.emit(s, evWord(EV.STATE, side, true, from, to, 0), ref);
  }

  protected setStateSilently(s: number, side: number, to: number): void {
    const st = this.st;
    const x = 2 * s + side;
    this.counters.byState[side * 11 + st.st[x]]--;
    this.counters.byState[side * 11 + to]++;
    if (this.index !== null) this.index.move(x, st.st[x], to);
    this.unpair(s);
    st.st[x] = to;
    this.pair(s);
    this.changed = true;
  }

  /** Counts s under bothIn when its endpoints share a state (call after setting them). */
  protected pair(s: number): void {
    const a = this.st.st[2 * s];
    if (a === this.st.st[2 * s + 1]) this.counters.bothIn[a]++;
  }

  /** Takes s out of bothIn (call before changing an endpoint's state). */
  protected unpair(s: number): void {
    const a = this.st.st[2 * s];
    if (a === this.st.st[2 * s + 1]) this.counters.bothIn[a]--;
  }

  /** Marks s closed once neither endpoint can send any more. */
  protected checkClosed(s: number, kind: number): void {
    const st = this.st;
    if ((st.cflags[s] & C.CLOSED) !== 0) return;
    if (!done(st.st[2 * s]) || !done(st.st[2 * s + 1])) return;
    if (st.st[2 * s] === S.LISTEN && st.st[2 * s + 1] === S.LISTEN) return;
    this.markClosed(s, kind, this.ord);
  }

  protected markClosed(s: number, kind: number, ref: number): void {
    const st = this.st;
    st.cflags[s] = (st.cflags[s] & ~C.KIND_MASK) | C.CLOSED | (kind << C.KIND_SHIFT);
    st.tEnd[s] = ref === REF.TIMER ? st.tTimer[s] : this.now;
    this.counters.open--;
    this.counters.closed++;
    const tdKind = kind === Kind.TIMEOUT ? TDK.TIMEOUT : kind === Kind.FIN ? TDK.FIN : TDK.RST;
    this.emit(s, evWord(EV.TEARDOWN, 0, false, TD.CLOSED, tdKind, 0), ref);
    this.emit(s, evWord(EV.CONNECTION, 0, false, CONN.CLOSED, 0, 0), ref);
  }

  protected refreshConnState(s: number): void {
    const st = this.st;
    const v = this.zeek.connState(s);
    if (v !== st.zconn[s]) {
      this.counters.byConn[st.zconn[s]]--;
      this.counters.byConn[v]++;
      st.zconn[s] = v;
    }
  }

  protected anomaly(s: number, d: number, kind: number): void {
    const st = this.st;
    st.anomalies[s]++;
    this.counters.anomalies[kind]++;
    if (st.anomStored[s] >= Math.min(this.options.maxEventsPerConn, 0xffff)) {
      st.evOmitted[s]++;
      return;
    }
    st.anomStored[s]++;
    this.emit(s, evWord(EV.ANOMALY, d, true, 0, 0, kind), this.ord);
  }

  /** Keeps the event and hands it to the sinks. */
  protected emit(s: number, word: number, ref: number): void {
    if (this.eventLog) {
      // segments in the ladder's head are never overwritten, so most causes need no pinning
      if (ref >= this.ladderHead) this.ladder.pin(s, ref); // (REF.TIMER is negative)
      this.log.push(s, word, ref);
    }
    if (this.sinks.length === 0) return;
    const ev = this.views.event(s, word, ref, true);
    for (const sink of this.sinks) sink(ev);
  }

  /**
   * The timer class of s, from its endpoints' states and the flags in C.CLASS_MASK (store.ts);
   * `lclass` always holds it for a connection between segments.
   */
  protected classOf(s: number): number {
    const st = this.st;
    const a = st.st[2 * s];
    const b = st.st[2 * s + 1];
    if ((st.cflags[s] & C.CLOSED) !== 0) return a === S.TIME_WAIT || b === S.TIME_WAIT ? K.TIME_WAIT : K.CLOSED;
    // conntrack's order: a FIN not yet acknowledged is FIN_WAIT, an acknowledged one CLOSE_WAIT
    if (a === S.LAST_ACK || b === S.LAST_ACK) return K.LAST_ACK;
    if (a === S.FIN_WAIT_1 || b === S.FIN_WAIT_1 || a === S.CLOSING || b === S.CLOSING) return K.FIN_WAIT;
    if (a === S.CLOSE_WAIT || b === S.CLOSE_WAIT) return K.CLOSE_WAIT;
    if (closing(a) || closing(b)) return K.FIN_WAIT;
    if ((st.cflags[s] & C.EST_ONCE) !== 0) return K.ESTABLISHED;
    if ((st.cflags[s] & C.SYNACK_SEEN) !== 0 || a === S.SYN_RECEIVED || b === S.SYN_RECEIVED) return K.SYN_RECV;
    return K.SYN_SENT;
  }

  /** Idle timeout: the observer gives up; every endpoint still holding state goes to CLOSED. */
  protected closeByTimer(s: number): void {
    const st = this.st;
    for (let side = 0; side < 2; side++) {
      const x = 2 * s + side;
      st.eflags[x] &= ~E.PEND_FIN;
      if (st.st[x] !== S.CLOSED && st.st[x] !== S.LISTEN) this.setState(s, side, S.CLOSED, REF.TIMER);
    }
    if ((st.cflags[s] & C.CLOSED) === 0) {
      this.setClosedBy(s, 0, false);
      this.markClosed(s, Kind.TIMEOUT, REF.TIMER);
    }
    st.tRef[s] = st.tTimer[s];
    this.lists.touch(s, K.CLOSED);
  }

  /** Forgets s entirely. */
  protected drop(s: number): void {
    const st = this.st;
    if (this.removeSinks.length > 0) {
      const c = this.views.connection(s);
      for (const sink of this.removeSinks) sink(c);
    }
    this.flows.remove(s);
    if (this.index !== null) this.index.remove(s);
    this.ids.delete(st.idNum[s]);
    this.lists.unlink(s);
    const p = st.cprev[s];
    const n = st.cnext[s];
    if (p >= 0) st.cnext[p] = n;
    else this.oldest = n;
    if (n >= 0) st.cprev[n] = p;
    else this.newest = p;
    this.ladder.release(s);
    this.log.release(s);
    this.zeek.release(s);
    this.counters.byState[st.st[2 * s]]--;
    this.counters.byState[11 + st.st[2 * s + 1]]--;
    this.unpair(s);
    this.counters.byPort[st.cport[s]]--;
    if (st.sport[s] !== st.cport[s]) this.counters.byPort[st.sport[s]]--;
    this.counters.byConn[st.zconn[s]]--;
    if ((st.cflags[s] & C.CLOSED) !== 0) this.counters.closed--;
    else this.counters.open--;
    if (this.notes.size > 0) this.notes.delete(st.idNum[s]);
    st.idNum[s] = 0;
    st.free(s);
  }

  /**
   * Adds what is known of an endpoint from outside the packets (its owner, the kernel's state),
   * merged over earlier notes; it appears on the endpoint in every view. false if id is not tracked.
   */
  annotate(id: string, side: 'client' | 'server', fields: EndpointNotes): boolean {
    const s = this.slotOf(id);
    if (s < 0) return false;
    const n = this.st.idNum[s];
    let e = this.notes.get(n);
    if (!e) this.notes.set(n, (e = [null, null]));
    const i = side === 'client' ? 0 : 1;
    e[i] = { ...e[i], ...fields };
    return true;
  }

  // ------------------------------------------------------------------ queries

  get(id: string): ConnectionView | undefined {
    const s = this.slotOf(id);
    return s < 0 ? undefined : this.views.connection(s);
  }

  detail(id: string): ConnectionDetailView | undefined {
    const s = this.slotOf(id);
    return s < 0 ? undefined : this.views.detail(s);
  }

  /**
   * Flags every open connection as having lived through a hole in the capture (the capture process
   * died or fell behind): some of its packets may be missing. Returns how many were flagged.
   */
  markCaptureGap(): number {
    const st = this.st;
    let n = 0;
    for (let s = this.oldest; s >= 0; s = st.cnext[s]) {
      if ((st.cflags[s] & C.CLOSED) !== 0) continue;
      st.cflags[s] |= C.CAPTURE_GAP;
      n++;
    }
    return n;
  }

  list(): ConnectionView[] {
    const out: ConnectionView[] = [];
    for (let s = this.oldest; s >= 0; s = this.st.cnext[s]) out.push(this.views.connection(s));
    return out;
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
    if (this.index !== null) return;
    const max = Math.min(RESERVE_MAX, Math.max(1, Math.floor(this.options.maxConnections)));
    this.st.reserve(max);
    this.flows.reserve(max);
    this.ids.reserve(max);
    const index = new QueryIndex(this.st, max);
    for (let s = this.oldest; s >= 0; s = this.st.cnext[s]) index.add(s);
    this.index = index;
  }

  /** One page of the connections a list query matches, in creation order, with how many match in all. */
  select(q: Selection): { connections: ConnectionView[]; total: number; more: boolean } {
    const r = this.walkPage(q) ?? this.fromIndex(q) ?? selectSlots(this.st, q);
    return { connections: r.slots.map((s) => this.views.connection(s)), total: r.total, more: r.more };
  }

  /**
   * Queries whose total the counters know — on status alone (the dashboard's, and most paging), or
   * on one state or one port over all connections: the page by walking the creation order from the
   * cursor, so the cost is the page's, not the table's. null when no counter gives the total, the
   * cursor's connection is gone, or matches are too sparse for a short walk; the scan answers those.
   */
  private walkPage(q: Selection): Selected | null {
    const st = this.st;
    const c = this.counters;
    if (q.host !== null || (q.status !== 'all' && (q.state !== null || q.port !== null)) || (q.state !== null && q.port !== null)) return null;
    const state = q.state === null ? -1 : TCP_STATES.indexOf(q.state);
    const port = q.port === null ? -1 : q.port;
    const want = q.status === 'all' ? -1 : q.status === 'closed' ? C.CLOSED : 0;
    const total =
      state >= 0 ? c.byState[state] + c.byState[11 + state] - c.bothIn[state]
      : port >= 0 ? c.byPort[port]
      : want < 0 ? st.used : want === C.CLOSED ? c.closed : c.open;
    const slots: number[] = [];
    if (total === 0) return { slots, total, more: false };
    let s = this.oldest;
    if (q.afterId > 0) {
      const at = this.ids.get(q.afterId);
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
    if (this.index === null || (q.state === null && q.port === null && q.host === null)) return null;
    const c = this.counters;
    const state = q.state === null ? -1 : TCP_STATES.indexOf(q.state);
    const counts = {
      state: state < 0 ? Infinity : c.byState[state] + c.byState[11 + state] - c.bothIn[state],
      port: q.port === null ? Infinity : c.byPort[q.port],
    };
    return this.index.select(q, counts, this.st.used * this.walkUpTo);
  }

  /**
   * At most `limit` connections matching `keep` (null: all), the open ones first and then the
   * newest, in creation order; `total` is how many match. Without a filter only the chosen get a
   * view, so a snapshot of a big table costs a walk over its flags, not a view of everything.
   */
  snapshot(limit: number, keep: ((c: ConnectionView) => boolean) | null = null): { connections: ConnectionView[]; total: number } {
    const st = this.st;
    const open: number[] = [];
    const closed: number[] = [];
    let total = 0;
    for (let s = this.newest; s >= 0; s = st.cprev[s]) {
      if (keep !== null && !keep(this.views.connection(s))) continue;
      total++;
      if ((st.cflags[s] & C.CLOSED) === 0) {
        if (open.length < limit) open.push(s);
      } else if (closed.length < limit) closed.push(s);
    }
    const chosen = open.concat(closed.slice(0, Math.max(0, limit - open.length)));
    chosen.sort((a, b) => st.idNum[a] - st.idNum[b]);
    return { connections: chosen.map((s) => this.views.connection(s)), total };
  }

  /** Puts a new connection at the end of the creation order. */
  protected append(s: number): void {
    const st = this.st;
    st.cprev[s] = this.newest;
    st.cnext[s] = -1;
    if (this.newest >= 0) st.cnext[this.newest] = s;
    else this.oldest = s;
    this.newest = s;
  }


  stats(): TrackerStats {
    return this.counters.snapshot(this.st.used, this.counters.byState[11 + S.SYN_RECEIVED]);
  }


  /** Blocks the ladder and event pools have handed out and not got back (a leak check). */
  memoryInUse(): { ladderBlocks: number; pinnedBlocks: number; eventBlocks: number } {
    return { ladderBlocks: this.ladder.pool.inUse, pinnedBlocks: this.ladder.pins.inUse, eventBlocks: this.log.pool.inUse };
  }

  /** Bytes held in typed arrays by this tracker (store, pools, indexes), for benchmarks. */
  memoryBytes(): number {
    return this.st.byteSize() + this.ladder.pool.byteSize() + this.ladder.pins.byteSize() + this.log.pool.byteSize() +
      this.ids.byteSize() + (this.index === null ? 0 : this.index.byteSize());
  }

  protected slotOf(id: string): number {
    const n = Number(id);
    if (!Number.isInteger(n) || n <= 0) return -1;
    return this.ids.get(n);
  }}

/** Neither side can send any more data. */
function done(state: number): boolean {
  return state === S.CLOSED || state === S.LISTEN || state === S.TIME_WAIT;
}

function closing(state: number): boolean {
  return state === S.FIN_WAIT_1 || state === S.FIN_WAIT_2 || state === S.CLOSING || state === S.TIME_WAIT;
}
