import { readFileSync } from 'node:fs';
import type { TcpState } from '../track/states';
import { portPair, tupleKey } from './attribute';
import { parseProcTcp, type KernelSocket } from './proc-tcp';
import { parseSs, portFilter, reapedCpuMs, runSs, type SsOutput, type SsRow, type TcpInfo } from './ss';
import { listPids, parseNetstat, readCmdline, readNetns, readPasswd, readSocketFds, readStat, readUid } from './procfs';

/** A process, named for good by its pid and start time (a reused pid has another start time). */
export interface ProcessInfo {
  pid: number;
  /** The short name (comm), as ps and ss show it. */
  command: string;
  cmdline: string;
  user: string | null;
  uid: number | null;
  /** Inode of its network namespace. */
  netns: number | null;
  /** Clock ticks after boot (/proc/PID/stat field 22). */
  startTime: number;
}

/** A socket with the processes holding it (one fd each; several for a listener shared by a prefork server). */
export interface ScannedSocket extends KernelSocket {
  netns: number;
  owners: { pid: number; fd: number }[];
  /** A listener's backlog (ss's Send-Q), null when unknown or not a listener. */
  backlog: number | null;
  /** The kernel's tcp_info of a connected socket, when asked for. */
  info: TcpInfo | null;
}

export interface ScanResult {
  /** Wall clock (epoch ms) when the tables were read. */
  at: number;
  sockets: ScannedSocket[];
  /** The processes owners refer to, by pid. */
  processes: ProcessInfo[];
  /** TcpExt counters of each namespace (ListenOverflows, ListenDrops, TCPReqQFullDrop, SyncookiesSent …). */
  netstat: { netns: number; counters: Record<string, number> }[];
  /** The namespace tcpscope itself runs in. */
  ownNetns: number | null;
  /** Processes whose fds could not be read (another user's, without privilege). */
  unreadable: number;
  /** Whether this scan read every process's fds (some socket's owner was not known yet). */
  fdScan: boolean;
  badLines: number;
  /** Time spent reading, in ms. */
  costMs: number;
  /** The TIME_WAIT pairs this scan read (portPair: local × 65 536 + remote port): those not found are not in TIME_WAIT. */
  timeWaitAsked: number[];
  /** Whether tcp_info was read (when not, connected sockets have `info: null`). */
  tcpInfo: boolean;
  /** `ss` processes this scan ran, and their CPU time (ms, in clock ticks of 10 ms: an average over many scans). */
  ssRuns: number;
  ssCpuMs: number;
  /** Of ssRuns, those read through the scanning thread's ss helper (the others forked from tcpscope). */
  ssViaHelper: number;
  /** ss helpers started again for this scan, the last one having ended. */
  ssHelperRestarts: number;
}

export interface ScanOptions {
  /** Where procfs is mounted. */
  root: string;
}

export interface ScanAsk {
  /** Also read tcp_info of connected sockets (the kernel cross-check). */
  tcpInfo: boolean;
  /**
   * Connected sockets are read only with one of these ports on either end (listeners always);
   * null: all of them. TIME_WAIT sockets only as `timeWait` names them (there are tens of thousands
   * of them at a thousand connections a second, and no process holds one).
   */
  ports: number[] | null;
  /**
   * Sockets of closed connections to read, by local and remote port (at most 32 pairs a scan), in
   * whatever state the kernel still has them (TIME_WAIT, or a closing state it lingers in); read
   * with or without the connected sockets.
   */
  timeWait?: { local: number; remote: number }[];
  /** Name the owners of every listener, not only of those on the wanted ports (following a process's new ports). */
  allListeners?: boolean;
  /**
   * Read the connected sockets (default); false: the listeners alone (the owners of those on the
   * wanted ports still named), without the walk of the kernel's whole connection table.
   */
  connected?: boolean;
  /**
   * The connected sockets whose owners are wanted, by tupleKey (local end first); the others are
   * read without one unless it is known already. Undefined or null: every socket read. An fd scan
   * is made only for a socket named here, so sockets of connections whose owners are known (read
   * for the cross-check) or that nobody watches cost no fd reading.
   */
  lookup?: string[] | null;
  /**
   * Read this namespace's listeners again (default); false: the last reading's serve if it is
   * younger than LISTENERS_MAX_AGE_MS (a batch of new connections between two steady readings
   * costs one `ss` run, not two).
   */
  freshListeners?: boolean;
}

