/**
 * The Linux kernel's own record of TCP socket states, for comparing against the tracker.
 *
 * Source: the tracepoint `sock:inet_sock_set_state` (every `tcp_set_state()`), plus
 * `tcp:tcp_receive_reset` and `tcp:tcp_send_reset` to tell an abort from a TIME_WAIT, recorded in
 * a private tracefs instance so concurrent traces (other test files, other tools) never see or
 * disturb each other's events.
 *
 * What the kernel really reports (Linux 6.x, checked on loopback with the patterns in traffic.ts):
 *
 * - Active opener: CLOSE→SYN_SENT (sport is still 0 here: connect() picks the port after setting
 *   the state), SYN_SENT→ESTABLISHED. A refused connect: CLOSE→SYN_SENT→CLOSE.
 * - Listener: its own socket, CLOSE→LISTEN at listen() and LISTEN→CLOSE at close(), with dport 0.
 *   It never changes state because of a connection.
 * - Passive opener: the SYN creates a request sock (TCP_NEW_SYN_RECV) that is never traced. When the
 *   final ACK arrives, the child socket is cloned from the listener — so its first event reads
 *   LISTEN→SYN_RECV — and at once SYN_RECV→ESTABLISHED. Both events carry the child's own
 *   skaddr and full 4-tuple. So the kernel's server-side sequence starts `LISTEN SYN_RECEIVED
 *   ESTABLISHED`, which is exactly the observer's model (server endpoint starts in LISTEN, the
 *   SYN+ACK moves it to SYN_RECEIVED); only the timing differs (the kernel's SYN_RECEIVED appears
 *   when the handshake completes). A connection that never completes (no final ACK) leaves no
 *   server-side events at all.
 * - TIME_WAIT: the full socket is handed to a timewait sock, and the tracepoint shows
 *   FIN_WAIT2→CLOSE (or CLOSING→CLOSE); the TIME_WAIT itself is never traced, nor is its expiry.
 *   The same FIN_WAIT2→CLOSE appears when a RST arrives in FIN_WAIT2 and when a socket aborts
 *   itself there, so the RFC view below calls it TIME_WAIT only when no reset was received or sent
 *   in that state, and `ss -tan` at stop() confirms it (`timeWaitConfirmed`). A timewait sock can also
 *   stand for an orphaned FIN_WAIT2 (close() before the peer's FIN); ss then shows FIN-WAIT-2 and
 *   the view stays in FIN_WAIT_2.
 * - A timewait sock that a new SYN on the same 4-tuple takes over (port reuse) vanishes silently;
 *   the view still says TIME_WAIT, which is what the state was until then.
 * - A timewait sock that receives a reset is destroyed (TIME_WAIT assassination; Linux ignores the
 *   reset only with net.ipv4.tcp_rfc1337=1). Seen on a loaded host with the concurrent pattern:
 *   the passive closer's delayed ACK for the FIN leaves after its LAST_ACK → CLOSE, the timewait
 *   sock answers that old ACK with an ACK, the passive side's socket is gone, so its listener
 *   answers with a reset (tcp_send_reset: state LISTEN, reason TCP_FLAGS, the listener's address
 *   only), and the reset ends the timewait sock. When ss no longer shows the timewait sock and a
 *   reset went to its 4-tuple, or came from the listener on its peer's port, after it began, the
 *   view is `… TIME_WAIT CLOSED` (`timeWaitKilledByReset`).
 * - Self-transitions occur (CLOSING→CLOSING was seen on a held-FIN close); `raw` keeps them, the
 *   RFC view drops them.
 * - Simultaneous close on loopback: both ends calling end() in the same tick does not give
 *   CLOSING, because the first FIN is delivered and acknowledged inside the sender's system call.
 *   CLOSING happens when one end's FIN is held behind unsent data (traffic.ts `heldFinClose`).
 *
 * Addresses: tracing with the `fields` option gives the real skaddr but cannot print the 16-byte
 * IPv6 arrays; the default format prints the addresses but hashes skaddr. stop() reads the
 * instance's (non-consuming) `trace` file once in each format and joins the lines one to one.
 * An AF_INET6 socket with v4-mapped addresses is reported as family 4 with plain IPv4 addresses,
 * since that is what its packets carry.
 */
