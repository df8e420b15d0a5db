import type { WordSink } from './events';
import type { TrackerOptions } from './api';
import type { ConnectionView, EndpointNotes } from './connection';
import { CONN, EV, EventLog, REF, TD, TDK, evWord } from './eventlog';
import { FlowTable } from './flowtable';
import { History } from './history';
import { IdIndex } from './idindex';
import { Ladder, LADDER_BLOCK } from './ladder';
import { EventPool, SegPool } from './pools';
import type { QueryIndex } from './queryindex';
import { TrackerCounters } from './stats';
import { S, STATES } from './states';
import { By, C, ConnStore, E, K, Kind } from './store';
import { TimerLists } from './timers';
import { CL, ROLE, nextState } from './transitions';
import { Views } from './view';
import type { Mirror } from './mirror';


/**
 * The connections in the table and the one way each of them changes: an endpoint's state (from
 * the transition table, with its event and counters), its events, its close, its removal. The
 * packet path (machine.ts), identity (identity.ts), timers (expiry.ts) and queries (queries.ts)
 * all change connections through here; nothing else writes a state.
 */
export class Conns {
  readonly st: ConnStore;
  readonly flows: FlowTable;
  readonly ids = new IdIndex();
  readonly lists: TimerLists;
  readonly ladder: Ladder;
  readonly log: EventLog;
  readonly hist: History;
  /** The Zeek mirror, set by the tracker that composes both: it forgets a slot when it is dropped. */
  mirror!: Mirror;
  readonly views: Views;
  /** What was learned of endpoints from outside the packets (owners, the kernel's view), by id number. */
  readonly notes = new Map<number, [EndpointNotes | null, EndpointNotes | null]>();
  /** The event sinks, handed each event as its word (the tracker's sinks read it through record.ts EventCursor). */
  readonly sinks: WordSink[] = [];
  readonly removeSinks: ((c: ConnectionView) => void)[] = [];
  /** Sinks that read a leaving connection from its slot (record.ts) rather than from a view. */
  readonly removeSlotSinks: ((s: number) => void)[] = [];
  readonly counters = new TrackerCounters();
  /** The ladder's head length (segments kept from the start). */
  private readonly ladderHead: number;
  /**
   * Whether segments go to the ladder at all: not when nothing would read them (no ladder asked
   * for, no event kept, no event sink: as `tcpscope analyze` configures the tracker).
   */
  keepsSegments: boolean;
  private readonly eventLog: boolean;
  private readonly maxAnomalies: number;

  /** Oldest and newest tracked connection (the creation-order list through cprev/cnext). */
  oldest = -1;
  newest = -1;
  /** Lists by state, port and host for list queries; kept only once something serves them. */
  index: QueryIndex | null = null;

  // the segment (or timer) being handled
  now = 0;
  ord = 0;
  /** Some endpoint changed state while handling the current segment or timer. */
  changed = false;

  constructor(o: TrackerOptions) {
    const maxConn = Math.max(1, Math.floor(o.maxConnections));
    this.st = new ConnStore(Math.min(1024, maxConn), maxConn);
    this.flows = new FlowTable(this.st);
    this.lists = new TimerLists(this.st);
    // at least one block, so every event can find its segment (the first ones always stay)
    const head = Math.max(1, Math.ceil(Math.max(0, o.ladderHead) / LADDER_BLOCK)) * LADDER_BLOCK;
    const tail = Math.max(0, Math.floor(o.ladderTail));
    this.keepsSegments = o.eventLog || o.ladderHead > 0 || tail > 0;
    this.ladder = new Ladder(this.st, new SegPool(), this.keepsSegments ? head : 0, tail);
    this.ladderHead = head;
    this.eventLog = o.eventLog;
    this.maxAnomalies = Math.min(o.maxEventsPerConn, 0xffff);
    this.log = new EventLog(this.st, new EventPool(), o.eventLog);
    this.hist = new History(this.st);
    this.views = new Views(this.st, this.hist, this.ladder, this.log, this.notes);
  }

  /**
   * An event sink reads each event's segment from the ladder: segments are kept from now on, as a
   * ladder of one block, unless a connection began without them (then they stay unkept).
   */
  keepSegments(): void {
    if (this.keepsSegments === true || this.oldest >= 0) return;
    this.keepsSegments = true;
    this.ladder.head = this.ladderHead;
  }

  // ------------------------------------------------------------------ states, through the table

  /** Looks up the table for side `side` of s and applies the change; true if the state changed. */
  apply(s: number, side: number, role: number, cls: number, ref: number): boolean {
    const cur = this.st.st[2 * s + side];
    const next = nextState(role, cls, cur);
    // (IGNORE and INVALID, the table's two values above every state, in one comparison: each
    // name read from the module is a load and a check at every call)
    if (next === cur || next >= STATES.COUNT) return false;
    this.change(s, side, cur, next, ref);
    return true;
  }

  /** Endpoint x receives the peer's FIN it had seen on the wire earlier (see Expiry.awaitFin). */
  receivePendingFin(s: number, x: number): void {
    const st = this.st;
    st.eflags[x] &= ~E.PEND_FIN;
    this.apply(s, x & 1, ROLE.RECEIVER, CL.FIN, st.pendOrd[x]);
  }