/**
 * Listeners by their state alone: `-l` also asks for CLOSE sockets, which makes the kernel walk its
 * whole table of connected and TIME_WAIT sockets (tens of thousands at a thousand connections a
 * second); `state listening` reads only the listening hash.
 */
const LISTENING = ['-Htne', 'state', 'listening'];

/**
 * The `ss` runs a scan of our own namespace makes, by what they read: the listeners (null: the last
 * reading's are reused), the connected sockets on the wanted ports (null: not read), TIME_WAIT
 * pairs (null: none asked).
 */
export interface OwnPlan {
  listeners: string[] | null;
  connected: string[] | null;
  timeWait: string[] | null;
}

/** `ss` output read ahead of a scan (by SsHelper), by the run's arguments joined with spaces. */
export interface Prefetched {
  plan: OwnPlan;
  out: ReadonlyMap<string, SsOutput>;
}

export const ssKey = (args: readonly string[]) => args.join(' ');

/** Listeners read by `ss` are reused this long at most. */
const LISTENERS_MAX_AGE_MS = 1000;

/** A full fd scan of every process runs at most this often; in between only processes that held watched sockets before are read. */
const FULL_FD_SCAN_MS = 2000;

/**
 * Reads the kernel's socket tables of every network namespace a process is in, and which process
 * holds each socket. Stateful so that a steady scan is cheap: processes are read once per (pid,
 * start time), namespaces once per pid, and the fds of all processes only when a socket shows up
 * whose owner is not known yet.
 */
export class SocketScanner {
  private readonly root: string;
  private procs = new Map<number, ProcessInfo>();
  private nsOfPid = new Map<number, number | null>();
  private ownerOf = new Map<number, { pid: number; fd: number }[]>();
  /** Inodes no readable process held at the last fd scan: they do not trigger another one. */
  private unowned = new Set<number>();
  /** Processes that held a watched socket: read first when new sockets appear. */
  private hot = new Set<number>();
  private lastFullScan = -Infinity;
  private lastUnreadable = 0;
  /** Listener backlogs by inode (a listener's backlog is fixed once it listens). */
  private backlogs = new Map<number, number>();
  private users = readPasswd();
  /** This namespace's listeners as `ss` last read them, and when. */
  private listenerRows: SsRow[] = [];
  private listenersAt = -Infinity;
  /** Scans made, this one included. */
  private scans = 0;
  /** `ss` runs of the scan under way, and their CPU time. */
  private ssRuns = 0;
  private ssCpuMs = 0;
  private ssViaHelper = 0;

  constructor(opts: Partial<ScanOptions> = {}) {
    this.root = opts.root ?? '/proc';
  }

  /** Scans made so far. */
  get count(): number {
    return this.scans;
  }

  /** The `ss` runs the next scan of our own namespace would make for this ask (for reading them ahead). */
  ownPlan(ask: ScanAsk, now = performance.now()): OwnPlan {
    const listeners = ask.freshListeners === false && now - this.listenersAt < LISTENERS_MAX_AGE_MS ? null : LISTENING;
    let connected: string[] | null = null;
    if (ask.connected !== false && (ask.ports === null || ask.ports.length > 0)) {
      const filter = ask.ports === null ? null : portFilter(ask.ports);
      connected = [ask.tcpInfo ? '-Htanei' : '-Htane', 'state', 'connected', 'exclude', 'time-wait', ...(filter ?? [])];
    }
    const tw = ask.timeWait?.slice(0, 32) ?? [];
    const pairs = tw.map((p) => `( sport = :${p.local} and dport = :${p.remote} )`).join(' or ');
    // every state but listening ("connected" is TIME_WAIT too): the walk is the same, and a socket
    // still closing is told apart from one in TIME_WAIT or gone without reading the connected ones
    return { listeners, connected, timeWait: tw.length > 0 ? ['-Htane', 'state', 'connected', '(', pairs, ')'] : null };
  }

