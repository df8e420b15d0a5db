import { readFileSync } from 'node:fs';
import { parseProcTcp, type KernelSocket } from './proc-tcp';
import { portFilter, runSs, type SsRow, type TcpInfo } from './ss';
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
   * null: all of them.
   */
  ports: number[] | null;
}

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
  /** Listener backlogs by inode (a listener's backlog is fixed once it listens). */
  private backlogs = new Map<number, number>();
  private users = readPasswd();

  constructor(opts: Partial<ScanOptions> = {}) {
    this.root = opts.root ?? '/proc';
  }

  scan(ask: ScanAsk = { tcpInfo: false, ports: null }): ScanResult {
    const t0 = performance.now();
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
    let unknown = 0;
    const wanted = ask.ports === null ? null : new Set(ask.ports);
    for (const [netns, dir] of nsReader) {
      const pid = nsPid.get(netns) ?? null;
      const rows = pid === null ? this.ownTables(ask) : null;
      const got: (KernelSocket & { info?: TcpInfo | null; sendQ?: number })[] = rows ?? [];
      if (!rows) {
        for (const [file, fam] of [['tcp', 4], ['tcp6', 6]] as const) {
          const text = readText(`${dir}/${file}`);
          if (text !== null) badLines += parseProcTcp(text, fam, got).badLines;
        }
      }
      let connected = 0;
      for (const r of got) {
        if (r.state !== 'LISTEN' && wanted && !wanted.has(r.localPort) && !wanted.has(r.remotePort)) continue;
        const s = r as ScannedSocket;
        s.netns = netns;
        s.owners = [];
        s.info = r.info ?? null;
        if (s.state === 'LISTEN') s.backlog = r.sendQ ?? this.backlogs.get(s.inode) ?? null;
        else {
          s.backlog = null;
          connected++;
        }
        if (s.inode !== 0 && !this.ownerOf.has(s.inode) && !this.unowned.has(s.inode)) unknown++;
        sockets.push(s);
      }
      if (!rows) this.fillFromSs(sockets, netns, pid, ask, connected > 0);
      const ns = readText(`${dir}/netstat`);
      if (ns !== null) netstat.push({ netns, counters: parseNetstat(ns) });
    }

    let unreadable = 0;
    if (unknown > 0) {
      const found = new Map<number, { pid: number; fd: number }[]>();
      for (const pid of pids) {
        const fds = readSocketFds(root, pid);
        if (typeof fds === 'string') {
          if (fds === 'no-permission') unreadable++;
          continue;
        }
        if (fds.length === 0) continue;
        let holds = false;
        for (let i = 0; i < fds.length; i += 2) {
          const inode = fds[i + 1];
          const list = found.get(inode);
          if (list) list.push({ pid, fd: fds[i] });
          else found.set(inode, [{ pid, fd: fds[i] }]);
          holds = true;
        }
        if (holds) this.learn(pid);
      }
      this.ownerOf = found;
      this.unowned.clear();
      for (const s of sockets) if (s.inode !== 0 && !found.has(s.inode)) this.unowned.add(s.inode);
    }
    const used = new Set<number>();
    for (const s of sockets) {
      if (s.inode === 0) continue;
      const o = this.ownerOf.get(s.inode);
      if (!o) continue;
      s.owners = o;
      for (const x of o) used.add(x.pid);
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
      fdScan: unknown > 0,
      badLines,
      costMs: performance.now() - t0,
    };
  }

  /**
   * Our own namespace through ss: every listener, and the connected sockets on the wanted ports
   * (filtered in the kernel). null when ss cannot be run.
   */
  private ownTables(ask: ScanAsk): SsRow[] | null {
    const listeners = runSs(['-Htlne'], null);
    if (!listeners) return null;
    if (ask.ports !== null && ask.ports.length === 0) return listeners;
    const filter = ask.ports === null ? null : portFilter(ask.ports);
    const connected = runSs([ask.tcpInfo ? '-Htanei' : '-Htane', 'state', 'connected', ...(filter ?? [])], null);
    if (!connected) return null;
    for (const l of listeners) this.backlogs.set(l.inode, l.sendQ);
    return listeners.concat(connected);
  }

  /** Another namespace was read from /proc: backlogs (once per listener) and tcp_info come from ss run inside it. */
  private fillFromSs(sockets: ScannedSocket[], netns: number, pid: number | null, ask: ScanAsk, connected: boolean): void {
    const mine = sockets.filter((s) => s.netns === netns);
    const needBacklog = mine.some((s) => s.state === 'LISTEN' && s.backlog === null && s.inode !== 0);
    if (needBacklog) {
      for (const row of runSs(['-Htlne'], pid) ?? []) this.backlogs.set(row.inode, row.sendQ);
      for (const s of mine) if (s.state === 'LISTEN') s.backlog = this.backlogs.get(s.inode) ?? null;
    }
    if (ask.tcpInfo && connected) {
      const byInode = new Map<number, ScannedSocket>();
      for (const s of mine) if (s.inode !== 0) byInode.set(s.inode, s);
      const filter = ask.ports === null ? null : portFilter(ask.ports);
      for (const row of runSs(['-Htanei', 'state', 'connected', ...(filter ?? [])], pid) ?? []) {
        const s = byInode.get(row.inode);
        if (s) s.info = row.info;
      }
    }
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