import { execFile, execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { TcpState } from '../../src/track/states';
import { IS_ROOT, root, supported, type Requirement } from './skip';

/** Linux `enum tcp_state` names, by number (include/net/tcp_states.h). */
export const LINUX_TCP_STATES = [
  'UNKNOWN',
  'ESTABLISHED',
  'SYN_SENT',
  'SYN_RECV',
  'FIN_WAIT1',
  'FIN_WAIT2',
  'TIME_WAIT',
  'CLOSE',
  'CLOSE_WAIT',
  'LAST_ACK',
  'LISTEN',
  'CLOSING',
  'NEW_SYN_RECV',
] as const;
export type LinuxTcpState = (typeof LINUX_TCP_STATES)[number];

const S_CLOSE = 7;
const S_LISTEN = 10;
const S_SYN_RECV = 3;

const RFC_NAME: Record<LinuxTcpState, TcpState> = {
  UNKNOWN: 'CLOSED',
  ESTABLISHED: 'ESTABLISHED',
  SYN_SENT: 'SYN_SENT',
  SYN_RECV: 'SYN_RECEIVED',
  FIN_WAIT1: 'FIN_WAIT_1',
  FIN_WAIT2: 'FIN_WAIT_2',
  TIME_WAIT: 'TIME_WAIT',
  CLOSE: 'CLOSED',
  CLOSE_WAIT: 'CLOSE_WAIT',
  LAST_ACK: 'LAST_ACK',
  LISTEN: 'LISTEN',
  CLOSING: 'CLOSING',
  NEW_SYN_RECV: 'SYN_RECEIVED',
};

/** RFC 9293 name of a Linux state. */
export function rfcName(s: LinuxTcpState): TcpState {
  return RFC_NAME[s];
}

export interface Addr {
  ip: string;
  port: number;
}

export interface KernelTransition {
  /** Trace clock (CLOCK_MONOTONIC) seconds. */
  ts: number;
  from: LinuxTcpState;
  to: LinuxTcpState;
}

export interface KernelReset {
  ts: number;
  dir: 'received' | 'sent';
  /** Transitions the socket had made when the reset happened. */
  afterTransitions: number;
  /** The kernel's reason for a reset it sent (e.g. TCP_STATE, TCP_ABORT_ON_MEMORY); '' when received. */
  reason: string;
}

/** One kernel socket, from its first traced state change to its last. */
export interface KernelSocket {
  /** Kernel address of the struct sock (reused after the socket is freed). */
  skaddr: string;
  /** Family of the packets: 4 also for an AF_INET6 socket with v4-mapped addresses. */
  family: 4 | 6;
  /** Address family of the socket itself. */
  sockFamily: 4 | 6;
  local: Addr;
  remote: Addr;
  /** listener: listen() socket; active: connect(); passive: accepted child; other: anything else. */
  role: 'listener' | 'active' | 'passive' | 'other';
  /** Linux states: the first event's old state, then each new state, as traced. */
  raw: LinuxTcpState[];
  transitions: KernelTransition[];
  /** RFC 9293 view: names mapped, self-transitions dropped, the timewait hand-off shown. */
  states: TcpState[];
  /** How the kernel holds the connection after the full socket closed (timewait sock), if it does. */
  timeWait: 'TIME_WAIT' | 'FIN_WAIT_2' | null;
  /** `ss -tan` showed a timewait entry for this 4-tuple when the trace stopped. */
  timeWaitConfirmed: boolean;
  /**
   * A reset reached the timewait sock and ended it (the view then ends `TIME_WAIT CLOSED`). Seen on
   * a busy host: the passive closer's delayed ACK leaves after its final state change, the timewait
   * sock answers it with an ACK, the passive closer's socket is gone and answers with a reset.
   */
  timeWaitKilledByReset: boolean;
  resets: KernelReset[];
  /** Events whose old state did not follow on from the previous new state (should be 0). */
  discontinuities: number;
}

export interface KernelTraceResult {
  /** Every socket seen, in order of its first event. */
  sockets: KernelSocket[];
  /** Sockets by endpointKey(family, local, remote), oldest first (a 4-tuple may be reused). */
  byEndpoint: Map<string, KernelSocket[]>;
  /** Sockets whose local and remote ends are these, oldest first. */
  find(local: Addr, remote: Addr): KernelSocket[];
  /** Events the ring buffer lost (overrun or dropped). Anything but 0 makes the trace incomplete. */
  lost: number;
  /** The joined trace lines, for printing when a comparison fails. */
  lines: string[];
}

export interface KernelTraceOptions {
  /** Record only events with one of these ports as sport or dport; all TCP sockets when empty. */
  ports?: number[];
  /** Ring buffer per CPU, KiB. */
  bufferKb?: number;
  /** Wait this long at stop() before freezing the buffer, for softirq work still in flight. */
  settleMs?: number;
}

export interface KernelTrace {
  readonly instance: string;
  stop(): Promise<KernelTraceResult>;
  /** Stop recording and remove the instance without building a result. */
  abort(): void;
}

export type KernelTraceErrorCode = 'tracefs-unavailable' | 'no-tracepoint' | 'permission-denied' | 'trace-failed';

export class KernelTraceError extends Error {
  constructor(
    readonly code: KernelTraceErrorCode,
    message: string,
  ) {
    super(message);
  }
}

const EVENTS = ['sock/inet_sock_set_state', 'tcp/tcp_receive_reset', 'tcp/tcp_send_reset'] as const;
/** Events that carry sport/dport and so can take a port filter. */
const FILTERABLE = new Set(['sock/inet_sock_set_state', 'tcp/tcp_receive_reset']);

let tracefsRoot: string | null = null;

/** Find (mounting if needed) tracefs; null with a reason when the kernel trace cannot be used. */
export function kernelTraceSupport(): { ok: true; root: string } | { ok: false; reason: string } {
  try {
    return { ok: true, root: tracefs() };
  } catch (e) {
    return { ok: false, reason: (e as Error).message };
  }
}

/** The kernel trace as a test requirement: root first (tracefs needs it), then the tracepoint. */
export function kernelTrace(): Requirement {
  if (!IS_ROOT) return root();
  const s = kernelTraceSupport();
  return supported(s.ok, s.ok ? '' : `no kernel socket tracing (${s.reason})`);
}

function tracefs(): string {
  if (tracefsRoot) return tracefsRoot;
  const candidates = ['/sys/kernel/tracing', '/sys/kernel/debug/tracing'];
  const found = () => candidates.find((c) => fs.existsSync(path.join(c, 'events/sock/inet_sock_set_state')));
  let root = found();
  if (!root && fs.existsSync('/sys/kernel/tracing')) {
    try {
      execFileSync('mount', ['-t', 'tracefs', 'nodev', '/sys/kernel/tracing'], { stdio: 'ignore' });
    } catch {
      // another process may have mounted it meanwhile; look again below
    }
    root = found();
  }
  if (!root) {
    if (candidates.some((c) => fs.existsSync(path.join(c, 'instances')))) {
      throw new KernelTraceError('no-tracepoint', 'tracefs has no sock:inet_sock_set_state tracepoint');
    }
    throw new KernelTraceError('tracefs-unavailable', 'tracefs is not mounted and could not be mounted (needs root)');
  }
  try {
    fs.accessSync(path.join(root, 'instances'), fs.constants.W_OK);
  } catch {
    throw new KernelTraceError('permission-denied', `cannot create trace instances under ${root} (needs root)`);
  }
  tracefsRoot = root;
  return root;
}

const live = new Set<string>();
let instanceSeq = 0;
let exitHookInstalled = false;

function removeInstance(dir: string): void {
  for (const ev of EVENTS) {
    try {
      fs.writeFileSync(path.join(dir, 'events', ev, 'enable'), '0');
    } catch {
      // already gone
    }
  }
  try {
    fs.rmdirSync(dir);
  } catch {
    // busy or gone; nothing more a test can do
  }
  live.delete(dir);
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const dir of [...live]) removeInstance(dir);
  });
}