  /**
   * Reads the tables. `pre`: the `ss` runs of our own namespace made ahead (ownPlan, through
   * SsHelper); the scan then runs none of its own there.
   */
  scan(ask: ScanAsk = { tcpInfo: false, ports: null }, pre: Prefetched | null = null): ScanResult {
    const t0 = performance.now();
    this.scans++;
    this.ssRuns = 0;
    this.ssCpuMs = 0;
    this.ssViaHelper = 0;
    const root = this.root;
    const pids = listPids(root);
    const alive = new Set(pids);
    for (const pid of this.nsOfPid.keys()) if (!alive.has(pid)) this.nsOfPid.delete(pid);
    for (const pid of this.procs.keys()) if (!alive.has(pid)) this.procs.delete(pid);

    // One process per namespace is enough to read that namespace's tables.
    const ownNetns = readNetns(root, 'self');
    const nsReader = new Map<number, string>();
    const nsPid = new Map<number, number | null>();
    if (ownNetns !== null) {
      nsReader.set(ownNetns, `${root}/self/net`);
      nsPid.set(ownNetns, null);
    }
    for (const pid of pids) {
      let ns = this.nsOfPid.get(pid);
      if (ns === undefined) {
        ns = readNetns(root, pid);
        this.nsOfPid.set(pid, ns);
      }
      if (ns !== null && !nsReader.has(ns)) {
        nsReader.set(ns, `${root}/${pid}/net`);
        nsPid.set(ns, pid);
      }
    }

    const sockets: ScannedSocket[] = [];
    const netstat: ScanResult['netstat'] = [];
    let badLines = 0;
    const unknown = new Set<number>();
    /** Connected sockets not asked for whose owner is not known: named when a process read anyway holds them. */
    let othersUnknown = 0;
    const wanted = ask.ports === null ? null : new Set(ask.ports);
    const lookup = ask.lookup ? new Set(ask.lookup) : null;
    const asked = new Set((ask.timeWait ?? []).slice(0, 32).map((p) => portPair(p.local, p.remote)));
    for (const [netns, dir] of nsReader) {
      const pid = nsPid.get(netns) ?? null;
      // the counters before this namespace's tables: when the scan runs ss itself they are the
      // reading's as it starts, however long ss then waits for a core; our own namespace's ss
      // output read ahead (`pre`, through the helper) was taken before them, within the reading's costMs
      const ns = readText(`${dir}/netstat`);
      if (ns !== null) netstat.push({ netns, counters: parseNetstat(ns) });
      const rows = pid === null ? this.ownTables(ask, pre) : null;
      const got: (KernelSocket & { info?: TcpInfo | null; sendQ?: number })[] = rows ?? [];
      if (!rows) {
        for (const [file, fam] of [['tcp', 4], ['tcp6', 6]] as const) {
          const text = readText(`${dir}/${file}`);
          if (text !== null) badLines += parseProcTcp(text, fam, got).badLines;
        }
      }
      let connected = 0;
      // ss read only what was asked for (filtered in the kernel); /proc has every socket: the
      // listeners, the connected ones when asked for, and the closed connections' pairs asked for
      // (in any state but listening, as ss reads them) with or without them
      const pairs = !rows && asked.size > 0 ? asked : null;
      for (const r of got) {
        if (
          !rows &&
          r.state !== 'LISTEN' &&
          (ask.connected === false || (wanted && !wanted.has(r.localPort) && !wanted.has(r.remotePort))) &&
          (pairs === null || !pairs.has(portPair(r.localPort, r.remotePort)))
        )
          continue;
        const s = r as ScannedSocket;
        s.netns = netns;
        s.owners = [];
        s.info = r.info ?? null;
        if (s.state === 'LISTEN') s.backlog = r.sendQ ?? this.backlogs.get(s.inode) ?? null;
        else {
          s.backlog = null;
          connected++;
        }
        const matters =
          s.state === 'LISTEN'
            ? !wanted || ask.allListeners === true || wanted.has(s.localPort)
            : !lookup || lookup.has(tupleKey(s.localIp, s.localPort, s.remoteIp, s.remotePort));
        if (s.inode !== 0 && !this.ownerOf.has(s.inode) && !this.unowned.has(s.inode)) {
          if (matters) unknown.add(s.inode);
          else if (s.state !== 'LISTEN') othersUnknown++;
        }
        sockets.push(s);
      }
      if (!rows) this.fillFromSs(sockets, netns, pid, ask, connected > 0);
    }

    for (const pid of this.hot) if (!alive.has(pid)) this.hot.delete(pid);
    let unreadable = this.lastUnreadable;
    let fdScan = false;
    if (unknown.size > 0 || othersUnknown > 0) {
      // Processes that held watched sockets before (a server, a busy client) first: they usually
      // hold the new ones, also those of connections the tracker has not seen yet when the reading
      // starts (a connection of a few milliseconds is gone by the next reading).
      const listeners = new Set(sockets.filter((x) => x.state === 'LISTEN').map((x) => x.inode));
      const found = this.readFds([...this.hot], pids.length);
      for (const [inode, o] of found.owners) {
        // a listener may be shared with processes not read here (prefork): only a full scan names them all
        if (listeners.has(inode)) continue;
        this.ownerOf.set(inode, o);
        unknown.delete(inode);
      }
      if (unknown.size > 0 && t0 - this.lastFullScan >= FULL_FD_SCAN_MS) {
        fdScan = true;
        this.lastFullScan = t0;
        const all = this.readFds(pids, pids.length);
        unreadable = this.lastUnreadable = all.unreadable;
        for (const [inode, o] of all.owners) this.ownerOf.set(inode, o);
        this.unowned.clear();
        for (const x of sockets) if (x.inode !== 0 && !all.owners.has(x.inode)) this.unowned.add(x.inode);
      }
      // forget sockets that are gone
      const present = new Set(sockets.map((x) => x.inode));
      for (const inode of this.ownerOf.keys()) if (!present.has(inode)) this.ownerOf.delete(inode);
    }
    const used = new Set<number>();
    for (const s of sockets) {
      if (s.inode === 0) continue;
      const o = this.ownerOf.get(s.inode);
      if (!o) continue;
      s.owners = o;
      for (const x of o) {
        used.add(x.pid);
        if (s.state !== 'LISTEN' || !wanted || wanted.has(s.localPort)) this.hot.add(x.pid);
      }
    }
    const processes: ProcessInfo[] = [];
    for (const pid of used) {
      const p = this.procs.get(pid);
      if (p) processes.push(p);
    }
    return {
      at: Date.now(),
      sockets,
      processes,
      netstat,
      ownNetns,
      unreadable,
      fdScan,
      badLines,
      timeWaitAsked: [...asked],
      tcpInfo: ask.tcpInfo,
      ssRuns: this.ssRuns,
      ssCpuMs: this.ssCpuMs,
      ssViaHelper: this.ssViaHelper,
      ssHelperRestarts: 0,
      costMs: performance.now() - t0,
    };
  }

