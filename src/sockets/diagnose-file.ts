import type { ConnectionView, EndpointView } from '../track/connection';
import type { Side } from '../track/states';
import { at, DEFAULT_DIAGNOSE, type DiagnoseOptions, type Diagnosis } from './diagnose';

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
//                     find no free port. A client that closed first holds TIME_WAIT for 2×MSL from
//                     its connection's end; the count at a moment is that of such ends in the 2×MSL
//                     before it (records come about in the order of their ends; one out of order
//                     counts from where it comes).
//   close-wait-held   an endpoint still in CLOSE_WAIT (its peer had closed, it had not) when the
//                     capture ends (or its connection is evicted), its last packet at least
//                     `closeWaitMs` of capture time before. One that closed within the capture is
//                     not timed: records carry no time of each FIN.
//
// Everything is read from the records as connections leave the table, none from the tracker's
// events: a sink would make the tracker build every event, a third more CPU for analyze.

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
const seconds = (ms: number) => `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
/** Connections named in a diagnosis: the newest 20. */
const MAX_IDS = 20;
/** close-wait-held diagnoses reported one by one at most; the rest are counted in the last. */
const MAX_CLOSE_WAIT = 20;

/** What the diagnoser reads of a connection that leaves the table: a ConnectionView has it all. */
export type DiagnosedConnection = Pick<ConnectionView, 'id' | 'status' | 'startedAt' | 'endedAt' | 'lastSeenAt' | 'closeKind' | 'closedBy'> & {
  readonly client: Pick<EndpointView, 'ip' | 'port' | 'state'>;
  readonly server: Pick<EndpointView, 'ip' | 'port' | 'state'>;
  readonly handshake: Pick<ConnectionView['handshake'], 'synAt' | 'synAckAt' | 'ackAt'>;
  readonly counts: { readonly client: Pick<ConnectionView['counts']['client'], 'bytes'>; readonly server: Pick<ConnectionView['counts']['server'], 'bytes'> };
};

/** One client address's connections to one server endpoint that it closed first. */
interface TimeWaitPair {
  client: string;
  server: string;
  /** Ends and client ports in the order they came, from `head` on those within 2×MSL of the newest. */
  ends: number[];
  ports: number[];
  head: number;
  /** Client ports in TIME_WAIT now, with the end that put each there (a port used again ends its TIME_WAIT). */
  live: Map<number, number>;
  /** Connections that took a port still in TIME_WAIT (the kernel's tcp_tw_reuse, or a peer's timestamps). */
  reused: number;
  peak: number;
  peakAt: number;
  ids: string[];
}

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
 * Follows a file's connections as they leave the table and says at the end what went wrong. Its
 * state is bounded: per server endpoint a few counters (and up to 20 ids), per client pair the
 * ends of its connections within the last 2×MSL, up to 20 CLOSE_WAIT endpoints.
 */
export class FileDiagnoser {
  private readonly o: DiagnoseOptions;
  private readonly refusedBy = new Map<string, Group>();
  private readonly halfOpenBy = new Map<string, Group>();
  /** Ports that accepted a connection in the capture, by server address. */
  private readonly accepted = new Map<string, Set<number>>();
  private readonly timeWait = new Map<string, TimeWaitPair>();
  /**
   * The pair of the last connection that ended in TIME_WAIT, and what named it: a capture's
   * connections mostly come from few clients to few servers, so the next one is most often the
   * same pair, found without making its key.
   */
  private lastPair: TimeWaitPair | null = null;
  private lastClient = '';
  private lastServer = '';
  private lastPort = -1;
  private readonly held: { id: string; side: Side; ms: number; endpoint: string; peer: string }[] = [];
  private heldCount = 0;

  /**
   * `clock`: the capture time of the newest packet; `timeWaitMs`: how long a TIME_WAIT lasts (2×MSL).
   */
  constructor(
    /** Where the records come from: a tracker, or anything that hands them on as one does. */
    tracker: { onRemove(sink: (c: DiagnosedConnection) => void): void },
    private readonly clock: () => number,
    private readonly timeWaitMs: number,
    o: Partial<DiagnoseOptions> = {},
  ) {
    this.o = { ...DEFAULT_DIAGNOSE, ...o };
    tracker.onRemove((c) => this.onRecord(c));
  }

  private onRecord(c: DiagnosedConnection): void {
    const last = c.lastSeenAt ?? c.endedAt ?? c.startedAt;
    if (c.status === 'open') {
      for (const side of ['client', 'server'] as Side[]) if (c[side].state === 'CLOSE_WAIT') this.closeWait(c, side, Math.max(last, this.clock()) - last);
    }
    if (c.closeKind === 'fin' && c.closedBy === 'client' && c.endedAt !== null) this.endedInTimeWait(c, c.endedAt);
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

  private add(by: Map<string, Group>, c: DiagnosedConnection, last: number): void {
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

  /** The client closed first: its port is in TIME_WAIT from `end` for 2×MSL, or until it is used again. */
  private endedInTimeWait(c: DiagnosedConnection, end: number): void {
    const client = c.client.ip;
    const server = c.server.ip;
    const serverPort = c.server.port;
    let g = this.lastPair;
    if (g === null || client !== this.lastClient || server !== this.lastServer || serverPort !== this.lastPort) {
      const key = `${client} ${server} ${serverPort}`;
      let pair = this.timeWait.get(key);
      if (!pair) {
        pair = { client, server: at(server, serverPort), ends: [], ports: [], head: 0, live: new Map(), reused: 0, peak: 0, peakAt: end, ids: [] };
        this.timeWait.set(key, pair);
      }
      g = this.lastPair = pair;
      this.lastClient = client;
      this.lastServer = server;
      this.lastPort = serverPort;
    }
    while (g.head < g.ends.length && g.ends[g.head] <= end - this.timeWaitMs) {
      const port = g.ports[g.head];
      if (g.live.get(port) === g.ends[g.head]) g.live.delete(port);
      g.head++;
    }
    if (g.head > 4096 && g.head * 2 > g.ends.length) {
      g.ends = g.ends.slice(g.head);
      g.ports = g.ports.slice(g.head);
      g.head = 0;
    }
    const port = c.client.port;
    if (g.live.has(port)) g.reused++;
    g.live.set(port, end);
    g.ends.push(end);
    g.ports.push(port);
    if (g.live.size > g.peak) {
      g.peak = g.live.size;
      g.peakAt = end;
    }
    g.ids.push(c.id);
    if (g.ids.length > MAX_IDS) g.ids.shift();
  }

  private closeWait(c: DiagnosedConnection, side: Side, ms: number): void {
    if (ms < this.o.closeWaitMs) return;
    this.heldCount++;
    if (this.held.length >= MAX_CLOSE_WAIT) return;
    const me = c[side];
    const peer = c[side === 'client' ? 'server' : 'client'];
    this.held.push({ id: c.id, side, ms, endpoint: at(me.ip, me.port), peer: at(peer.ip, peer.port) });
  }

  /** What went wrong over the capture; call once every connection has left the table. */
  diagnoses(): Diagnosis[] {
    const out: Diagnosis[] = [];
    for (const h of this.held) {
      out.push({
        kind: 'close-wait-held',
        severity: 'warning',
        text: `the peer ${h.peer} closed; ${h.endpoint} (the ${h.side}) had not closed its side when the capture ended, ${seconds(h.ms)} after its last packet`,
        evidence: { endpoint: h.endpoint, side: h.side, sinceLastPacketMs: h.ms },
        connections: [h.id],
      });
    }
    if (this.heldCount > this.held.length) {
      out.push({
        kind: 'close-wait-held',
        severity: 'warning',
        text: `${this.heldCount - this.held.length} more endpoints were held in CLOSE_WAIT ${seconds(this.o.closeWaitMs)} or longer at the end of the capture`,
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
          `${g.peak} connections from ${g.client} to ${g.server} were in TIME_WAIT on the client at once, of ${this.o.ephemeralPorts} ephemeral ports; ` +
          (g.reused > 0
            ? `${g.reused} connections already took a port still in TIME_WAIT (tcp_tw_reuse): without that, new connections were about to find no free port`
            : `new connections to it were about to find no free port`) +
          ` — reuse connections, or let the server close first`,
        evidence: { timeWaitPeak: g.peak, portsReusedInTimeWait: g.reused, peakAt: g.peakAt, timeWaitMs: this.timeWaitMs, ephemeralPorts: this.o.ephemeralPorts, share: g.peak / this.o.ephemeralPorts },
        connections: [...g.ids].reverse(),
      });
    }
    return out;
  }
}
