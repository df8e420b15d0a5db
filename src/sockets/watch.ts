import { readFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import type { EventBus } from '../events/bus';
import type { TcpEvent } from '../events/types';
import type { TrackerApi } from '../track/api';
import { OWNER_REASONS, type ConnectionView, type EndpointProcess, type KernelEndpoint, type OwnerReason } from '../track/connection';
import type { Side, TcpState } from '../track/states';
import { attribute, kernelView, SocketIndex, type Attribution, type Listener } from './attribute';
import { DEFAULT_DIAGNOSE, diagnose, type DiagnoseOptions, type Diagnosis, type Disagreement } from './diagnose';
import type { Scanner } from './scan-thread';

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
   * compared only once the tracker has caught up with it (or no packet came since), so packets
   * still waiting in the capture buffer do not count as disagreements.
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

interface Watched {
  id: string;
  /** When it was first looked up (performance.now()). */
  since: number;
  serverPort: number;
  tries: number;
  /** Final attributions by side (null while still looking). */
  owner: [Attribution | null, Attribution | null];
  /** A disagreement seen on the last reading, by side: it counts once it holds on the next one. */
  suspect: [string | null, string | null];
  /** Sides whose disagreement was counted already (once per state pair). */
  counted: [string | null, string | null];
}

export interface SocketStats {
  mode: Scanner['mode'];
  scans: number;
  /** Time the scans took in their thread, ms: the last one and all together. */
  lastScanMs: number;
  scanMsTotal: number;
  fdScans: number;
  /** Steady readings left out because nothing had changed (no packet since the last one, nothing left to look up). */
  idleSkips: number;
  /** Endpoints looked up, and how many got an owner (through their own socket or their port's listener). */
  owners: { endpoints: number; owned: number; viaSocket: number; viaListener: number; byReason: Record<OwnerReason, number> };
  /** Settled local endpoints compared with the kernel, and how many agreed. */
  crossCheck: { compared: number; agreed: number; disagreements: number; notCompared: number; recent: Disagreement[] };
  error: string | null;
}

/**
 * Joins the kernel's view of the host's sockets to the tracked connections, off the packet path:
 * a new connection asks for a scan (batched: at most one every `batchMs`), a steady scan every
 * `intervalMs` keeps listeners and the cross-check current. Each answer is written onto the
 * tracker's endpoints as values (tracker.annotate).
 */
export class SocketWatch {
  private readonly o: SocketWatchOptions;
  private readonly watched = new Map<string, Watched>();
  private latest: SocketIndex | null = null;
  private timer: NodeJS.Timeout | null = null;
  private soon: NodeJS.Timeout | null = null;
  private inFlight = false;
  private again = false;
  private lastScanAt = 0;
  private lastFull = 0;
  private closed = false;
  private unsubscribe: (() => void) | null = null;
  private readonly listenersSeen = new Set<(ix: SocketIndex) => void>();
  private readonly st: SocketStats;
  /** When each endpoint entered CLOSE_WAIT (by the packets), by `${id} ${side}`. */
  private readonly closeWaitSince = new Map<string, number>();
  /** TcpExt counters summed over namespaces, one entry per scan within COUNTER_WINDOW_MS. */
  private counters: { at: number; c: Record<string, number> }[] = [];
  private readonly diag: DiagnoseOptions;
  /** TIME_WAIT sockets (or sockets the kernel no longer has) to read at the next steady scan. */
  private timeWaitWanted: { local: number; remote: number }[] = [];
  /** Pairs queued or being read. */
  private timeWaitPending = new Set<string>();
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

  onEvent(e: TcpEvent): void {
    // Every event passes here: a key is built only for the few that touch CLOSE_WAIT.
    if (e.type === 'state') {
      if (e.to === 'CLOSE_WAIT') this.closeWaitSince.set(`${e.connectionId} ${e.side}`, e.ts);
      else if (e.from === 'CLOSE_WAIT') this.closeWaitSince.delete(`${e.connectionId} ${e.side}`);
      return;
    }
    if (e.type === 'connection' && e.phase !== 'opened') {
      if (this.closeWaitSince.size > 0) {
        this.closeWaitSince.delete(`${e.connectionId} client`);
        this.closeWaitSince.delete(`${e.connectionId} server`);
      }
      return;
    }
    if (e.type !== 'connection' || e.phase !== 'opened' || !e.connection) return;
    this.watched.set(e.connectionId, { id: e.connectionId, since: performance.now(), serverPort: e.connection.server.port, tries: 0, owner: [null, null], suspect: [null, null], counted: [null, null] });
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
        connections: this.tracker.list(),
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
    if (full) this.lastFull = 0;
    if (this.inFlight) {
      this.again = true;
      return;
    }
    if (this.soon) return;
    // a slow scan (a busy machine, many sockets) spaces the next one as far: the scanning thread is busy half the time at most
    const wait = Math.max(0, this.lastScanAt + Math.max(this.o.batchMs, this.st.lastScanMs) - performance.now());
    this.soon = setTimeout(() => {
      this.soon = null;
      void this.run(false);
    }, wait);
    this.soon.unref();
  }

  private async run(forceFull: boolean): Promise<void> {
    if (this.closed && !forceFull) return;
    const t = performance.now();
    const full = forceFull || t - this.lastFull >= this.o.intervalMs - 5;
    if (full && !forceFull && this.idle(t)) {
      this.st.idleSkips++;
      this.lastFull = t;
      return;
    }
    this.inFlight = true;
    this.again = false;
    try {
      const timeWait = full && this.o.crossCheck ? this.timeWaitWanted.splice(0, 32) : [];
      const tcpInfo = full && this.o.crossCheck && (forceFull || t - this.lastInfo >= TCP_INFO_EVERY_MS);
      const clockBefore = this.o.packetClock?.() ?? -1;
      const scan = await this.scanner.scan({ tcpInfo, ports: this.wantedPorts(), timeWait, allListeners: this.o.allListeners, freshListeners: full });
      this.lastScanAt = performance.now();
      if (tcpInfo) this.lastInfo = t;
      if (full) {
        this.lastFull = this.lastScanAt;
        this.fullClock = clockBefore;
        this.fullAt = scan.at;
        this.lastIdleFull = this.lastScanAt;
      }
      this.st.scans++;
      this.st.lastScanMs = scan.costMs;
      this.st.scanMsTotal += scan.costMs;
      if (scan.fdScan) this.st.fdScans++;
      const ix = new SocketIndex(scan, localAddresses());
      this.keepCounters(scan.at, scan.netstat);
      this.latest = ix;
      this.join(ix, full && this.o.crossCheck && this.caughtUp(ix.at));
      for (const p of timeWait) this.timeWaitPending.delete(`${p.local} ${p.remote}`);
      for (const f of this.listenersSeen) f(ix);
      this.st.error = null;
    } catch (e) {
      this.st.error = e instanceof Error ? e.message : String(e);
    } finally {
      this.inFlight = false;
    }
    if (this.again) this.request(false);
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
    if (this.timeWaitWanted.length > 0) return false;
    for (const w of this.watched.values()) if (w.owner[0] === null || w.owner[1] === null) return false;
    return true;
  }

  /** Whether the tracker has seen every packet up to the reading's time (or none came since the last look). */
  private caughtUp(at: number): boolean {
    const clock = this.o.packetClock;
    if (!clock) return true;
    const now = clock();
    const idle = now === this.lastClock;
    this.lastClock = now;
    return idle || now >= at;
  }

  /** The ports whose connected sockets a scan reads: the captured ones and the server ports of watched connections. */
  private wantedPorts(): number[] | null {
    const ports = new Set(this.o.ports ?? []);
    for (const w of this.watched.values()) {
      ports.add(w.serverPort);
      if (ports.size > 64) return null;
    }
    return [...ports];
  }

  private join(ix: SocketIndex, crossCheck: boolean): void {
    for (const w of this.watched.values()) {
      const c = this.tracker.get(w.id);
      if (!c) {
        this.watched.delete(w.id);
        continue;
      }
      if (w.owner[0] === null || w.owner[1] === null) this.attributeConnection(ix, w, c);
      else this.keepLastOwner(ix, w, c);
      if (crossCheck) this.compare(ix, w, c);
    }
  }

  private attributeConnection(ix: SocketIndex, w: Watched, c: ConnectionView): void {
    // A reading begun before the connection's first packet cannot hold its sockets: judged on it, a
    // server endpoint would fall back to its listener although its own socket is about to appear.
    if (ix.scan.startedAt < c.startedAt) return;
    w.tries++;
    const lastTry = w.tries >= this.o.maxTries && performance.now() - w.since >= GIVE_UP_MS;
    for (let i = 0; i < 2; i++) {
      if (w.owner[i] !== null) continue;
      const me = i === 0 ? c.client : c.server;
      const peer = i === 0 ? c.server : c.client;
      const refused = c.closeKind === 'refused' || (i === 1 && c.handshake.synAckAt === null && c.counts.server.packets === 0);
      const a = attribute(ix, SIDES[i], me.ip, me.port, peer.ip, peer.port, null, lastTry, refused);
      if (a === 'retry') continue;
      w.owner[i] = a;
      this.count(a);
      this.tracker.annotate(w.id, SIDES[i], a.process ? { process: a.process } : { process: null, processReason: a.reason });
    }
  }

  /** A socket that lost its process (TIME_WAIT, closed) keeps its last owner, marked as such. */
  private keepLastOwner(ix: SocketIndex, w: Watched, c: ConnectionView): void {
    for (let i = 0; i < 2; i++) {
      const a = w.owner[i];
      if (!a?.process || a.process.lastOwner || a.process.via !== 'socket') continue;
      const me = i === 0 ? c.client : c.server;
      const peer = i === 0 ? c.server : c.client;
      const s = ix.socket(me.ip, me.port, peer.ip, peer.port);
      if (s && s.inode !== 0 && s.owners.length > 0) continue;
      const p: EndpointProcess = { ...a.process, lastOwner: true };
      w.owner[i] = { process: p, reason: null };
      this.tracker.annotate(w.id, SIDES[i], { process: p });
    }
  }

  private compare(ix: SocketIndex, w: Watched, c: ConnectionView): void {
    if (ix.at - c.lastSeenAt < this.o.settleMs) return;
    let finished = 0;
    for (let i = 0; i < 2; i++) {
      const a = w.owner[i];
      if (a && (a.reason === 'not-local' || a.reason === 'not-listening')) {
        finished++;
        continue;
      }
      const me = i === 0 ? c.client : c.server;
      const peer = i === 0 ? c.server : c.client;
      if (!a && !ix.isLocal(me.ip)) continue;
      const kv = kernelView(ix, me.ip, me.port, peer.ip, peer.port);
      if (!kv && !ix.scan.timeWaitAsked.includes(`${me.port} ${peer.port}`)) {
        // not among the live sockets: in TIME_WAIT or gone; the next steady scan reads it
        const pair = `${me.port} ${peer.port}`;
        if (this.timeWaitPending.has(pair)) continue;
        if (this.timeWaitWanted.length < 1024) {
          this.timeWaitPending.add(pair);
          this.timeWaitWanted.push({ local: me.port, remote: peer.port });
        } else {
          // more closing connections than a steady scan reads: this one goes unchecked (counted)
          this.st.crossCheck.notCompared++;
          finished++;
        }
        continue;
      }
      const kstate = kv?.state ?? 'GONE';
      const agrees = sameState(me.state, kstate);
      const k: KernelEndpoint = {
        state: kstate,
        agrees,
        at: ix.at,
        rxQueue: kv?.rxQueue ?? 0,
        txQueue: kv?.txQueue ?? 0,
        srttMs: kv?.info ? kv.info.srttMs : (ix.scan.tcpInfo ? null : (me.kernel?.srttMs ?? null)),
        retransTotal: kv?.info ? kv.info.retransTotal : (ix.scan.tcpInfo ? null : (me.kernel?.retransTotal ?? null)),
        cwnd: kv?.info ? kv.info.cwnd : (ix.scan.tcpInfo ? null : (me.kernel?.cwnd ?? null)),
      };
      this.tracker.annotate(w.id, SIDES[i], { kernel: k });
      const cc = this.st.crossCheck;
      const pair = `${me.state}/${kstate}`;
      if (agrees) {
        w.suspect[i] = null;
        cc.compared++;
        cc.agreed++;
        if (kstate === 'GONE' || kstate === 'TIME_WAIT' || kstate === 'CLOSED') finished++;
      } else if (w.suspect[i] === pair) {
        // held on two readings: not a packet still in flight
        if (w.counted[i] !== pair) {
          w.counted[i] = pair;
          cc.compared++;
          cc.disagreements++;
          cc.recent.push({ connectionId: w.id, side: SIDES[i], inferred: me.state, kernel: kstate, at: ix.at });
          if (cc.recent.length > 100) cc.recent.shift();
        }
        if (kstate === 'GONE') finished++;
      } else {
        w.suspect[i] = pair;
      }
    }
    // Both ends settled for good: nothing more to learn from the kernel.
    if (finished === 2 && w.owner[0] !== null && w.owner[1] !== null) this.watched.delete(w.id);
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