  /** The socket fds of these processes, by inode; and how many could not be read. */
  private readFds(pids: readonly number[], _total: number): { owners: Map<number, { pid: number; fd: number }[]>; unreadable: number } {
    const owners = new Map<number, { pid: number; fd: number }[]>();
    let unreadable = 0;
    for (const pid of pids) {
      const fds = readSocketFds(this.root, pid);
      if (typeof fds === 'string') {
        if (fds === 'no-permission') unreadable++;
        continue;
      }
      if (fds.length === 0) continue;
      for (let i = 0; i < fds.length; i += 2) {
        const list = owners.get(fds[i + 1]);
        if (list) list.push({ pid, fd: fds[i] });
        else owners.set(fds[i + 1], [{ pid, fd: fds[i] }]);
      }
      this.learn(pid);
    }
    return { owners, unreadable };
  }

  /**
   * Our own namespace through ss: every listener, and the connected sockets on the wanted ports
   * (filtered in the kernel). null when ss cannot be run.
   */
  private ownTables(ask: ScanAsk, pre: Prefetched | null): SsRow[] | null {
    const now = performance.now();
    const plan = pre?.plan ?? this.ownPlan(ask, now);
    const out = pre?.out ?? null;
    let listeners: SsRow[] | null;
    if (plan.listeners) {
      listeners = this.ss(plan.listeners, null, 'LISTEN', out);
      if (!listeners) return null;
      this.listenerRows = listeners;
      this.listenersAt = now;
    } else {
      // the rows are the scan's own objects (it writes owners onto them): a copy of each
      listeners = this.listenerRows.map((r) => ({ ...r }));
    }
    let connected: SsRow[] = [];
    if (plan.connected) {
      const rows = this.ss(plan.connected, null, undefined, out);
      if (!rows) return null;
      // more ports than a kernel filter takes: the walk read every connected socket
      const wanted = ask.ports !== null && portFilter(ask.ports) === null ? new Set(ask.ports) : null;
      connected = wanted ? rows.filter((r) => wanted.has(r.localPort) || wanted.has(r.remotePort)) : rows;
    }
    for (const l of listeners) this.backlogs.set(l.inode, l.sendQ);
    if (!plan.timeWait) return listeners.concat(connected);
    const pairs = this.ss(plan.timeWait, null, undefined, out) ?? [];
    return listeners.concat(connected, pairs);
  }