  /**
   * A change the table cannot say (the named exceptions: simultaneous open, timers, a 4-tuple
   * reused); everything else goes through apply().
   */
  setState(s: number, side: number, to: number, ref: number): void {
    const st = this.st;
    const x = 2 * s + side;
    const from = st.st[x];
    if (from === to) return;
    this.change(s, side, from, to, ref);
  }

  /** A state that was never really held (an assumed LISTEN): corrected without an event. */
  correctState(s: number, side: number, to: number): void {
    this.move(s, side, this.st.st[2 * s + side], to);
  }

  /** Side `side` of s goes from `from` (its state, as the caller read it) to `to`, with its event. */
  private change(s: number, side: number, from: number, to: number, ref: number): void {
    this.move(s, side, from, to);
    this.emit(s, evWord(EV.STATE, side, true, from, to, 0), ref);
  }

  private move(s: number, side: number, from: number, to: number): void {
    const states = this.st.st;
    const x = 2 * s + side;
    const other = states[x ^ 1];
    const pairs = this.counters.pairs;
    states[x] = to;
    if (this.index !== null) this.index.move(x, from, to);
    // the connection's count moves from its old pair of states to its new one
    if (side === 0) {
      pairs[from * STATES.COUNT + other]--;
      pairs[to * STATES.COUNT + other]++;
    } else {
      pairs[other * STATES.COUNT + from]--;
      pairs[other * STATES.COUNT + to]++;
    }
    this.changed = true;
  }

  /** Counts s under its pair of states (call after setting them, when it is added). */
  pair(s: number): void {
    this.counters.pairs[this.st.st[2 * s] * STATES.COUNT + this.st.st[2 * s + 1]]++;
  }

  /** Takes s out of the count of its pair of states (when it is dropped). */
  unpair(s: number): void {
    this.counters.pairs[this.st.st[2 * s] * STATES.COUNT + this.st.st[2 * s + 1]]--;
  }

  // ------------------------------------------------------------------ closing

  setClosedBy(s: number, by: number, both: boolean): void {
    const st = this.st;
    const cur = (st.cflags[s] & C.BY_MASK) >>> C.BY_SHIFT;
    const next = both ? By.BOTH : cur === 0 ? by : cur;
    st.cflags[s] = (st.cflags[s] & ~C.BY_MASK) | (next << C.BY_SHIFT);
  }

  /** Side d sent its FIN (the FIN_WAIT_1 or LAST_ACK is already set). */
  finSent(s: number, d: number, peerFinInFlight: boolean): void {
    // Both sent a FIN before receiving the other's: a simultaneous close.
    this.setClosedBy(s, d === 0 ? By.CLIENT : By.SERVER, peerFinInFlight);
    this.announce(s, evWord(EV.TEARDOWN, d, true, TD.FIN, TDK.FIN, 0), this.ord);
  }

  /** Marks s closed once neither endpoint can send any more. */
  checkClosed(s: number, kind: number): void {
    const st = this.st;
    if ((st.cflags[s] & C.CLOSED) !== 0) return;
    if (!done(st.st[2 * s]) || !done(st.st[2 * s + 1])) return;
    if (st.st[2 * s] === S.LISTEN && st.st[2 * s + 1] === S.LISTEN) return;
    this.markClosed(s, kind, this.ord);
  }

  markClosed(s: number, kind: number, ref: number): void {
    const st = this.st;
    st.cflags[s] = (st.cflags[s] & ~C.KIND_MASK) | C.CLOSED | (kind << C.KIND_SHIFT);
    st.tEnd[s] = ref === REF.TIMER ? st.tTimer[s] : this.now;
    this.counters.open--;
    this.counters.closed++;
    const tdKind = kind === Kind.TIMEOUT ? TDK.TIMEOUT : kind === Kind.FIN ? TDK.FIN : TDK.RST;
    this.emit(s, evWord(EV.TEARDOWN, 0, false, TD.CLOSED, tdKind, 0), ref);
    this.announce(s, evWord(EV.CONNECTION, 0, false, CONN.CLOSED, 0, 0), ref);
  }

