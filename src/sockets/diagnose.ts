import type { ConnectionView, EndpointProcess } from '../track/connection';
import type { Side, TcpState } from '../track/states';
import type { Listener, SocketIndex } from './attribute';

/** A connection whose state, as inferred from its packets, is not the one the kernel reports. */
export interface Disagreement {
  connectionId: string;
  side: Side;
  inferred: TcpState;
  kernel: TcpState | 'GONE';
  at: number;
}

/** Each kind of diagnosis, declared once. */
export const DIAGNOSIS_KINDS = ['close-wait-held', 'refused', 'accept-queue-full', 'syn-flood', 'time-wait-pileup', 'kernel-disagreement'] as const;
export type DiagnosisKind = (typeof DIAGNOSIS_KINDS)[number];

export interface Diagnosis {
  kind: DiagnosisKind;
  severity: 'warning' | 'error';
  /** One sentence in plain words. */
  text: string;
  /** The figures it rests on. */
  evidence: Record<string, unknown>;
  /** Connections it concerns (ids, newest first, at most 20). */
  connections: string[];
  /** The listener it concerns, if any. */
  listener?: { ip: string; port: number };
}

export interface DiagnoseOptions {
  /** An endpoint in CLOSE_WAIT this long (ms) is held by its process. */
  closeWaitMs: number;
  /** Refused attempts this recent (ms) are reported. */
  refusedWindowMs: number;
  /** Half-open connections to one port at which a SYN flood is reported. */
  synFlood: number;
  /** Share of the ephemeral port range in TIME_WAIT from one client address to one server at which a pile-up is reported. */
  timeWaitShare: number;
  /** The ephemeral port range (net.ipv4.ip_local_port_range). */
  ephemeralPorts: number;
}

export const DEFAULT_DIAGNOSE: DiagnoseOptions = { closeWaitMs: 10_000, refusedWindowMs: 60_000, synFlood: 100, timeWaitShare: 0.5, ephemeralPorts: 28_232 };

export interface DiagnoseInput {
  now: number;
  connections: readonly ConnectionView[];
  index: SocketIndex | null;
  /** When each endpoint entered CLOSE_WAIT, by side and connection id. */
  closeWaitSince: Readonly<Record<Side, ReadonlyMap<string, number>>>;
  /** Rise of the kernel's TcpExt counters over the last few seconds, summed over namespaces. */
  counterRise: Record<string, number>;
  disagreements: readonly Disagreement[];
}

/** A command line short enough to read in a sentence. */
const short = (t: string) => (t.length > 60 ? `${t.slice(0, 57)}…` : t);
const who = (p: EndpointProcess | null | undefined): string =>
  p ? `\`${short(p.cmdline || p.command)}\` (pid ${p.pid}${p.user ? `, ${p.user}` : ''})` : 'the process (unknown)';