/** `sport == a || dport == a || …`, which tracefs filters accept. */
export function portFilter(ports: readonly number[]): string {
  return ports.map((p) => `sport == ${p} || dport == ${p}`).join(' || ');
}

/** Start recording socket state changes in a private tracefs instance. */
export async function startKernelTrace(opts: KernelTraceOptions = {}): Promise<KernelTrace> {
  const root = tracefs();
  installExitHook();
  const name = `tcpscope-${process.pid}-${++instanceSeq}`;
  const dir = path.join(root, 'instances', name);
  try {
    fs.mkdirSync(dir);
  } catch (e) {
    throw new KernelTraceError('trace-failed', `cannot create trace instance ${dir}: ${(e as Error).message}`);
  }
  live.add(dir);
  const w = (rel: string, value: string) => fs.writeFileSync(path.join(dir, rel), value);
  try {
    // per-CPU local clocks may disagree by more than the gap between two state changes of one socket
    const clocks = fs.readFileSync(path.join(dir, 'trace_clock'), 'utf8');
    w('trace_clock', /\bmono\b/.test(clocks) ? 'mono' : 'global');
    w('buffer_size_kb', String(opts.bufferKb ?? 4096));
    const filter = opts.ports && opts.ports.length > 0 ? portFilter(opts.ports) : '';
    for (const ev of EVENTS) {
      if (filter && FILTERABLE.has(ev)) w(`events/${ev}/filter`, filter);
    }
    for (const ev of EVENTS) w(`events/${ev}/enable`, '1');
  } catch (e) {
    removeInstance(dir);
    throw new KernelTraceError('trace-failed', `cannot set up trace instance ${name}: ${(e as Error).message}`);
  }
  const settleMs = opts.settleMs ?? 30;
  let done = false;
  return {
    instance: name,
    abort() {
      if (done) return;
      done = true;
      removeInstance(dir);
    },
    async stop() {
      if (done) throw new KernelTraceError('trace-failed', `trace ${name} already stopped`);
      done = true;
      try {
        await new Promise((r) => setTimeout(r, settleMs));
        w('tracing_on', '0');
        const text = fs.readFileSync(path.join(dir, 'trace'), 'utf8');
        w('options/fields', '1');
        const fields = fs.readFileSync(path.join(dir, 'trace'), 'utf8');
        w('options/fields', '0');
        const lost = lostEvents(dir, text);
        const joined = joinLines(text, fields);
        const sockets = collectSockets(joined.events);
        const facts: Facts = {
          timewait: await timewaitFor(timewaitCandidates(sockets), opts.ports ?? []),
          resetsTo: resetsByTarget(joined.events),
          rfc1337: readRfc1337(),
        };
        return assemble(sockets, facts, lost, joined.lines);
      } finally {
        removeInstance(dir);
      }
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Reading the trace

interface LineHead {
  cpu: number;
  ts: number;
  event: string;
  body: string;
}

const LINE = /^\s*.*?-\d+\s+(?:\(\s*[-\d]+\)\s+)?\[(\d+)\]\s+(?:\S+\s+)?(\d+\.\d+): (\w+): (.*)$/;

function eventLines(text: string): string[] {
  return text.split('\n').filter((l) => l.length > 0 && !l.startsWith('#'));
}

function head(line: string): LineHead | null {
  const m = LINE.exec(line);
  if (!m) return null;
  return { cpu: Number(m[1]), ts: Number(m[2]), event: m[3], body: m[4] };
}

/** `key=value` pairs of the default format. */
function textFields(body: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of body.matchAll(/(\w+)=(\S+)/g)) out[m[1]] = m[2];
  return out;
}

/** `key=0x1f (31)` pairs of the `fields` format: the decimal in parentheses, else the raw text. */
function numericFields(body: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of body.matchAll(/(\w+)=(\S+)(?: \((-?\d+)\))?/g)) out[m[1]] = m[3] ?? m[2];
  out.skaddrHex = /skaddr=(0x[0-9a-f]+)/.exec(body)?.[1] ?? '';
  return out;
}

interface TraceEvent {
  ts: number;
  cpu: number;
  kind: 'state' | 'rx-reset' | 'tx-reset';
  skaddr: string;
  sockFamily: 4 | 6;
  local: Addr;
  remote: Addr;
  oldstate: number;
  newstate: number;
  reason: string;
  line: string;
}

interface Joined {
  events: TraceEvent[];
  lines: string[];
}

/** Join the default-format and fields-format readings of the same buffer, line by line. */
function joinLines(text: string, fields: string): Joined {
  const a = eventLines(text);
  const b = eventLines(fields);
  if (a.length !== b.length) {
    throw new KernelTraceError('trace-failed', `trace read twice gave ${a.length} and ${b.length} lines`);
  }
  const events: TraceEvent[] = [];
  for (let i = 0; i < a.length; i++) {
    const ha = head(a[i]);
    const hb = head(b[i]);
    if (!ha || !hb) continue;
    if (ha.cpu !== hb.cpu || ha.ts !== hb.ts || ha.event !== hb.event) {
      throw new KernelTraceError('trace-failed', `trace lines do not pair up:\n${a[i]}\n${b[i]}`);
    }
    const t = textFields(ha.body);
    const n = numericFields(hb.body);
    const base = { ts: ha.ts, cpu: ha.cpu, skaddr: n.skaddrHex, line: a[i], reason: t.reason ?? '' };
    if (ha.event === 'inet_sock_set_state' || ha.event === 'tcp_receive_reset') {
      const v6 = t.family === 'AF_INET6';
      events.push({
        ...base,
        kind: ha.event === 'inet_sock_set_state' ? 'state' : 'rx-reset',
        sockFamily: v6 ? 6 : 4,
        local: { ip: v6 ? t.saddrv6 : t.saddr, port: Number(n.sport) },
        remote: { ip: v6 ? t.daddrv6 : t.daddr, port: Number(n.dport) },
        oldstate: Number(n.oldstate ?? -1),
        newstate: Number(n.newstate ?? -1),
      });
    } else if (ha.event === 'tcp_send_reset') {
      const src = sockaddr(t.src);
      const dst = sockaddr(t.dest);
      events.push({
        ...base,
        kind: 'tx-reset',
        sockFamily: src.ip.includes(':') ? 6 : 4,
        local: src,
        remote: dst,
        oldstate: Number(n.state ?? -1),
        newstate: -1,
      });
    }
  }
  return { events, lines: a };
}

/** `1.2.3.4:80` or `[::1]:80` (the kernel's %pISpc). */
function sockaddr(s: string | undefined): Addr {
  if (!s) return { ip: '', port: 0 };
  const i = s.lastIndexOf(':');
  let ip = s.slice(0, i);
  if (ip.startsWith('[')) ip = ip.slice(1, -1);
  return { ip, port: Number(s.slice(i + 1)) };
}

function lostEvents(dir: string, text: string): number {
  let lost = 0;
  const m = /entries-in-buffer\/entries-written: (\d+)\/(\d+)/.exec(text);
  if (m) lost += Number(m[2]) - Number(m[1]);
  const cpus = fs.existsSync(path.join(dir, 'per_cpu')) ? fs.readdirSync(path.join(dir, 'per_cpu')) : [];
  for (const cpu of cpus) {
    try {
      const stats = fs.readFileSync(path.join(dir, 'per_cpu', cpu, 'stats'), 'utf8');
      lost += Number(/dropped events: (\d+)/.exec(stats)?.[1] ?? 0);
    } catch {
      // CPU went offline
    }
  }
  return lost;
}

// ---------------------------------------------------------------------------------------------
// ss: which timewait socks exist now

type TwState = 'TIME-WAIT' | 'FIN-WAIT-2';

/**
 * Timewait socks for these endpoint keys. A netlink dump is not atomic: entries that move in the
 * hash table while it runs (busy loopback, other tests) can be missed, so dump again while some
 * are missing.
 */
async function timewaitFor(keys: string[], ports: readonly number[]): Promise<Map<string, TwState>> {
  const found = new Map<string, TwState>();
  if (keys.length === 0) return found;
  const portExpr = ports.length > 0 ? `( ${ports.map((p) => `sport = :${p} or dport = :${p}`).join(' or ')} )` : '';
  for (let attempt = 0; attempt < 2 && keys.some((k) => !found.has(k)); attempt++) {
    for (const [k, v] of await timewaitSnapshot(portExpr)) found.set(k, v);
  }
  // a dump of one exact 4-tuple fits in one message, so nothing can slip past it
  for (const k of keys.filter((key) => !found.has(key)).slice(0, 64)) {
    const [fam, lip, lport, rip, rport] = k.split('|');
    const host = (ip: string) => (fam === '6' ? `[${ip}]` : ip);
    const expr = `( src ${host(lip)}:${lport} and dst ${host(rip)}:${rport} )`;
    for (const [key, v] of await timewaitSnapshot(expr)) found.set(key, v);
  }
  return found;
}

function timewaitSnapshot(filter: string): Promise<Map<string, TwState>> {
  const args = ['-tanH', 'state', 'time-wait', 'state', 'fin-wait-2'];
  if (filter) args.push(filter);
  return new Promise((resolve) => {
    execFile('ss', args, { maxBuffer: 64 * 1024 * 1024 }, (err, out) => {
      const map = new Map<string, TwState>();
      if (err) return resolve(map);
      for (const line of out.split('\n')) {
        const f = line.trim().split(/\s+/);
        if (f.length < 5 || (f[0] !== 'TIME-WAIT' && f[0] !== 'FIN-WAIT-2')) continue;
        const local = ssAddr(f[3]);
        const remote = ssAddr(f[4]);
        map.set(endpointKey(family(local.ip), local, remote), f[0]);
      }
      resolve(map);
    });
  });
}

function ssAddr(s: string): Addr {
  const i = s.lastIndexOf(':');
  let ip = s.slice(0, i);
  if (ip.startsWith('[')) ip = ip.slice(1, ip.indexOf(']'));
  ip = ip.replace(/%.*$/, '');
  return { ip: unmap(ip), port: Number(s.slice(i + 1)) };
}

// ---------------------------------------------------------------------------------------------
// Building sockets

/** `::ffff:1.2.3.4` → `1.2.3.4`; anything else unchanged. */
function unmap(ip: string): string {
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  return m ? m[1] : ip;
}

function family(ip: string): 4 | 6 {
  return ip.includes(':') ? 6 : 4;
}

/** Key of one endpoint's view of a connection: family, its own address, its peer's address. */
export function endpointKey(fam: 4 | 6, local: Addr, remote: Addr): string {
  return `${fam}|${unmap(local.ip)}|${local.port}|${unmap(remote.ip)}|${remote.port}`;
}

function linuxName(n: number): LinuxTcpState {
  return LINUX_TCP_STATES[n] ?? 'UNKNOWN';
}

function newSocket(e: TraceEvent): KernelSocket {
  return {
    skaddr: e.skaddr,
    family: e.sockFamily,
    sockFamily: e.sockFamily,
    local: { ip: '', port: 0 },
    remote: { ip: '', port: 0 },
    role: 'other',
    raw: [linuxName(e.oldstate)],
    transitions: [],
    states: [],
    timeWait: null,
    timeWaitConfirmed: false,
    timeWaitKilledByReset: false,
    resets: [],
    discontinuities: 0,
  };
}

/** Split the events into sockets: a skaddr starts a new socket whenever a new life begins. */
function collectSockets(traced: TraceEvent[]): KernelSocket[] {
  const sockets: KernelSocket[] = [];
  const current = new Map<string, { sock: KernelSocket; last: number }>();
  const events = traced.slice().sort((x, y) => x.ts - y.ts);
  for (const e of events) {
    if (e.kind !== 'state') {
      const cur = current.get(e.skaddr);
      // the skaddr of a reset answering no socket is 0, and resets from unrelated sockets are not filtered
      if (!cur || !sameTuple(cur.sock, e)) continue;
      cur.sock.resets.push({
        ts: e.ts,
        dir: e.kind === 'rx-reset' ? 'received' : 'sent',
        afterTransitions: cur.sock.transitions.length,
        reason: e.reason,
      });
      continue;
    }
    let cur = current.get(e.skaddr);
    const fresh =
      !cur ||
      cur.last === S_CLOSE ||
      e.oldstate === S_CLOSE ||
      (e.oldstate === S_LISTEN && e.newstate === S_SYN_RECV);
    if (fresh) {
      cur = { sock: newSocket(e), last: e.oldstate };
      current.set(e.skaddr, cur);
      sockets.push(cur.sock);
    }
    const s = cur!.sock;
    if (e.oldstate !== cur!.last) s.discontinuities++;
    s.transitions.push({ ts: e.ts, from: linuxName(e.oldstate), to: linuxName(e.newstate) });
    s.raw.push(linuxName(e.newstate));
    cur!.last = e.newstate;
    // the connect() event has no local port yet; take the tuple from the first complete event
    const complete = e.local.port !== 0 && (e.remote.port !== 0 || e.newstate === S_LISTEN || e.oldstate === S_LISTEN);
    if (complete && s.local.port === 0) {
      s.local = { ip: unmap(e.local.ip), port: e.local.port };
      s.remote = { ip: unmap(e.remote.ip), port: e.remote.port };
      s.family = family(s.local.ip);
    }
  }
  return sockets;
}

/** What stop() learns besides the state events. */
interface Facts {
  /** Timewait socks `ss` showed, by endpoint key. */
  timewait: Map<string, TwState>;
  /** Times of resets sent to an endpoint (by the endpoint key of the receiver), from any socket or none. */
  resetsTo: Map<string, number[]>;
  /** net.ipv4.tcp_rfc1337: when set, a timewait sock ignores resets. */
  rfc1337: boolean;
}

function readRfc1337(): boolean {
  try {
    return fs.readFileSync('/proc/sys/net/ipv4/tcp_rfc1337', 'utf8').trim() !== '0';
  } catch {
    return false;
  }
}

/**
 * Every traced reset by its receiver, so that a reset reaching a timewait sock (which has no
 * tracepoint of its own) becomes visible. The tracepoint describes the reset by the socket that
 * sent it: with no socket (skaddr 0) it gives the reset's own source and destination, keyed here
 * by endpointKey of the receiver; a listener answering a stray segment for a 4-tuple that has no
 * connection any more gives only the listener's address, keyed here by listenerResetKey.
 */
function resetsByTarget(events: TraceEvent[]): Map<string, number[]> {
  const map = new Map<string, number[]>();
  const add = (k: string, ts: number) => {
    const list = map.get(k);
    if (list) list.push(ts);
    else map.set(k, [ts]);
  };
  for (const e of events) {
    if (e.kind !== 'tx-reset' || e.local.port === 0) continue;
    if (e.oldstate === S_LISTEN) add(listenerResetKey(e.local.port), e.ts);
    else add(endpointKey(family(unmap(e.remote.ip)), e.remote, e.local), e.ts);
  }
  return map;
}

function listenerResetKey(port: number): string {
  return `listener|${port}`;
}

function assemble(sockets: KernelSocket[], facts: Facts, lost: number, lines: string[]): KernelTraceResult {
  const byEndpoint = new Map<string, KernelSocket[]>();
  for (const s of sockets) {
    const k = endpointKey(s.family, s.local, s.remote);
    const list = byEndpoint.get(k);
    if (list) list.push(s);
    else byEndpoint.set(k, [s]);
  }
  for (const list of byEndpoint.values()) {
    list.forEach((s, i) => finish(s, facts, list[i + 1]?.transitions[0]?.ts ?? Infinity));
  }
  return {
    sockets,
    byEndpoint,
    find(local, remote) {
      return byEndpoint.get(endpointKey(family(unmap(local.ip)), local, remote)) ?? [];
    },
    lost,
    lines,
  };
}

/** Index of the transition that hands the socket to a timewait sock, or -1. */
function timewaitTransition(s: KernelSocket): number {
  return s.transitions.findIndex(
    (t, i) =>
      t.to === 'CLOSE' &&
      (t.from === 'FIN_WAIT2' || t.from === 'CLOSING') &&
      // a reset received in that state, or sent while aborting from it, closes without timewait
      !s.resets.some((r) => r.afterTransitions === i || r.afterTransitions === i + 1),
  );
}

function timewaitCandidates(sockets: KernelSocket[]): string[] {
  return sockets.filter((s) => timewaitTransition(s) >= 0).map((s) => endpointKey(s.family, s.local, s.remote));
}

function sameTuple(s: KernelSocket, e: TraceEvent): boolean {
  if (s.local.port === 0) return true;
  return s.local.port === e.local.port && s.remote.port === e.remote.port;
}

/** Fill in role and RFC view; `until` is when the next socket on the same 4-tuple began. */
function finish(s: KernelSocket, facts: Facts, until: number): void {
  const first = s.transitions[0];
  // a listener traced only from after listen() shows just LISTEN→CLOSE
  if (s.raw.includes('LISTEN') && s.remote.port === 0) s.role = 'listener';
  else if (first?.from === 'LISTEN' && first.to === 'SYN_RECV') s.role = 'passive';
  else if (first?.from === 'CLOSE' && first.to === 'SYN_SENT') s.role = 'active';

  const states: TcpState[] = [rfcName(s.raw[0])];
  const push = (st: TcpState) => {
    if (states[states.length - 1] !== st) states.push(st);
  };
  const twAt = timewaitTransition(s);
  s.transitions.forEach((t, i) => {
    if (i !== twAt) return push(rfcName(t.to));
    const key = endpointKey(s.family, s.local, s.remote);
    const seen = facts.timewait.get(key);
    s.timeWaitConfirmed = seen !== undefined;
    if (seen === 'FIN-WAIT-2') {
      s.timeWait = 'FIN_WAIT_2';
      return push('FIN_WAIT_2');
    }
    s.timeWait = 'TIME_WAIT';
    push('TIME_WAIT');
    // TIME_WAIT assassination (RFC 1337): Linux lets a reset end a timewait sock unless tcp_rfc1337
    const resets = [...(facts.resetsTo.get(key) ?? []), ...(facts.resetsTo.get(listenerResetKey(s.remote.port)) ?? [])];
    const killed = !facts.rfc1337 && resets.some((ts) => ts >= t.ts && ts < until);
    if (killed && !s.timeWaitConfirmed) {
      s.timeWaitKilledByReset = true;
      push('CLOSED');
    }
  });
  s.states = states;
}

/** The RFC view once TIME_WAIT has run out (what an observer shows after 2×MSL). */
export function afterTimeWait(states: readonly TcpState[]): TcpState[] {
  return states[states.length - 1] === 'TIME_WAIT' ? [...states, 'CLOSED'] : [...states];
}

/** One line per socket, for failure messages. */
export function describeSocket(s: KernelSocket): string {
  const tuple = `${s.local.ip}:${s.local.port} -> ${s.remote.ip}:${s.remote.port}`;
  return `${s.role} ${s.skaddr} ${tuple}: ${s.states.join(' ')} (raw ${s.raw.join(' ')})`;
}

// Exported for tests of the parsing itself.
export const internals = { joinLines, collectSockets, resetsByTarget, assemble, head };
