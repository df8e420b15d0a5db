import type { EndpointProcess } from '../track/connection';
import { CLOSE_KIND_INDEX, connectionIdNumber, FL, ipText, N, TCP_STATE_INDEX, type ConnFields } from '../track/record';
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
  /**
   * The tracked connections, oldest first, each as its fields (read from the tracker's table: no
   * view is built; valid only during the call): every one, or at least those DIAGNOSED lets through.
   */
  connections: (visit: (c: ConnFields) => void) => void;
  index: SocketIndex | null;
  /** When each endpoint entered CLOSE_WAIT, by side and connection number. */
  closeWaitSince: Readonly<Record<Side, ReadonlyMap<number, number>>>;
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

const SIDES: readonly Side[] = ['client', 'server'];
const S_CLOSE_WAIT = TCP_STATE_INDEX.get('CLOSE_WAIT')!;
const S_SYN_SENT = TCP_STATE_INDEX.get('SYN_SENT')!;
const S_SYN_RECEIVED = TCP_STATE_INDEX.get('SYN_RECEIVED')!;
const S_LISTEN = TCP_STATE_INDEX.get('LISTEN')!;
const S_TIME_WAIT = TCP_STATE_INDEX.get('TIME_WAIT')!;
const K_REFUSED = CLOSE_KIND_INDEX.get('refused')!;

const bit = (...states: number[]): number => states.reduce((m, x) => m | (1 << x), 0);

/**
 * The connections a diagnosis can name, all others passed over by every check below: an endpoint
 * in CLOSE_WAIT (closeWaitHeld), a refused attempt (refusedAttempt), a server in SYN_RECEIVED or
 * LISTEN (halfOpen), a client in SYN_SENT or with SYN retransmits (synWaiting), a client in
 * TIME_WAIT (TimeWaitGroups). A walk of the table need read no other (RecordFilter).
 */
export const DIAGNOSED = {
  clientStates: bit(S_CLOSE_WAIT, S_SYN_SENT, S_TIME_WAIT),
  serverStates: bit(S_CLOSE_WAIT, S_SYN_RECEIVED, S_LISTEN),
  refused: true,
  synRetransmits: true,
} as const;

/** A connection's id as the API writes it, and as a number (the CLOSE_WAIT maps' key). */
const idText = (c: ConnFields): string => c.idText ?? String(c.id);
const idNumber = (c: ConnFields): number => (c.idText === null ? c.id : connectionIdNumber(c.idText));

/**
 * A key of endpoint `i` (address and port) without text for an IPv4 one: its address and port as
 * one number; an IPv6 one as ss writes it. Equal endpoints have equal keys.
 */
function endpointKey(c: ConnFields, i: 0 | 1): number | string {
  const v4 = c.ip4[i];
  const port = c.num[i === 0 ? N.port0 : N.port1];
  return v4 >= 0 ? v4 * 65536 + port : at(c.ipText[i], port);
}

/** The current diagnoses: pure, from what the tracker and the last scan hold, in one walk of the connections. */
export function diagnose(input: DiagnoseInput, o: DiagnoseOptions = DEFAULT_DIAGNOSE): Diagnosis[] {
  const out: Diagnosis[] = [];
  const full = fullListeners(input);
  const refused = new Groups<RefusedGroup>();
  const waiting: Waiting[] = [];
  const flood = new Groups<FloodGroup>();
  const timeWait = new TimeWaitGroups();
  input.connections((c) => {
    closeWaitHeld(input, o, c, out);
    refusedAttempt(input, o, c, refused);
    if (full.length > 0) synWaiting(c, waiting);
    halfOpen(c, flood);
    timeWait.add(c);
  });
  refusedDiagnoses(input, refused, out);
  acceptQueue(input, full, waiting, out);
  synFlood(input, o, flood, out);
  timeWaitPileup(o, timeWait, out);
  disagreement(input, out);
  return out;
}

/** Groups by a key, in the order their first member came. */
class Groups<G> {
  readonly list: G[] = [];
  private readonly byKey = new Map<number | string, G>();

  get(key: number | string, make: () => G): G {
    let g = this.byKey.get(key);
    if (g === undefined) {
      g = make();
      this.byKey.set(key, g);
      this.list.push(g);
    }
    return g;
  }
}

function closeWaitHeld(input: DiagnoseInput, o: DiagnoseOptions, c: ConnFields, out: Diagnosis[]): void {
  for (let i = 0 as 0 | 1; i < 2; i++) {
    if (c.state[i] !== S_CLOSE_WAIT) continue;
    const side = SIDES[i];
    const id = idNumber(c);
    if (id < 0) continue;
    const since = input.closeWaitSince[side].get(id);
    if (since === undefined || input.now - since < o.closeWaitMs) continue;
    const notes = c.notes[i];
    const kernel = notes?.kernel;
    // the kernel's reading, when there is one, must say so too (an older one waits for the next)
    if (kernel && kernel.state !== 'CLOSE_WAIT') continue;
    const p = notes?.process ?? null;
    // the kernel's receive queue counts the peer's FIN (one sequence number) beside the data
    const unread = kernel && kernel.state === 'CLOSE_WAIT' ? Math.max(0, kernel.rxQueue - 1) : null;
    const j = (1 - i) as 0 | 1;
    out.push({
      kind: 'close-wait-held',
      severity: 'warning',
      text:
        `the peer closed ${at(ipText(c, j), c.num[j === 0 ? N.port0 : N.port1])}; ` +
        `${who(p)} has not closed its socket${p?.fd != null ? ` (fd ${p.fd})` : ''} for ${seconds(input.now - since)}` +
        (unread !== null ? `, with ${unread} bytes still unread` : ''),
      evidence: { endpoint: at(ipText(c, i), c.num[i === 0 ? N.port0 : N.port1]), side, pid: p?.pid ?? null, fd: p?.fd ?? null, closeWaitMs: input.now - since, unreadBytes: unread, kernelState: kernel?.state ?? null },
      connections: [idText(c)],
    });
  }
}