/** An endpoint as ss writes it: an IPv6 address in brackets. */
export const at = (ip: string, port: number) => (ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`);
const seconds = (ms: number) => `${Math.round(ms / 1000)} s`;
const newest = (ids: string[]) => ids.slice(-20).reverse();

/** The current diagnoses: pure, from what the tracker and the last scan hold. */
export function diagnose(input: DiagnoseInput, o: DiagnoseOptions = DEFAULT_DIAGNOSE): Diagnosis[] {
  const out: Diagnosis[] = [];
  closeWaitHeld(input, o, out);
  refused(input, o, out);
  acceptQueue(input, out);
  synFlood(input, o, out);
  timeWaitPileup(input, o, out);
  disagreement(input, out);
  return out;
}

function closeWaitHeld(input: DiagnoseInput, o: DiagnoseOptions, out: Diagnosis[]): void {
  for (const c of input.connections) {
    for (const side of ['client', 'server'] as Side[]) {
      const e = c[side];
      if (e.state !== 'CLOSE_WAIT') continue;
      const since = input.closeWaitSince[side].get(c.id);
      if (since === undefined || input.now - since < o.closeWaitMs) continue;
      // the kernel's reading, when there is one, must say so too (an older one waits for the next)
      if (e.kernel && e.kernel.state !== 'CLOSE_WAIT') continue;
      const p = e.process ?? null;
      // the kernel's receive queue counts the peer's FIN (one sequence number) beside the data
      const unread = e.kernel && e.kernel.state === 'CLOSE_WAIT' ? Math.max(0, e.kernel.rxQueue - 1) : null;
      out.push({
        kind: 'close-wait-held',
        severity: 'warning',
        text:
          `the peer closed ${at(c[side === 'client' ? 'server' : 'client'].ip, c[side === 'client' ? 'server' : 'client'].port)}; ` +
          `${who(p)} has not closed its socket${p?.fd != null ? ` (fd ${p.fd})` : ''} for ${seconds(input.now - since)}` +
          (unread !== null ? `, with ${unread} bytes still unread` : ''),
        evidence: { endpoint: at(e.ip, e.port), side, pid: p?.pid ?? null, fd: p?.fd ?? null, closeWaitMs: input.now - since, unreadBytes: unread, kernelState: e.kernel?.state ?? null },
        connections: [c.id],
      });
    }
  }
}

function refused(input: DiagnoseInput, o: DiagnoseOptions, out: Diagnosis[]): void {
  const by = new Map<string, { ip: string; port: number; ids: string[]; last: number }>();
  for (const c of input.connections) {
    if (c.closeKind !== 'refused' || (c.endedAt ?? c.lastSeenAt) < input.now - o.refusedWindowMs) continue;
    const k = at(c.server.ip, c.server.port);
    let g = by.get(k);
    if (!g) by.set(k, (g = { ip: c.server.ip, port: c.server.port, ids: [], last: 0 }));
    g.ids.push(c.id);
    g.last = Math.max(g.last, c.endedAt ?? c.lastSeenAt);
  }
  for (const g of by.values()) {
    const live = input.index?.listenersOn(g.ip) ?? [];
    // a listener bound to this very address first, then the nearest port
    const exact = (l: Listener) => (l.ip === '0.0.0.0' || l.ip === '::' ? 1 : 0);
    const nearest = [...live].sort((a, b) => exact(a) - exact(b) || Math.abs(a.port - g.port) - Math.abs(b.port - g.port))[0];
    const listens = input.index?.listener(g.ip, g.port);
    let text = `nothing listens on ${at(g.ip, g.port)}: ${g.ids.length} attempt${g.ids.length === 1 ? '' : 's'} refused`;
    if (listens) text = `${at(g.ip, g.port)} refused ${g.ids.length} attempt${g.ids.length === 1 ? '' : 's'}, though it is listened on now`;
    else if (nearest) text += ` — ${at(nearest.ip, nearest.port)} is listened on by ${who(nearest.owners[0])}`;
    out.push({
      kind: 'refused',
      severity: 'warning',
      text,
      evidence: {
        attempts: g.ids.length,
        lastAt: g.last,
        listenersOnAddress: live.map((l) => ({ ip: l.ip, port: l.port, pids: l.owners.map((x) => x.pid) })),
      },
      connections: newest(g.ids),
      listener: { ip: g.ip, port: g.port },
    });
  }
}

function acceptQueue(input: DiagnoseInput, out: Diagnosis[]): void {
  const ix = input.index;
  if (!ix) return;
  const overflows = input.counterRise.ListenOverflows ?? 0;
  const drops = input.counterRise.ListenDrops ?? 0;
  for (const l of ix.listeners(null)) {
    if (l.backlog === null || l.acceptQueue < l.backlog) continue;
    const waiting = input.connections.filter((c) => c.server.port === l.port && matches(l, c.server.ip) && (c.client.state === 'SYN_SENT' || c.synRetransmits > 0));
    if (overflows === 0 && waiting.length === 0) continue;
    out.push({
      kind: 'accept-queue-full',
      severity: 'error',
      text:
        `the accept queue of ${at(l.ip, l.port)} is full (${l.acceptQueue} waiting, backlog ${l.backlog}): ` +
        `${who(l.owners[0])} is not calling accept() fast enough` +
        (waiting.length > 0 ? `; ${waiting.length} connection${waiting.length === 1 ? '' : 's'} left with SYNs unanswered or retransmitted` : ''),
      evidence: {
        acceptQueue: l.acceptQueue,
        backlog: l.backlog,
        listenOverflowsRise: overflows,
        listenDropsRise: drops,
        synRetransmits: waiting.reduce((n, c) => n + c.synRetransmits, 0),
        pids: l.owners.map((x) => x.pid),
      },
      connections: newest(waiting.map((c) => c.id)),
      listener: { ip: l.ip, port: l.port },
    });
  }
}

function matches(l: Listener, ip: string): boolean {
  return l.ip === ip || l.ip === '0.0.0.0' || l.ip === '::' || l.ip === `::ffff:${ip}`;
}

function synFlood(input: DiagnoseInput, o: DiagnoseOptions, out: Diagnosis[]): void {
  const by = new Map<string, { ip: string; port: number; ids: string[]; sources: Set<string> }>();
  for (const c of input.connections) {
    if (c.status !== 'open' || c.handshake.ackAt !== null) continue;
    if (c.server.state !== 'SYN_RECEIVED' && c.server.state !== 'LISTEN') continue;
    const k = at(c.server.ip, c.server.port);
    let g = by.get(k);
    if (!g) by.set(k, (g = { ip: c.server.ip, port: c.server.port, ids: [], sources: new Set() }));
    g.ids.push(c.id);
    g.sources.add(c.client.ip);
  }
  for (const g of by.values()) {
    if (g.ids.length < o.synFlood) continue;
    const cookies = input.counterRise.SyncookiesSent ?? 0;
    out.push({
      kind: 'syn-flood',
      severity: 'error',
      text:
        `${g.ids.length} half-open connections to ${at(g.ip, g.port)} from ${g.sources.size} address${g.sources.size === 1 ? '' : 'es'}: ` +
        `SYNs without a final ACK — a SYN flood or clients that cannot complete the handshake` +
        (cookies > 0 ? `; the kernel sent ${cookies} SYN cookies` : ''),
      evidence: { halfOpen: g.ids.length, sources: g.sources.size, syncookiesSentRise: cookies, reqQueueFullDropsRise: input.counterRise.TCPReqQFullDrop ?? 0 },
      connections: newest(g.ids),
      listener: { ip: g.ip, port: g.port },
    });
  }
}

function timeWaitPileup(input: DiagnoseInput, o: DiagnoseOptions, out: Diagnosis[]): void {
  const by = new Map<string, { client: string; server: string; ids: string[]; process: EndpointProcess | null }>();
  for (const c of input.connections) {
    if (c.client.state !== 'TIME_WAIT') continue;
    // only a local client runs out of its own ephemeral ports
    if (c.client.processReason === 'not-local' || c.client.process === undefined) continue;
    const k = `${c.client.ip} ${at(c.server.ip, c.server.port)}`;
    let g = by.get(k);
    if (!g) by.set(k, (g = { client: c.client.ip, server: at(c.server.ip, c.server.port), ids: [], process: null }));
    g.ids.push(c.id);
    g.process ??= c.client.process ?? null;
  }
  const limit = Math.max(1, Math.floor(o.timeWaitShare * o.ephemeralPorts));
  for (const g of by.values()) {
    if (g.ids.length < limit) continue;
    out.push({
      kind: 'time-wait-pileup',
      severity: 'warning',
      text:
        `${g.ids.length} connections from ${g.client} to ${g.server} wait in TIME_WAIT, of ${o.ephemeralPorts} ephemeral ports: ` +
        `new connections to it will soon fail to find a free port${g.process ? ` (last opened by ${who(g.process)})` : ''} — reuse connections, or let the server close first`,
      evidence: { timeWait: g.ids.length, ephemeralPorts: o.ephemeralPorts, share: g.ids.length / o.ephemeralPorts },
      connections: newest(g.ids),
    });
  }
}

function disagreement(input: DiagnoseInput, out: Diagnosis[]): void {
  if (input.disagreements.length === 0) return;
  const latest = input.disagreements.slice(-20);
  const d = latest[latest.length - 1];
  out.push({
    kind: 'kernel-disagreement',
    severity: 'warning',
    text:
      `the kernel disagrees with the packets on ${input.disagreements.length} endpoint${input.disagreements.length === 1 ? '' : 's'} ` +
      `(latest: the ${d.side} of connection ${d.connectionId} is ${d.inferred} by its packets, ${d.kernel} in the kernel): packets were lost or filtered out of the capture`,
    evidence: { count: input.disagreements.length, latest },
    connections: newest(latest.map((x) => x.connectionId)),
  });
}
