import { readFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import type { EventBus } from '../events/bus';
import type { EventRecord } from '../events/types';
import type { TrackerApi } from '../track/api';
import { ConnFields, connectionIdNumber, FL, N } from '../track/record';
import { CLOSE_KINDS } from '../track/store';
import { TCP_STATES } from '../track/states';
import { OWNER_REASONS, type ConnectionView, type EndpointProcess, type KernelEndpoint, type OwnerReason } from '../track/connection';
import type { Side, TcpState } from '../track/states';
import { attribute, kernelView, noOwner, ownerNote, portPair, SocketIndex, tupleKey, type Attribution, type Listener } from './attribute';
import { DEFAULT_DIAGNOSE, DIAGNOSED, diagnose, type DiagnoseOptions, type Diagnosis, type Disagreement } from './diagnose';
import type { Scanner } from './scan-thread';
import { W, WatchTable } from './watched';

export interface SocketWatchOptions {
  /** The steady scan (listeners, kernel cross-check, tcp_info), ms. */
  intervalMs: number;
  /** Shortest gap between scans asked for by new connections, ms: new connections are looked up in batches. */
  batchMs: number;
  /** Scans an endpoint waits for its socket to show before it is given up as gone. */
  maxTries: number;
  /** A connection is compared with the kernel once no packet has been seen for this long, ms. */
  settleMs: number;
  /** Compare inferred states with the kernel's (and read tcp_info). */
  crossCheck: boolean;
  /** The captured ports (-p), whose connected sockets are always read; null when capture is not narrowed by port. */
  ports: readonly number[] | null;
  diagnose: Partial<DiagnoseOptions>;
  /**
   * Timestamp (epoch ms) of the newest packet the tracker has processed. A kernel reading is
   * compared only once the tracker is less than half the settle time behind it (or no packet came
   * since): a compared connection has had no packet for the settle time before the reading, so one
   * still waiting in the capture buffer is rare, and a disagreement counts only when it holds on
   * the next reading too.
   */
  packetClock: (() => number) | null;
  /** Name the owners of every listener (for following a process's new listening ports). */
  allListeners: boolean;
}

/** Kernel counters are compared over this long, ms. */
const COUNTER_WINDOW_MS = 10_000;

export const DEFAULT_WATCH: SocketWatchOptions = { intervalMs: 1000, batchMs: 100, maxTries: 3, settleMs: 500, crossCheck: true, ports: null, diagnose: {}, packetClock: null, allListeners: false };

/** An endpoint whose socket is not found is given up only after this long: a process seen for the first time is read by a full fd scan, at most every 2 s. */
const GIVE_UP_MS = 2500;
/** tcp_info (`ss -i`, the costliest part of a reading) is read at most this often. */
const TCP_INFO_EVERY_MS = 5000;
/** With no packet since the last full reading and nothing left to look up, a full reading is made at most this often. */
const IDLE_FULL_MS = 5000;

const SIDES: readonly Side[] = ['client', 'server'];
/** A connection's close kind when the server answered its SYN with a reset (read once: the list is a re-exported binding). */
const REFUSED = CLOSE_KINDS.indexOf('refused');

/**
 * A reading asked for by new connections waits this long (ms) for each connection a second
 * arriving (at least batchMs, at most BUSY_GAP_INTERVALS × intervalMs): 100 ms at 100 a second, 1 s
 * at 1 000, 2 s from 2 000 a second on, the steady reading waiting as long. Each reading costs about
 * the same whatever it finds (`ss` runs, each a walk of the kernel's whole connection table with its
 * TIME_WAIT sockets, and the join here), while what it can add at such rates is little: a
 * connection that lasts a few milliseconds is gone before any reading (its server endpoint is named
 * through its listener all the same), and one that lasts longer is named by the next reading. At
 * 2 000 connections a second the socket tables, a reading a second, took some 30 % of tcpscope's
 * CPU (BENCHMARKS.md, "Fewer wakeups at fixed rates").
 */
const GAP_MS_PER_CONN_PER_S = 1;
const BUSY_GAP_INTERVALS = 2;

/**
 * Readings that walk the kernel's whole connection table (the connected sockets, or closed
 * connections' sockets by their port pairs) keep their ss processes within this share of one
 * core: each walk visits every socket, TIME_WAIT ones included (60 000 of them a minute after a
 * thousand connections a second), so it costs more the busier the machine is; the next one waits
 * its measured CPU time divided by this. With the connected sockets read only for open
 * connections that can use them, a busy server's walk is the port pairs' alone: each reading
 * compares as many closed connections at this share as it did at twice it with both walks (32
 * pairs), but readings come less often, so fewer endpoints are compared a second (BENCHMARKS.md,
 * "One walk for closed connections": 51–448 a 30 s run at ~1 500 connections a second, against
 * 348–812 at 2 % with both walks).
 */
const WALK_CPU_SHARE = 0.01;

/** A closed connection is compared with the kernel within this long, ms, or left unchecked (counted). */
const CROSS_CHECK_WITHIN_MS = 10_000;

/**
 * TIME_WAIT pairs queued for the steady readings at most; a closed connection finding the queue
 * full goes unchecked (counted). A reading reads the newest PAIRS_A_READING of them: drained
 * oldest first, 32 a reading some 3 s apart, a pair would be read some 100 s after it was queued,
 * its TIME_WAIT over in the kernel and the tracker alike (GONE against CLOSED, an agreement that
 * proves nothing). Pairs queued more than CROSS_CHECK_WITHIN_MS before a reading are dropped, their
 * sides counted unchecked.
 */
const TIME_WAIT_QUEUE = 1024;
const PAIRS_A_READING = 32;

/** A queued TIME_WAIT pair: its ports, when it was queued (performance.now()), and the connection side that asked for it. */
interface QueuedPair {
  local: number;
  remote: number;
  at: number;
  id: number;
  side: number;
}

/** WatchTable.counted of a side counted in notCompared. */
const UNCHECKED = 'unchecked';

/** Endpoints a reading looks for the owners of by name; with more, it looks for every socket's. */
const MAX_LOOKUPS = 4096;

export interface SocketStats {
  mode: Scanner['mode'];
  scans: number;
  /** Time the scans took in their thread, ms: the last one and all together. */
  lastScanMs: number;
  scanMsTotal: number;
  fdScans: number;
  /** Steady readings left out because nothing had changed (no packet since the last one, nothing left to look up). */
  idleSkips: number;
  /** `ss` processes run, in all. */
  ssRuns: number;
  /** Of those, the ones run through the scanning thread's ss helper (the others were forks of tcpscope). */
  ssViaHelper: number;
  /** Times the ss helper was started again after it ended. */
  ssHelperRestarts: number;
  /** Endpoints of closed connections named from the last reading, without one of their own. */
  settledWithoutReading: number;
  /** Endpoints looked up, and how many got an owner (through their own socket or their port's listener). */
  owners: { endpoints: number; owned: number; viaSocket: number; viaListener: number; byReason: Record<OwnerReason, number> };
  /** Settled local endpoints compared with the kernel, and how many agreed. */
  crossCheck: { compared: number; agreed: number; disagreements: number; notCompared: number; recent: Disagreement[] };
  error: string | null;
}

/**
 * Joins the kernel's view of the host's sockets to the tracked connections, off the packet path:
 * a new connection asks for a scan (batched: at most one every `batchMs`, further apart the more
 * connections arrive), a steady scan every `intervalMs` keeps listeners and the cross-check
 * current; closed connections are named from the last scan, and the connected sockets are read
 * only for connections that need them, within an `ss` CPU budget. Each answer is written onto the
 * tracker's endpoints as values (tracker.annotate).
 */
export class SocketWatch {
  private readonly o: SocketWatchOptions;
  /** The watched connections (W.PENDING: with an endpoint whose owner is not known yet). */
  private readonly t = new WatchTable();
  /** Connections opened since the last reading, and the arrival rate measured then (per second). */
  private opened = 0;
  private openedSince = 0;
  private rate = 0;
  /** CPU of the ss runs of a reading of the connected sockets (a moving average, ms), and when the next may start. */
  private walkCpuMs: number | null = null;
  private nextWalkAt = 0;
  /** When a reading was last considered (made or not). */
  private lastRunAt = 0;
  private latest: SocketIndex | null = null;
  private timer: NodeJS.Timeout | null = null;
  private soon: NodeJS.Timeout | null = null;
  private soonAt = 0;
  private inFlight = false;
  private again = false;
  private lastScanAt = 0;
  private lastFull = -Infinity;
  private closed = false;
  private unsubscribe: (() => void) | null = null;
  private readonly listenersSeen = new Set<(ix: SocketIndex) => void>();
  private readonly st: SocketStats;
  /** When each endpoint entered CLOSE_WAIT (by the packets), by connection number, one map a side (no key made per event). */
  private readonly closeWaitSince = { client: new Map<number, number>(), server: new Map<number, number>() };
  /** TcpExt counters summed over namespaces, one entry per scan within COUNTER_WINDOW_MS. */
  private counters: { at: number; c: Record<string, number> }[] = [];
  private readonly diag: DiagnoseOptions;
  /** A connection's fields as the cross-check and the diagnoses read them from the tracker (one, reused). */
  private readonly f = new ConnFields();
  /** TIME_WAIT sockets (or sockets the kernel no longer has) to read at the next steady scan. */
  private timeWaitWanted: QueuedPair[] = [];
  /** Pairs queued or being read. */
  private timeWaitPending = new Set<number>();
  private lastClock = -1;
  /** When tcp_info was last read, and the packet clock at the last full reading (with its wall time). */
  private lastInfo = -Infinity;
  private fullClock = -1;
  private fullAt = 0;

  constructor(
    private readonly scanner: Scanner,
    private readonly tracker: TrackerApi,
    opts: Partial<SocketWatchOptions> = {},
  ) {
    this.o = { ...DEFAULT_WATCH, ...opts };
    this.diag = { ...DEFAULT_DIAGNOSE, ephemeralPorts: ephemeralPorts(), ...this.o.diagnose };
    this.st = {
      mode: scanner.mode,
      scans: 0,
      lastScanMs: 0,
      scanMsTotal: 0,
      fdScans: 0,
      idleSkips: 0,
      ssRuns: 0,
      ssViaHelper: 0,
      ssHelperRestarts: 0,
      settledWithoutReading: 0,
      owners: { endpoints: 0, owned: 0, viaSocket: 0, viaListener: 0, byReason: Object.fromEntries(OWNER_REASONS.map((r) => [r, 0])) as Record<OwnerReason, number> },
      crossCheck: { compared: 0, agreed: 0, disagreements: 0, notCompared: 0, recent: [] },
      error: null,
    };
  }

  /** Follows new connections on the bus and starts the steady scan. */
  start(bus: EventBus): this {
    this.unsubscribe = bus.subscribe((_seq, e) => this.onEvent(e));
    this.timer = setInterval(() => this.request(true), this.o.intervalMs);
    this.timer.unref();
    this.request(true);
    return this;
  }

  onEvent(e: EventRecord): void {
    // Every event passes here, read in place: connections are known by number, no id text is made.
    if (e.type !== 'state' && e.type !== 'refused' && e.type !== 'connection') return;
    const id = idOf(e);
    // an id that is not a connection's number is no key: skipped, never merged with another
    if (id < 0) return;
    if (e.type === 'state') {
      if (e.to === 'CLOSE_WAIT') this.closeWaitSince[e.side!].set(id, e.ts);
      else if (e.from === 'CLOSE_WAIT') this.closeWaitSince[e.side!].delete(id);
      return;
    }
    if (e.type === 'refused') {
      const w = this.t.findNum(id);
      if (w >= 0) this.t.flags[w] |= W.REFUSED;
      return;
    }
    if (e.phase !== 'opened') {
      const t = this.t;
      const w = t.findNum(id);
      if (w >= 0) {
        t.flags[w] |= W.CLOSED;
        t.closedAt[w] = performance.now();
        t.closedTs[w] = e.ts;
        if (e.phase === 'evicted') {
          // the tracker dropped it before any comparison of what is left: counted, not forgotten silently
          if (this.o.crossCheck) this.countUnchecked(w);
          this.forget(w);
        }
      }
      if (this.closeWaitSince.client.size > 0) this.closeWaitSince.client.delete(id);
      if (this.closeWaitSince.server.size > 0) this.closeWaitSince.server.delete(id);
      return;
    }
    const c = e.connection();
    if (c === null) return;
    const now = performance.now();
    const t = this.t;
    // the tracker's records carry the id as a number; an event given as an object, as text
    const cid = c.idText === null ? c.id : connectionIdNumber(c.idText);
    if (cid <= 0) return;
    const w = t.add(cid, now);
    const a = 2 * w;
    for (let i = 0; i < 2; i++) {
      t.ip4[a + i] = c.ip4[i];
      if (c.ip4[i] < 0) t.ip6[a + i] = c.ipText[i];
    }
    t.port[a] = c.num[N.port0];
    t.port[a + 1] = c.num[N.port1];
    if ((c.flags & FL.CLOSED) !== 0) {
      t.flags[w] |= W.CLOSED;
      t.closedAt[w] = now;
      t.closedTs[w] = e.ts;
    }
    if (c.closeKind === REFUSED) t.flags[w] |= W.REFUSED;
    this.opened++;
    this.request(false);
  }

  /** Called with every scan's index (listeners, diagnoses). */
  onScan(f: (ix: SocketIndex) => void): void {
    this.listenersSeen.add(f);
  }

  get index(): SocketIndex | null {
    return this.latest;
  }

  listeners(ports: ReadonlySet<number> | null): Listener[] {
    return this.latest?.listeners(ports) ?? [];
  }

  /** The current diagnoses, from the tracker's connections and the last scan. */
  diagnoses(now = Date.now()): Diagnosis[] {
    const rise: Record<string, number> = {};
    const first = this.counters[0];
    const last = this.counters[this.counters.length - 1];
    if (first && last) for (const k of Object.keys(last.c)) rise[k] = last.c[k] - (first.c[k] ?? 0);
    return diagnose(
      {
        now,
        connections: (visit) =>
          this.tracker.eachRecordOf(DIAGNOSED, (r) => {
            // only the connections a diagnosis can name; no history letters
            r.fill(this.f, false);
            visit(this.f);
          }),
        index: this.latest,
        closeWaitSince: this.closeWaitSince,
        counterRise: rise,
        disagreements: this.st.crossCheck.recent,
      },
      this.diag,
    );
  }

  stats(): SocketStats {
    return { ...this.st, owners: { ...this.st.owners, byReason: { ...this.st.owners.byReason } }, crossCheck: { ...this.st.crossCheck, recent: [...this.st.crossCheck.recent] } };
  }

  /** Resolves after one scan that started after this call has been joined. */
  async scanNow(): Promise<void> {
    while (this.inFlight) await new Promise((r) => setTimeout(r, 5));
    await this.run(true);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.unsubscribe?.();
    if (this.timer) clearInterval(this.timer);
    if (this.soon) clearTimeout(this.soon);
    while (this.inFlight) await new Promise((r) => setTimeout(r, 5));
    await this.scanner.close();
  }

  private request(full: boolean): void {
    if (this.closed) return;
    if (full) this.lastFull = -Infinity;
    if (this.inFlight) {
      this.again = true;
      return;
    }
    // a slow scan (a busy machine, many sockets) spaces the next one as far: the scanning thread is
    // busy half the time at most; and many new connections a second space them further (see GAP_MS_PER_CONN_PER_S)
    const gap = Math.max(this.o.batchMs, this.st.lastScanMs, Math.min(this.o.intervalMs * BUSY_GAP_INTERVALS, this.rate * GAP_MS_PER_CONN_PER_S));
    const now = performance.now();
    const wait = Math.max(0, Math.max(this.lastScanAt, this.lastRunAt) + gap - now);
    // one timer: the sooner wins (a steady reading waiting for the ss budget does not hold up
    // closed connections). Its time is the one computed here, not read again in postpone: read
    // again it came out a few microseconds later, and every new connection re-armed the timer.
    if (this.soon && this.soonAt <= now + wait) return;
    this.postpone(wait, now);
  }

  private async run(forceFull: boolean): Promise<void> {
    if (this.closed && !forceFull) return;
    const t = performance.now();
    this.lastRunAt = t;
    this.measureRate(t);
    const full = forceFull || t - this.lastFull >= this.o.intervalMs - 5;
    if (full && !forceFull && this.idle(t)) {
      this.st.idleSkips++;
      this.lastFull = t;
      return;
    }
    // Closed connections are named from the last reading (their sockets are in no later one).
    if (!forceFull && this.latest) this.settleClosed(this.latest);
    // The connected sockets (a walk of the kernel's whole connection table) are read when an open
    // connection can use them, and closed connections' sockets by their port pairs (a walk too) when
    // some are queued for the cross-check, both within the CPU budget; otherwise only the listeners.
    const connWanted = forceFull || this.wantsWalk(t, full);
    const pairsWanted = full && this.o.crossCheck && this.timeWaitWanted.length > 0;
    const wants = connWanted || pairsWanted;
    if (full && !forceFull && wants && t < this.nextWalkAt) {
      // a steady reading with something to read the connected sockets for waits for the budget
      // rather than being made without them
      this.postpone(Math.min(this.nextWalkAt - t, this.o.intervalMs));
      this.settleClosedSoon();
      return;
    }
    const walk = forceFull || (wants && t >= this.nextWalkAt);
    const connected = walk && connWanted;
    if (!full && !walk) {
      if (!this.anyPending(true)) {
        this.requestAgain();
        return;
      }
    }
    this.inFlight = true;
    this.again = false;
    const timeWait = full && walk && this.o.crossCheck ? this.takePairs(t) : [];
    try {
      const tcpInfo = full && connected && this.o.crossCheck && (forceFull || t - this.lastInfo >= TCP_INFO_EVERY_MS);
      const clockBefore = this.o.packetClock?.() ?? -1;
      const scan = await this.scanner.scan({ tcpInfo, ports: this.wantedPorts(), connected, timeWait, allListeners: this.o.allListeners, freshListeners: full || !walk, lookup: connected ? this.lookups() : [] });
      this.lastScanAt = performance.now();
      if (walk) {
        this.walkCpuMs = this.walkCpuMs === null ? scan.ssCpuMs : 0.7 * this.walkCpuMs + 0.3 * scan.ssCpuMs;
        this.nextWalkAt = this.lastScanAt + this.walkCpuMs / WALK_CPU_SHARE;
      }
      if (tcpInfo) this.lastInfo = t;
      if (full) {
        this.lastFull = this.lastScanAt;
        this.fullClock = clockBefore;
        this.fullAt = scan.at;
        this.lastIdleFull = this.lastScanAt;
      }
      this.st.scans++;
      this.st.ssRuns += scan.ssRuns;
      this.st.ssViaHelper += scan.ssViaHelper;
      this.st.ssHelperRestarts += scan.ssHelperRestarts;
      this.st.lastScanMs = scan.costMs;
      this.st.scanMsTotal += scan.costMs;
      if (scan.fdScan) this.st.fdScans++;
      const ix = new SocketIndex(scan, localAddresses());
      this.keepCounters(scan.at, scan.netstat);
      this.latest = ix;
      // a steady reading without a walk still queues closed connections' port pairs for the next
      // one (compare reads nothing more from it): at thousands of short connections a second, no
      // open connection asks for a walk, and the pairs are what does
      this.join(ix, t, full, connected, full && this.o.crossCheck && this.caughtUp(ix.at));
      for (const f of this.listenersSeen) f(ix);
      this.st.error = null;
    } catch (e) {
      this.st.error = e instanceof Error ? e.message : String(e);
    } finally {
      // read or failed, the pairs are no longer pending: a connection still waiting asks again
      for (const p of timeWait) this.timeWaitPending.delete(portPair(p.local, p.remote));
      this.inFlight = false;
    }
    this.requestAgain();
  }

  /** The pairs a reading at `now` reads: the newest; those queued too long ago are dropped, counted. */
  private takePairs(now: number): QueuedPair[] {
    const q = this.timeWaitWanted;
    // queued in time order, and taken from the end: the stale ones are at the front
    let stale = 0;
    while (stale < q.length && now - q[stale].at > CROSS_CHECK_WITHIN_MS) stale++;
    if (stale > 0) {
      const t = this.t;
      for (const p of q.splice(0, stale)) {
        this.timeWaitPending.delete(portPair(p.local, p.remote));
        const w = t.findNum(p.id);
        if (w >= 0) this.countSide(w, p.side);
      }
    }
    return q.splice(Math.max(0, q.length - PAIRS_A_READING));
  }

  private postpone(ms: number, now = performance.now()): void {
    if (this.soon) clearTimeout(this.soon);
    this.soonAt = now + ms;
    this.soon = setTimeout(() => {
      this.soon = null;
      void this.run(false);
    }, ms);
    this.soon.unref();
  }

  /** Closed connections waiting for a reading of the listeners get one before a postponed steady reading. */
  private settleClosedSoon(): void {
    if (this.anyPending(true)) this.request(false);
  }

  /** Another reading when one was asked for meanwhile, or an open connection still waits for its owner. */
  private requestAgain(): void {
    if (this.again || this.anyPending(false)) this.request(false);
  }

  /** Whether a connection waiting for its owner is closed (`closed`), or open. */
  private anyPending(closed: boolean): boolean {
    const t = this.t;
    if (t.pendingCount === 0) return false;
    const want = W.PENDING | (closed ? W.CLOSED : 0);
    for (let w = 0; w < t.hi; w++) if ((t.flags[w] & (W.PENDING | W.CLOSED)) === want) return true;
    return false;
  }

  /**
   * Whether the connected sockets are worth reading now: an open connection has waited batchMs
   * for its owner (most connections on a busy loopback server last a few milliseconds, and a
   * reading made for them would only find them gone); on a steady reading, an open connection
   * could be compared with the kernel (it has lived the settle time: one that has not cannot have
   * gone without packets that long) or is named through its own socket (its owner is kept once the
   * socket is gone). Closed connections need no such reading: their sockets are in no later one,
   * but for those read by their port pairs (TIME_WAIT, or still closing).
   */
  private wantsWalk(t: number, full: boolean): boolean {
    const tb = this.t;
    if (tb.size === 0 || (!full && tb.pendingCount === 0)) return false;
    for (let w = 0; w < tb.hi; w++) {
      const f = tb.flags[w];
      if (f === 0 || (f & W.CLOSED) !== 0) continue;
      const age = t - tb.since[w];
      if ((f & W.PENDING) !== 0 && age >= this.o.batchMs) return true;
      if (full && ((this.o.crossCheck && age >= this.o.settleMs) || this.mayLoseOwner(w))) return true;
    }
    return false;
  }

  private lastIdleFull = 0;

  /**
   * Nothing to learn from a steady reading: no packet since the last full one (which came after
   * the last packet had settled), no endpoint still waiting for its owner or a TIME_WAIT reading;
   * one is still made every IDLE_FULL_MS (new listeners, the kernel's timers).
   */
  private idle(t: number): boolean {
    const clock = this.o.packetClock;
    if (!clock || this.fullClock < 0 || t - this.lastIdleFull >= IDLE_FULL_MS) return false;
    if (clock() !== this.fullClock || this.fullAt - this.fullClock < this.o.settleMs) return false;
    return this.timeWaitWanted.length === 0 && this.t.pendingCount === 0;
  }

  /** Whether the tracker has seen the packets up to half the settle time before the reading (or none came since the last look). */
  private caughtUp(at: number): boolean {
    const clock = this.o.packetClock;
    if (!clock) return true;
    const now = clock();
    const idle = now === this.lastClock;
    this.lastClock = now;
    // under a steady stream the tracker is always a little behind the wall clock: requiring it to
    // be past the reading would leave the cross-check out whenever traffic never pauses
    return idle || now >= at - this.o.settleMs / 2;
  }

  /** The endpoints of open connections still waiting for their owner (at most MAX_LOOKUPS; null: too many, every socket). */
  private lookups(): string[] | null {
    const out: string[] = [];
    const t = this.t;
    for (let w = 0; w < t.hi; w++) {
      if ((t.flags[w] & (W.PENDING | W.CLOSED)) !== W.PENDING) continue;
      for (let i = 0; i < 2; i++) if (t.owner[2 * w + i] === null) out.push(tupleKey(t.ip(w, i), t.port[2 * w + i], t.ip(w, 1 - i), t.port[2 * w + 1 - i]));
      if (out.length > MAX_LOOKUPS) return null;
    }
    return out;
  }

  /** The ports whose connected sockets a scan reads: the captured ones and the server ports of watched connections. */
  private wantedPorts(): number[] | null {
    const ports = new Set(this.o.ports ?? []);
    const t = this.t;
    for (let w = 0; w < t.hi; w++) {
      if (t.flags[w] === 0) continue;
      ports.add(t.port[2 * w + 1]);
      if (ports.size > 64) return null;
    }
    return [...ports];
  }

  /** Arrivals a second since the last reading (kept between readings made less than 50 ms apart). */
  private measureRate(t: number): void {
    const dt = t - this.openedSince;
    if (dt < 50) return;
    this.rate = (this.opened * 1000) / dt;
    this.opened = 0;
    this.openedSince = t;
  }

  /**
   * Joins a reading to the watched connections: owners of those still waiting for one (all the
   * reading can name: the connected sockets were read only for `connected`), and on a full reading
   * the owners kept once a socket is gone and the kernel cross-check. A connection's view is built
   * only on full readings (at most one a second) or to tell a refused connection.
   */
  private join(ix: SocketIndex, startedAt: number, full: boolean, connected: boolean, crossCheck: boolean): void {
    this.resolve(ix, startedAt, connected);
    if (!full) return;
    const now = performance.now();
    const asked = new Set(ix.scan.timeWaitAsked);
    const t = this.t;
    for (let w = 0; w < t.hi; w++) {
      const f = t.flags[w];
      if (f === 0) continue;
      const closed = (f & W.CLOSED) !== 0;
      const pending = (f & W.PENDING) !== 0;
      // without the connected sockets, only a closed connection's are known to be gone
      if (!pending && (connected || closed)) this.keepLastOwner(ix, w);
      if (crossCheck) {
        // an open connection is compared only with the connected sockets read
        if (!closed && !connected) continue;
        // Without building its view: a connection that waits for TIME_WAIT readings this is not,
        // or one closed less than the settle time before the reading (compare would leave it).
        // Once a pair it waited for was read (or dropped by a failed reading), it waits no more:
        // compare asks again if it must.
        const waits = t.waitsFor[w];
        if (waits !== null) {
          if (waits.every((p) => this.timeWaitPending.has(p) && !asked.has(p))) continue;
          t.waitsFor[w] = null;
        }
        if (closed && ix.at - t.closedTs[w] < this.o.settleMs) continue;
        if (closed && this.leftUnchecked(ix, w, asked)) continue;
        if (this.tracker.fields(t.idNum[w], this.f)) this.compare(ix, w, this.f, asked);
        else this.forget(w);
      } else if (!this.o.crossCheck && !pending && !this.mayLoseOwner(w)) {
        this.forget(w);
      } else if (t.closedAt[w] > 0 && now - t.closedAt[w] > CROSS_CHECK_WITHIN_MS && !pending) {
        // no reading could be compared since it closed (packets kept coming faster than the tracker
        // caught up with the readings): left unchecked, its sides counted
        this.countUnchecked(w);
        this.forget(w);
      }
    }
  }

  /** Endpoints of closed connections, from the last reading: nothing read later could name them better. */
  private settleClosed(ix: SocketIndex): void {
    const t = this.t;
    if (t.pendingCount === 0) return;
    for (let w = 0; w < t.hi; w++) if ((t.flags[w] & (W.PENDING | W.CLOSED)) === (W.PENDING | W.CLOSED)) this.attributeConnection(ix, w, false, false);
  }

  /** A new reading, started at `startedAt`. */
  private resolve(ix: SocketIndex, startedAt: number, connected: boolean): void {
    const t = this.t;
    for (let w = 0; w < t.hi; w++) {
      const f = t.flags[w];
      if ((f & W.PENDING) === 0) continue;
      // an open connection's sockets are only known to a reading of the connected sockets; one
      // that opened after the reading started names it only by a socket it found (not finding it
      // tells nothing, and would name the server endpoint through the listener)
      const closed = (f & W.CLOSED) !== 0;
      if (!closed && !connected) continue;
      this.attributeConnection(ix, w, true, connected, !closed && t.since[w] > startedAt);
    }
  }

  private forget(w: number): void {
    this.t.remove(w);
  }

  /** Owned through its own socket and not marked as the last owner yet: a later reading may see the socket gone. */
  private mayLoseOwner(w: number): boolean {
    for (let i = 0; i < 2; i++) {
      const a = this.t.owner[2 * w + i];
      if (a?.process && !a.process.lastOwner && a.process.via === 'socket') return true;
    }
    return false;
  }

  /**
   * Names what this index can of a watched connection's endpoints. `reading`: the index is a new
   * reading (it counts as a try); otherwise it is the last one, used for closed connections only,
   * and a server endpoint with no listener in it waits for a reading of its own (a listener that
   * came since, or a refused connection to tell apart).
   */
  private attributeConnection(ix: SocketIndex, w: number, reading: boolean, connected: boolean, foundOnly = false): void {
    const t = this.t;
    if (reading && !foundOnly && t.tries[w] < 255) t.tries[w]++;
    const giveUp = t.tries[w] >= this.o.maxTries && performance.now() - t.since[w] >= GIVE_UP_MS;
    const closed = t.isClosed(w);
    const wasRefused = (t.flags[w] & W.REFUSED) !== 0;
    let id: string | null = null;
    for (let i = 0; i < 2; i++) {
      if (t.owner[2 * w + i] !== null) continue;
      const j = 1 - i;
      const ip = t.ip(w, i);
      const port = t.port[2 * w + i];
      const peerIp = t.ip(w, j);
      const peerPort = t.port[2 * w + j];
      const s = connected || closed ? ix.socket(ip, port, peerIp, peerPort) : undefined;
      if (foundOnly && (!s || s.owners.length === 0)) continue;
      // a closed connection's socket missing from a reading will not come back
      const lastTry = giveUp || (closed && !s);
      if (!reading && i === 1 && !s && !wasRefused && ix.isLocal(ip) && !ix.listener(ip, port)) continue;
      const refused = i === 1 && lastTry && !s && (wasRefused || (!ix.listener(ip, port) && this.refused(w)));
      const a: Attribution | 'retry' =
        refused && wasRefused && ix.isLocal(ip) ? noOwner('not-listening') : attribute(ix, SIDES[i], ip, port, peerIp, peerPort, null, lastTry, refused, s ?? null);
      if (a === 'retry') continue;
      t.owner[2 * w + i] = a;
      if (!reading) this.st.settledWithoutReading++;
      this.count(a);
      if (!this.tracker.annotate((id ??= t.id(w)), SIDES[i], ownerNote(a))) {
        this.forget(w);
        return;
      }
    }
    if (t.owner[2 * w] !== null && t.owner[2 * w + 1] !== null) t.settled(w);
  }

  /** The server never answered but with a reset (or not at all): no socket of its own ever existed. */
  private refused(w: number): boolean {
    const f = this.f;
    if (!this.tracker.fields(this.t.idNum[w], f)) return false;
    return f.closeKind === REFUSED || (Number.isNaN(f.num[N.synAckAt]) && f.num[N.packets1] === 0);
  }

  /** A socket that lost its process (TIME_WAIT, closed) keeps its last owner, marked as such. */
  private keepLastOwner(ix: SocketIndex, w: number): void {
    const t = this.t;
    for (let i = 0; i < 2; i++) {
      const a = t.owner[2 * w + i];
      if (!a?.process || a.process.lastOwner || a.process.via !== 'socket') continue;
      const s = ix.socket(t.ip(w, i), t.port[2 * w + i], t.ip(w, 1 - i), t.port[2 * w + 1 - i]);
      if (s && s.inode !== 0 && s.owners.length > 0) continue;
      const p: EndpointProcess = { ...a.process, lastOwner: true };
      t.owner[2 * w + i] = { process: p, reason: null };
      this.tracker.annotate(t.id(w), SIDES[i], { process: p });
    }
  }

  /**
   * A closed connection this reading cannot compare, told without building its view: every side
   * either settled by its owner (not local, not listening), counted unchecked already, or absent
   * from the live sockets, not in a TIME_WAIT reading, and with no room left in the queue of those
   * (what compare would find, counting each such side once in `notCompared`). Most connections of
   * a busy server end this way: the queue holds a few seconds' worth of what 32 pairs a reading
   * can read. Forgets it and returns true; false (nothing done) when compare must look.
   *
   * One difference from compare, taken for not building the view: compare waits until no packet
   * has come for the settle time, this only until the close is that old. A connection that still
   * gets packets after closing (a retransmitted FIN, segments after a reset) is counted here one
   * reading earlier than compare would; it is counted once all the same, and its sockets being
   * gone, a later reading could only have compared it had the queue found room by then.
   */
  private leftUnchecked(ix: SocketIndex, w: number, asked: ReadonlySet<number>): boolean {
    const t = this.t;
    if (this.timeWaitWanted.length < TIME_WAIT_QUEUE || t.isPending(w)) return false;
    for (let i = 0; i < 2; i++) {
      if (!this.uncounted(w, i)) continue;
      const j = 1 - i;
      const port = t.port[2 * w + i];
      const peerPort = t.port[2 * w + j];
      if (ix.socket(t.ip(w, i), port, t.ip(w, j), peerPort)) return false;
      const pair = portPair(port, peerPort);
      if (asked.has(pair) || this.timeWaitPending.has(pair)) return false;
    }
    this.countUnchecked(w);
    this.forget(w);
    return true;
  }

  /**
   * A side the cross-check still owes a count: local and with a socket of its own (not settled
   * as not local or not listening), and not counted in notCompared yet.
   */
  private uncounted(w: number, i: number): boolean {
    const t = this.t;
    const a = t.owner[2 * w + i];
    if (a && (a.reason === 'not-local' || a.reason === 'not-listening')) return false;
    if (t.counted[2 * w + i] === UNCHECKED) return false;
    // an endpoint still looking for its owner: local by the last reading's addresses
    return a !== null || this.latest === null || this.latest.isLocal(t.ip(w, i));
  }

  /** Counts in notCompared, once each, the sides of a connection left without a comparison. */
  private countUnchecked(w: number): void {
    for (let i = 0; i < 2; i++) this.countSide(w, i);
  }

  private countSide(w: number, i: number): void {
    if (!this.uncounted(w, i)) return;
    this.t.counted[2 * w + i] = UNCHECKED;
    this.st.crossCheck.notCompared++;
  }

  /**
   * Compares a connection's settled local endpoints with the reading, from its fields `c` (read
   * from the tracker's table, no view built). Its addresses and ports are the watch table's, copied
   * from the same connection's fields when it opened (a connection's endpoints never change).
   */
  private compare(ix: SocketIndex, w: number, c: ConnFields, asked: ReadonlySet<number>): void {
    const t = this.t;
    if (ix.at - c.num[N.lastSeenAt] < this.o.settleMs) return;
    let finished = 0;
    // the TIME_WAIT readings waited for, and whether any side could be taken further without one
    let waits: number[] | null = null;
    let other = false;
    for (let i = 0; i < 2; i++) {
      const a = t.owner[2 * w + i];
      if ((a && (a.reason === 'not-local' || a.reason === 'not-listening')) || t.counted[2 * w + i] === UNCHECKED) {
        finished++;
        continue;
      }
      const j = 1 - i;
      const ip = t.ip(w, i);
      const port = t.port[2 * w + i];
      const peerPort = t.port[2 * w + j];
      if (!a && !ix.isLocal(ip)) {
        other = true;
        continue;
      }
      const kv = kernelView(ix, ip, port, t.ip(w, j), peerPort);
      const pair = kv ? -1 : portPair(port, peerPort);
      if (!kv && !asked.has(pair)) {
        // not among the live sockets: in TIME_WAIT or gone; the next steady scan reads it
        if (this.timeWaitPending.has(pair)) {
          (waits ??= []).push(pair);
          continue;
        }
        if (this.timeWaitWanted.length < TIME_WAIT_QUEUE) {
          this.timeWaitPending.add(pair);
          this.timeWaitWanted.push({ local: port, remote: peerPort, at: performance.now(), id: t.idNum[w], side: i });
          (waits ??= []).push(pair);
        } else {
          // more closing connections than a steady scan reads: this side goes unchecked, counted
          // once (the other side, still live, keeps the connection watched)
          this.countSide(w, i);
          finished++;
        }
        continue;
      }
      other = true;
      const kstate = kv?.state ?? 'GONE';
      const state = TCP_STATES[c.state[i]];
      const was = c.notes[i]?.kernel;
      const agrees = sameState(state, kstate);
      const k: KernelEndpoint = {
        state: kstate,
        agrees,
        at: ix.at,
        rxQueue: kv?.rxQueue ?? 0,
        txQueue: kv?.txQueue ?? 0,
        srttMs: kv?.info ? kv.info.srttMs : (ix.scan.tcpInfo ? null : (was?.srttMs ?? null)),
        retransTotal: kv?.info ? kv.info.retransTotal : (ix.scan.tcpInfo ? null : (was?.retransTotal ?? null)),
        cwnd: kv?.info ? kv.info.cwnd : (ix.scan.tcpInfo ? null : (was?.cwnd ?? null)),
      };
      this.tracker.annotate(t.id(w), SIDES[i], { kernel: k });
      const cc = this.st.crossCheck;
      const states = `${state}/${kstate}`;
      if (agrees) {
        t.suspect[2 * w + i] = null;
        cc.compared++;
        cc.agreed++;
        if (kstate === 'GONE' || kstate === 'TIME_WAIT' || kstate === 'CLOSED') finished++;
      } else if (t.suspect[2 * w + i] === states) {
        // held on two readings: not a packet still in flight
        if (t.counted[2 * w + i] !== states) {
          t.counted[2 * w + i] = states;
          cc.compared++;
          cc.disagreements++;
          cc.recent.push({ connectionId: t.id(w), side: SIDES[i], inferred: state, kernel: kstate, at: ix.at });
          if (cc.recent.length > 100) cc.recent.shift();
        }
        if (kstate === 'GONE') finished++;
      } else {
        t.suspect[2 * w + i] = states;
      }
    }
    t.waitsFor[w] = other ? null : waits;
    // Both ends settled for good: nothing more to learn from the kernel.
    if (finished === 2 && !t.isPending(w)) this.forget(w);
  }

  private keepCounters(at: number, netstat: { counters: Record<string, number> }[]): void {
    const sum: Record<string, number> = {};
    for (const n of netstat) for (const [k, v] of Object.entries(n.counters)) sum[k] = (sum[k] ?? 0) + v;
    this.counters.push({ at, c: sum });
    while (this.counters.length > 2 && this.counters[1].at <= at - COUNTER_WINDOW_MS) this.counters.shift();
  }

  private count(a: Attribution): void {
    const o = this.st.owners;
    o.endpoints++;
    if (a.process) {
      o.owned++;
      if (a.process.via === 'listener') o.viaListener++;
      else o.viaSocket++;
    } else o.byReason[a.reason]++;
  }
}

/** An event's connection as a number (-1 if its text is not one): the tracker's records carry it so; an event given as an object, as text. */
function idOf(e: EventRecord): number {
  return e.idNumber >= 0 ? e.idNumber : connectionIdNumber(e.connectionId);
}

/** The kernel's state and the inferred one agree; a socket the kernel no longer has is CLOSED. */
export function sameState(inferred: TcpState, kernel: TcpState | 'GONE'): boolean {
  if (inferred === kernel) return true;
  return kernel === 'GONE' && (inferred === 'CLOSED' || inferred === 'LISTEN');
}

function ephemeralPorts(): number {
  try {
    const [lo, hi] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'latin1').trim().split(/\s+/).map(Number);
    if (hi >= lo) return hi - lo + 1;
  } catch {
    // not Linux, or not readable: the default range
  }
  return DEFAULT_DIAGNOSE.ephemeralPorts;
}

function localAddresses(): string[] {
  const out: string[] = [];
  for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) out.push(a.address);
  return out;
}
