import type { TrackerApi } from '../track/api';
import type { ConnectionView } from '../track/connection';
import type { Side } from '../track/states';
import { DEFAULT_DIAGNOSE, type DiagnoseOptions, type Diagnosis } from './diagnose';

// The diagnoses a capture file supports on its own, without this machine's socket tables: what
// the packets show happened, over the whole capture (live mode says what holds now, from the
// kernel's tables as well: diagnose.ts).
//
//   refused           a port answered SYNs with RST; the ports of the same address that did accept
//                     connections in the capture are named beside it.
//   syn-flood         at least `synFlood` connection attempts to one port never completed the
//                     handshake (SYN unanswered, or SYN+ACK never acknowledged).
//   time-wait-pileup  at some moment at least `timeWaitShare` of the ephemeral port range (Linux's
//                     default, 28 232 ports, unless given) from one client address to one server
//                     endpoint was in TIME_WAIT on the client: new connections to it were about to
//                     find no free port.
//   close-wait-held   an endpoint stayed in CLOSE_WAIT (its peer had closed, it had not) at least
//                     `closeWaitMs` of capture time.

const at = (ip: string, port: number) => (ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`);
const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
const seconds = (ms: number) => `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
/** Connections named in a diagnosis: the newest 20. */
const MAX_IDS = 20;
/** close-wait-held diagnoses reported one by one at most; the rest are counted in the last. */
const MAX_CLOSE_WAIT = 20;

interface Group {
  ip: string;
  port: number;
  n: number;
  ids: string[];
  sources: Set<string>;
  first: number;
  last: number;
}

/**
 * Follows a file's connections (events while they are tracked, records as they leave the table)
 * and says at the end what went wrong. Its state is bounded: per server endpoint a few counters
 * (and up to 20 ids), per client pair a TIME_WAIT count, and the endpoints in CLOSE_WAIT or
 * TIME_WAIT at the moment.
 */
export class FileDiagnoser {
  private readonly o: DiagnoseOptions;
  private readonly refusedBy = new Map<string, Group>();
  private readonly halfOpenBy = new Map<string, Group>();
  /** Ports that accepted a connection in the capture, by server address. */
  private readonly accepted = new Map<string, Set<number>>();
  /** Client endpoints in TIME_WAIT now, by connection id: their pair's key. */
  private readonly inTimeWait = new Map<string, string>();
  private readonly timeWait = new Map<string, { client: string; server: string; now: number; peak: number; peakAt: number; ids: string[] }>();
  private readonly closeWaitSince = new Map<string, number>();
  private readonly held: { id: string; side: Side; ms: number; endpoint: string; peer: string; ended: boolean }[] = [];
  private heldCount = 0;
  private lastTs = 0;

  /**
   * `clock` is the capture time of the packet being tracked (an event's own stamp is not kept when
   * the tracker keeps no ladder, as in analyze).
   */
  constructor(
    private readonly tracker: TrackerApi,
    private readonly clock: () => number,
    o: Partial<DiagnoseOptions> = {},
  ) {
    this.o = { ...DEFAULT_DIAGNOSE, ...o };
    tracker.onEvent((e) => {
      if (e.type !== 'state') return;
      const ts = clock();
      if (ts > this.lastTs) this.lastTs = ts;
      if (e.to === 'CLOSE_WAIT') this.closeWaitSince.set(`${e.connectionId} ${e.side}`, ts);
      else if (e.from === 'CLOSE_WAIT') this.closeWaitEnded(e.connectionId, e.side, ts, false);
      if (e.side !== 'client') return;
      if (e.to === 'TIME_WAIT') this.enterTimeWait(e.connectionId, ts);
      else if (e.from === 'TIME_WAIT') this.leaveTimeWait(e.connectionId);
    });
    tracker.onRemove((c) => this.onRecord(c));
  }

  private onRecord(c: ConnectionView): void {
    const last = c.lastSeenAt ?? c.endedAt ?? c.startedAt;
    if (last > this.lastTs) this.lastTs = last;
    for (const side of ['client', 'server'] as Side[]) {
      const k = `${c.id} ${side}`;
      // still open as it leaves the table: the end of the capture (or an eviction) is as far as it was seen to hold
      if (this.closeWaitSince.has(k)) this.closeWaitEnded(c.id, side, c.status === 'open' ? Math.max(last, this.clock()) : last, c.status === 'open', c);
    }
    if (this.inTimeWait.has(c.id)) this.leaveTimeWait(c.id);
    if (c.closeKind === 'refused') {
      this.add(this.refusedBy, c, last);
      return;
    }
    if (c.handshake.ackAt !== null || (c.handshake.synAckAt !== null && c.counts.client.bytes + c.counts.server.bytes > 0)) {
      let ports = this.accepted.get(c.server.ip);
      if (!ports) this.accepted.set(c.server.ip, (ports = new Set()));
      if (ports.size < 1024) ports.add(c.server.port);
      return;
    }
    // an attempt whose handshake never completed, and which is not midstream traffic
    if (c.handshake.synAt !== null && c.counts.client.bytes === 0 && c.counts.server.bytes === 0 && c.closeKind !== 'rst') this.add(this.halfOpenBy, c, last);
  }

  private add(by: Map<string, Group>, c: ConnectionView, last: number): void {
    const k = at(c.server.ip, c.server.port);
    let g = by.get(k);
    if (!g) by.set(k, (g = { ip: c.server.ip, port: c.server.port, n: 0, ids: [], sources: new Set(), first: c.startedAt, last }));
    g.n++;
    g.ids.push(c.id);
    if (g.ids.length > MAX_IDS) g.ids.shift();
    if (g.sources.size < 65_536) g.sources.add(c.client.ip);
    g.first = Math.min(g.first, c.startedAt);
    g.last = Math.max(g.last, last);
  }

  private enterTimeWait(id: string, ts: number): void {
    const c = this.tracker.get(id);
    if (!c) return;
    const key = `${c.client.ip} ${at(c.server.ip, c.server.port)}`;
    let g = this.timeWait.get(key);
    if (!g) this.timeWait.set(key, (g = { client: c.client.ip, server: at(c.server.ip, c.server.port), now: 0, peak: 0, peakAt: ts, ids: [] }));
    g.now++;
    if (g.now > g.peak) {
      g.peak = g.now;
      g.peakAt = ts;
    }
    g.ids.push(id);
    if (g.ids.length > MAX_IDS) g.ids.shift();
    this.inTimeWait.set(id, key);
  }

  private leaveTimeWait(id: string): void {
    const key = this.inTimeWait.get(id);
    if (key === undefined) return;
    this.inTimeWait.delete(id);
    const g = this.timeWait.get(key);
    if (g) g.now--;
  }

  private closeWaitEnded(id: string, side: Side, ts: number, stillOpen: boolean, view?: ConnectionView): void {
    const k = `${id} ${side}`;
    const since = this.closeWaitSince.get(k);
    this.closeWaitSince.delete(k);
    if (since === undefined || ts - since < this.o.closeWaitMs) return;
    this.heldCount++;
    if (this.held.length >= MAX_CLOSE_WAIT) return;
    const c = view ?? this.tracker.get(id);
    if (!c) return;
    const me = c[side];
    const peer = c[side === 'client' ? 'server' : 'client'];
    this.held.push({ id, side, ms: ts - since, endpoint: at(me.ip, me.port), peer: at(peer.ip, peer.port), ended: !stillOpen });
  }

  /** What went wrong over the capture; call once every connection has left the table. */
  diagnoses(): Diagnosis[] {
    const out: Diagnosis[] = [];
    for (const [k, since] of this.closeWaitSince) {
      const [id, side] = k.split(' ') as [string, Side];
      this.closeWaitEnded(id, side, this.lastTs, true);
      this.closeWaitSince.delete(k);
      void since;
    }
    for (const h of this.held) {
      out.push({
        kind: 'close-wait-held',
        severity: 'warning',
        text: `the peer ${h.peer} closed; ${h.endpoint} (the ${h.side}) did not close its side for ${seconds(h.ms)}${h.ended ? '' : ', and had not when the capture ended'}`,
        evidence: { endpoint: h.endpoint, side: h.side, closeWaitMs: h.ms, closedInCapture: h.ended },
        connections: [h.id],
      });
    }
    if (this.heldCount > this.held.length) {
      out.push({
        kind: 'close-wait-held',
        severity: 'warning',
        text: `${this.heldCount - this.held.length} more endpoints stayed in CLOSE_WAIT ${seconds(this.o.closeWaitMs)} or longer`,
        evidence: { more: this.heldCount - this.held.length },
        connections: [],
      });
    }
    for (const g of this.refusedBy.values()) {
      const others = [...(this.accepted.get(g.ip) ?? [])].filter((p) => p !== g.port).sort((a, b) => Math.abs(a - g.port) - Math.abs(b - g.port));
      const nearest = others.length > 0 ? at(g.ip, others[0]) : null;
      out.push({
        kind: 'refused',
        severity: 'warning',
        text:
          `nothing listened on ${at(g.ip, g.port)}: ${plural(g.n, 'attempt')} refused` +
          (nearest ? ` — ${nearest}${others.length > 1 ? ` (and ${plural(others.length - 1, 'other port')})` : ''} accepted connections in the same capture` : ''),
        evidence: { attempts: g.n, sources: g.sources.size, firstAt: g.first, lastAt: g.last, acceptedPortsOnAddress: others.slice(0, 20) },
        connections: [...g.ids].reverse(),
        listener: { ip: g.ip, port: g.port },
      });
    }
    for (const g of this.halfOpenBy.values()) {
      if (g.n < this.o.synFlood) continue;
      out.push({
        kind: 'syn-flood',
        severity: 'error',
        text:
          `${plural(g.n, 'connection attempt')} to ${at(g.ip, g.port)} from ${plural(g.sources.size, 'address', 'addresses')} never completed the handshake ` +
          `over ${seconds(g.last - g.first)}: a SYN flood, or clients that cannot complete it`,
        evidence: { halfOpen: g.n, sources: g.sources.size, firstAt: g.first, lastAt: g.last },
        connections: [...g.ids].reverse(),
        listener: { ip: g.ip, port: g.port },
      });
    }
    const limit = Math.max(1, Math.floor(this.o.timeWaitShare * this.o.ephemeralPorts));
    for (const g of this.timeWait.values()) {
      if (g.peak < limit) continue;
      out.push({
        kind: 'time-wait-pileup',
        severity: 'warning',
        text:
          `${g.peak} connections from ${g.client} to ${g.server} were in TIME_WAIT on the client at once, of ${this.o.ephemeralPorts} ephemeral ports: ` +
          `new connections to it were about to find no free port — reuse connections, or let the server close first`,
        evidence: { timeWaitPeak: g.peak, peakAt: g.peakAt, ephemeralPorts: this.o.ephemeralPorts, share: g.peak / this.o.ephemeralPorts },
        connections: [...g.ids].reverse(),
      });
    }
    return out;
  }
}