  /** Idle timeout: the observer gives up; every endpoint still holding state goes to CLOSED. */
  closeByTimer(s: number): void {
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

  // ------------------------------------------------------------------ events

  anomaly(s: number, d: number, kind: number): void {
    const st = this.st;
    st.anomalies[s]++;
    this.counters.anomalies[kind]++;
    if (st.anomStored[s] >= this.maxAnomalies) {
      st.evOmitted[s]++;
      return;
    }
    st.anomStored[s]++;
    this.emit(s, evWord(EV.ANOMALY, d, true, 0, 0, kind), this.ord);
  }

  /** Keeps the event and hands it to the sinks. */
  emit(s: number, word: number, ref: number): void {
    // (compared with true: a bare field test compiles to the generic truthiness checks)
    if (this.eventLog === true) {
      // segments in the ladder's head are never overwritten, so most causes need no pinning
      if (ref >= this.ladderHead) this.ladder.pin(s, ref); // (REF.TIMER is negative)
      this.log.push(s, word, ref);
    }
    if (this.sinks.length !== 0) this.announce(s, word, ref);
  }

  /**
   * Hands the event to the sinks without keeping it: for the events the log implies (EventLog.each
   * gives them back in their place), and for every kept one.
   */
  announce(s: number, word: number, ref: number): void {
    const sinks = this.sinks;
    for (let i = 0; i < sinks.length; i++) sinks[i](s, word, ref);
  }

  // ------------------------------------------------------------------ timer classes

  /**
   * Moves s to the tail of its timer class after a segment. The class is looked up each time:
   * three reads and the table's, fewer than reading what it depends on before and after.
   */
  touch(s: number): void {
    this.lists.touch(s, this.classOf(s));
  }

  /**
   * The timer class of s, from its endpoints' states and the flags C.CLOSED, C.EST_ONCE and C.SYNACK_SEEN;
   * `lclass` always holds it for a connection between segments. Looked up in CLASS_TABLE, which
   * timerClass() fills.
   */
  classOf(s: number): number {
    const st = this.st;
    const f = st.cflags[s];
    // C.CLOSED (bit 3), C.EST_ONCE (bit 5), C.SYNACK_SEEN (bit 10) to bits 0, 1, 2 without a branch
    const bits = ((f >>> CB.CLOSED) & 1) | ((f >>> CB.EST_ONCE) & 2) | ((f >>> CB.SYNACK_SEEN) & 4);
    return CLASS_TABLE[((st.st[2 * s] * STATES.COUNT + st.st[2 * s + 1]) << 3) | bits];
  }

  // ------------------------------------------------------------------ the creation order, removal

  /** Puts a new connection at the end of the creation order. */
  append(s: number): void {
    const st = this.st;
    st.cprev[s] = this.newest;
    st.cnext[s] = -1;
    if (this.newest >= 0) st.cnext[this.newest] = s;
    else this.oldest = s;
    this.newest = s;
  }

  /** Forgets s entirely. */
  drop(s: number): void {
    const st = this.st;
    for (let i = 0; i < this.removeSlotSinks.length; i++) this.removeSlotSinks[i](s);
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
    this.mirror.release(s);
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

  slotOf(id: string): number {
    const n = Number(id);
    if (!Number.isInteger(n) || n <= 0) return -1;
    return this.ids.get(n);
  }
}

/**
 * The timer class of a connection whose endpoints are in states a and b, closed or not, that was
 * established once or not, whose SYN+ACK was seen or not.
 */
function timerClass(a: number, b: number, closed: boolean, estOnce: boolean, synAckSeen: boolean): number {
  if (closed) return a === S.TIME_WAIT || b === S.TIME_WAIT ? K.TIME_WAIT : K.CLOSED;
  // conntrack's order: a FIN not yet acknowledged is FIN_WAIT, an acknowledged one CLOSE_WAIT
  if (a === S.LAST_ACK || b === S.LAST_ACK) return K.LAST_ACK;
  if (a === S.FIN_WAIT_1 || b === S.FIN_WAIT_1 || a === S.CLOSING || b === S.CLOSING) return K.FIN_WAIT;
  if (a === S.CLOSE_WAIT || b === S.CLOSE_WAIT) return K.CLOSE_WAIT;
  if (closing(a) || closing(b)) return K.FIN_WAIT;
  if (estOnce) return K.ESTABLISHED;
  if (synAckSeen || a === S.SYN_RECEIVED || b === S.SYN_RECEIVED) return K.SYN_RECV;
  return K.SYN_SENT;
}

/** timerClass() for every pair of states and every value of the three flags, indexed as classOf() reads it. */
const CLASS_TABLE = new Uint8Array(STATES.COUNT * STATES.COUNT * 8);
for (let a = 0; a < STATES.COUNT; a++) {
  for (let b = 0; b < STATES.COUNT; b++) {
    for (let bits = 0; bits < 8; bits++) {
      CLASS_TABLE[((a * STATES.COUNT + b) << 3) | bits] = timerClass(a, b, (bits & 1) !== 0, (bits & 2) !== 0, (bits & 4) !== 0);
    }
  }
}

/** Shifts that bring classOf()'s three flags of `cflags` to bits 0, 1 and 2. */
const enum CB { CLOSED = 3, EST_ONCE = 5 - 1, SYNACK_SEEN = 10 - 2 }
if (C.CLOSED >>> CB.CLOSED !== 1 || C.EST_ONCE >>> CB.EST_ONCE !== 2 || C.SYNACK_SEEN >>> CB.SYNACK_SEEN !== 4) {
  throw new Error('conns: the shifts CB do not match the flags C');
}

/** Neither side can send any more data. */
function done(state: number): boolean {
  return state === S.CLOSED || state === S.LISTEN || state === S.TIME_WAIT;
}

function closing(state: number): boolean {
  return state === S.FIN_WAIT_1 || state === S.FIN_WAIT_2 || state === S.CLOSING || state === S.TIME_WAIT;
}