  /** Another namespace was read from /proc: backlogs (once per listener) and tcp_info come from ss run inside it. */
  private fillFromSs(sockets: ScannedSocket[], netns: number, pid: number | null, ask: ScanAsk, connected: boolean): void {
    const mine = sockets.filter((s) => s.netns === netns);
    const needBacklog = mine.some((s) => s.state === 'LISTEN' && s.backlog === null && s.inode !== 0);
    if (needBacklog) {
      for (const row of this.ss(LISTENING, pid, 'LISTEN') ?? []) this.backlogs.set(row.inode, row.sendQ);
      for (const s of mine) if (s.state === 'LISTEN') s.backlog = this.backlogs.get(s.inode) ?? null;
    }
    if (ask.tcpInfo && connected && ask.connected !== false) {
      const byInode = new Map<number, ScannedSocket>();
      for (const s of mine) if (s.inode !== 0) byInode.set(s.inode, s);
      const filter = ask.ports === null ? null : portFilter(ask.ports);
      for (const row of this.ss(['-Htanei', 'state', 'connected', 'exclude', 'time-wait', ...(filter ?? [])], pid) ?? []) {
        const s = byInode.get(row.inode);
        if (s) s.info = row.info;
      }
    }
  }

  private ss(args: string[], nsPid: number | null, onlyState?: TcpState, out: ReadonlyMap<string, SsOutput> | null = null): SsRow[] | null {
    this.ssRuns++;
    const ran = out?.get(ssKey(args));
    if (ran) {
      this.ssViaHelper++;
      this.ssCpuMs += ran.cpuMs;
      return ran.text === null ? null : parseSs(ran.text, onlyState);
    }
    // what the run cost: the CPU of the children this process has waited for, before and after
    const before = reapedCpuMs('self', this.root);
    // the first reading at tcpscope's own priority: listeners and owners are there when a user first looks
    const rows = runSs(args, nsPid, onlyState, this.scans > 1);
    this.ssCpuMs += Math.max(0, reapedCpuMs('self', this.root) - before);
    return rows;
  }

  /** Reads a process's names once per (pid, start time): a pid reused by a new process is read again. */
  private learn(pid: number): void {
    const st = readStat(this.root, pid);
    if (!st) return;
    const known = this.procs.get(pid);
    if (known && known.startTime === st.startTime) return;
    const uid = readUid(this.root, pid);
    let user = uid === null ? null : (this.users.get(uid) ?? null);
    if (uid !== null && user === null) {
      this.users = readPasswd();
      user = this.users.get(uid) ?? String(uid);
    }
    this.nsOfPid.set(pid, readNetns(this.root, pid));
    this.procs.set(pid, {
      pid,
      command: st.comm,
      cmdline: readCmdline(this.root, pid),
      user,
      uid,
      netns: this.nsOfPid.get(pid) ?? null,
      startTime: st.startTime,
    });
  }
}

function readText(path: string): string | null {
  try {
    return readFileSync(path, 'latin1');
  } catch {
    return null;
  }
}