interface RefusedGroup {
  ip: string;
  port: number;
  ids: string[];
  last: number;
}

function refusedAttempt(input: DiagnoseInput, o: DiagnoseOptions, c: ConnFields, by: Groups<RefusedGroup>): void {
  if (c.closeKind !== K_REFUSED) return;
  const ended = Number.isNaN(c.num[N.endedAt]) ? c.num[N.lastSeenAt] : c.num[N.endedAt];
  if (ended < input.now - o.refusedWindowMs) return;
  const g = by.get(endpointKey(c, 1), () => ({ ip: ipText(c, 1), port: c.num[N.port1], ids: [], last: 0 }));
  g.ids.push(idText(c));
  g.last = Math.max(g.last, ended);
}

function refusedDiagnoses(input: DiagnoseInput, by: Groups<RefusedGroup>, out: Diagnosis[]): void {
  for (const g of by.list) {
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

/** A connection whose client still waits for an answer to its SYN, or had to send it again. */
interface Waiting {
  id: string;
  ip: string;
  port: number;
  synRetransmits: number;
}

/** Listeners whose accept queue is full. */
function fullListeners(input: DiagnoseInput): Listener[] {
  return input.index?.listeners(null).filter((l) => l.backlog !== null && l.acceptQueue >= l.backlog) ?? [];
}

function synWaiting(c: ConnFields, waiting: Waiting[]): void {
  const retx = c.num[N.synRetransmits];
  if (c.state[0] !== S_SYN_SENT && !(retx > 0)) return;
  waiting.push({ id: idText(c), ip: ipText(c, 1), port: c.num[N.port1], synRetransmits: retx });
}

function acceptQueue(input: DiagnoseInput, full: readonly Listener[], all: readonly Waiting[], out: Diagnosis[]): void {
  const overflows = input.counterRise.ListenOverflows ?? 0;
  const drops = input.counterRise.ListenDrops ?? 0;
  for (const l of full) {
    const waiting = all.filter((c) => c.port === l.port && matches(l, c.ip));
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

interface FloodGroup {
  ip: string;
  port: number;
  ids: string[];
  sources: Set<string>;
}

function halfOpen(c: ConnFields, by: Groups<FloodGroup>): void {
  if ((c.flags & FL.CLOSED) !== 0 || !Number.isNaN(c.num[N.ackAt])) return;
  if (c.state[1] !== S_SYN_RECEIVED && c.state[1] !== S_LISTEN) return;
  const g = by.get(endpointKey(c, 1), () => ({ ip: ipText(c, 1), port: c.num[N.port1], ids: [], sources: new Set() }));
  g.ids.push(idText(c));
  g.sources.add(ipText(c, 0));
}

function synFlood(input: DiagnoseInput, o: DiagnoseOptions, by: Groups<FloodGroup>, out: Diagnosis[]): void {
  for (const g of by.list) {
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

interface TimeWaitGroup {
  client: string;
  server: string;
  ids: string[];
  process: EndpointProcess | null;
}

/**
 * Local clients' connections in TIME_WAIT, by client address and server endpoint, in the order
 * each pair was first seen: by server endpoint, then client address, so that no key text is made
 * for an IPv4 connection (a busy local client has thousands in TIME_WAIT).
 */
class TimeWaitGroups {
  readonly list: TimeWaitGroup[] = [];
  private readonly byServer = new Map<number | string, Map<number | string, TimeWaitGroup>>();

  add(c: ConnFields): void {
    if (c.state[0] !== S_TIME_WAIT) return;
    const notes = c.notes[0];
    // only a local client runs out of its own ephemeral ports
    if (notes === null || notes.processReason === 'not-local' || notes.process === undefined) return;
    const sk = endpointKey(c, 1);
    let clients = this.byServer.get(sk);
    if (clients === undefined) this.byServer.set(sk, (clients = new Map()));
    const ck = c.ip4[0] >= 0 ? c.ip4[0] : c.ipText[0];
    let g = clients.get(ck);
    if (g === undefined) {
      g = { client: ipText(c, 0), server: at(ipText(c, 1), c.num[N.port1]), ids: [], process: null };
      clients.set(ck, g);
      this.list.push(g);
    }
    g.ids.push(idText(c));
    g.process ??= notes.process ?? null;
  }
}

function timeWaitPileup(o: DiagnoseOptions, by: TimeWaitGroups, out: Diagnosis[]): void {
  const limit = Math.max(1, Math.floor(o.timeWaitShare * o.ephemeralPorts));
  for (const g of by.list) {
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
