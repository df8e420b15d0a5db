import { OWNER_REASONS, type EndpointNotes, type EndpointProcess, type OwnerReason } from '../track/connection';
import type { Side, TcpState } from '../track/states';
import type { ProcessInfo, ScannedSocket, ScanResult } from './scan';
import type { TcpInfo } from './ss';

export type Attribution = { process: EndpointProcess; reason: null } | { process: null; reason: OwnerReason };

/**
 * Attributions and the endpoint notes written from them, one object each per reason and per
 * owner (an owner named through its listener is one object for every endpoint it serves): a
 * busy server's connections all share a few, instead of two new objects per endpoint kept until
 * the connection is settled. Neither is ever altered (a changed note is a new object).
 */
const NO_OWNER = Object.fromEntries(OWNER_REASONS.map((r) => [r, Object.freeze({ process: null, reason: r })])) as Record<OwnerReason, Attribution>;
const NO_OWNER_NOTE = Object.fromEntries(OWNER_REASONS.map((r) => [r, Object.freeze({ process: null, processReason: r })])) as Record<OwnerReason, EndpointNotes>;
const owned = new WeakMap<EndpointProcess, Attribution>();
const ownedNote = new WeakMap<EndpointProcess, EndpointNotes>();

export function noOwner(reason: OwnerReason): Attribution {
  return NO_OWNER[reason];
}

/** An owner's attribution: shared when named through a listener (an owner of its own socket names one endpoint). */
export function ownedBy(p: EndpointProcess): Attribution {
  if (p.via !== 'listener') return { process: p, reason: null };
  let a = owned.get(p);
  if (a === undefined) owned.set(p, (a = { process: p, reason: null }));
  return a;
}

/** The note an attribution writes on its endpoint. */
export function ownerNote(a: Attribution): EndpointNotes {
  if (a.process === null) return NO_OWNER_NOTE[a.reason];
  if (a.process.via !== 'listener') return { process: a.process };
  let n = ownedNote.get(a.process);
  if (n === undefined) ownedNote.set(a.process, (n = { process: a.process }));
  return n;
}

/** Address text as the tables and the decoder both write it (a v4-mapped v6 address as plain v4). */
export function plainIp(ip: string): string {
  return ip.startsWith('::ffff:') && ip.includes('.') ? ip.slice(7) : ip;
}

/** A socket's local and remote ports as one number (local × 65 536 + remote): a key made without text. */
export const portPair = (local: number, remote: number): number => local * 65536 + remote;

/** One endpoint of a connection by its 4-tuple, as the index and the scanner's lookups name it. */
export const tupleKey = (lip: string, lport: number, rip: string, rport: number) => `${plainIp(lip)} ${lport} ${plainIp(rip)} ${rport}`;

export interface Listener {
  ip: string;
  port: number;
  family: 4 | 6;
  netns: number;
  inode: number;
  backlog: number | null;
  /** Connections completed and waiting for accept(). */
  acceptQueue: number;
  owners: EndpointProcess[];
}

/** One scan, indexed for joining with tracked endpoints. */
export class SocketIndex {
  readonly at: number;
  private readonly byTuple = new Map<string, ScannedSocket>();
  /**
   * The port pairs (local × 65 536 + remote) of the sockets in byTuple: most endpoints looked up
   * (every closed connection's, at each reading) are in no reading, and are told so without their
   * tuple's text being made.
   */
  private readonly portPairs = new Set<number>();
  /** Answers of listener() and isLocal() already given, by port and address (a busy server's endpoints ask the same few). */
  private readonly listenerAt = new Map<number, Map<string, ScannedSocket | null>>();
  private readonly local = new Map<string, boolean>();
  private readonly listenersByPort = new Map<number, ScannedSocket[]>();
  private readonly procs = new Map<number, ProcessInfo>();
  private readonly listenerOwners = new Map<ScannedSocket, EndpointProcess | null>();
  /** Every address some socket of the machine is bound to, in any namespace. */
  readonly localIps = new Set<string>();
  readonly unreadable: number;

  constructor(readonly scan: ScanResult, extraLocalIps: Iterable<string> = []) {
    this.at = scan.at;
    this.unreadable = scan.unreadable;
    for (const p of scan.processes) this.procs.set(p.pid, p);
    for (const ip of extraLocalIps) this.localIps.add(plainIp(ip));
    for (const s of scan.sockets) {
      if (s.state === 'LISTEN') {
        const l = this.listenersByPort.get(s.localPort);
        if (l) l.push(s);
        else this.listenersByPort.set(s.localPort, [s]);
        continue;
      }
      const ip = plainIp(s.localIp);
      if (ip !== '0.0.0.0' && ip !== '::') this.localIps.add(ip);
      const k = tupleKey(s.localIp, s.localPort, s.remoteIp, s.remotePort);
      this.portPairs.add(portPair(s.localPort, s.remotePort));
      // a live socket wins over a TIME_WAIT one on the same tuple (port reuse)
      const prev = this.byTuple.get(k);
      if (!prev || prev.state === 'TIME_WAIT') this.byTuple.set(k, s);
    }
  }

  socket(ip: string, port: number, peerIp: string, peerPort: number): ScannedSocket | undefined {
    if (!this.portPairs.has(portPair(port, peerPort))) return undefined;
    return this.byTuple.get(tupleKey(ip, port, peerIp, peerPort));
  }

  /** The listener that would take a connection to ip:port (an exact address first, then a wildcard). */
  listener(ip: string, port: number): ScannedSocket | undefined {
    const l = this.listenersByPort.get(port);
    if (!l) return undefined;
    let byIp = this.listenerAt.get(port);
    if (byIp === undefined) this.listenerAt.set(port, (byIp = new Map()));
    let found = byIp.get(ip);
    if (found === undefined) {
      const p = plainIp(ip);
      found = l.find((s) => plainIp(s.localIp) === p) ?? l.find((s) => s.localIp === '0.0.0.0' || s.localIp === '::') ?? null;
      byIp.set(ip, found);
    }
    return found ?? undefined;
  }

  /** Listeners that take connections to ip (bound to it or to a wildcard), all ports. */
  listenersOn(ip: string): Listener[] {
    const p = plainIp(ip);
    return this.listeners(null).filter((l) => plainIp(l.ip) === p || l.ip === '0.0.0.0' || l.ip === '::');
  }

  listenerPorts(): number[] {
    return [...this.listenersByPort.keys()];
  }

  listeners(ports: ReadonlySet<number> | null): Listener[] {
    const out: Listener[] = [];
    for (const [port, socks] of this.listenersByPort) {
      if (ports && !ports.has(port)) continue;
      for (const s of socks) {
        out.push({
          ip: s.localIp,
          port,
          family: s.family,
          netns: s.netns,
          inode: s.inode,
          backlog: s.backlog,
          acceptQueue: s.rxQueue,
          owners: s.owners.map((o) => this.process(o.pid, o.fd, 'socket')).filter((x): x is EndpointProcess => x !== null),
        });
      }
    }
    return out.sort((a, b) => a.port - b.port || a.ip.localeCompare(b.ip));
  }

  process(pid: number, fd: number | null, via: EndpointProcess['via']): EndpointProcess | null {
    const p = this.procs.get(pid);
    if (!p) return null;
    return { pid, command: p.command, cmdline: p.cmdline, user: p.user, netns: p.netns, fd, via };
  }

  isLocal(ip: string): boolean {
    let is = this.local.get(ip);
    if (is === undefined) {
      const p = plainIp(ip);
      is = this.localIps.has(p) || p.startsWith('127.') || p === '::1';
      this.local.set(ip, is);
    }
    return is;
  }

  /** The owner of a socket: its first holder, the others named beside it. */
  ownerOf(s: ScannedSocket, via: EndpointProcess['via']): EndpointProcess | null {
    if (s.owners.length === 0) return null;
    if (via === 'listener') {
      // one object for every endpoint named through this listener (nothing changes an owner once made)
      let o = this.listenerOwners.get(s);
      if (o === undefined) this.listenerOwners.set(s, (o = this.makeOwner(s, via)));
      return o;
    }
    return this.makeOwner(s, via);
  }

  private makeOwner(s: ScannedSocket, via: EndpointProcess['via']): EndpointProcess | null {
    const first = this.process(s.owners[0].pid, via === 'socket' ? s.owners[0].fd : null, via);
    if (!first) return null;
    const others = [...new Set(s.owners.slice(1).map((o) => o.pid))].filter((p) => p !== first.pid);
    if (others.length > 0) first.alsoHeldBy = others;
    return first;
  }
}

/** What the kernel says of one endpoint, found by its 4-tuple. */
export interface KernelView {
  state: TcpState | 'GONE';
  rxQueue: number;
  txQueue: number;
  info: TcpInfo | null;
}

export function kernelView(ix: SocketIndex, ip: string, port: number, peerIp: string, peerPort: number): KernelView | null {
  const s = ix.socket(ip, port, peerIp, peerPort);
  if (!s) return null;
  return { state: s.state, rxQueue: s.rxQueue, txQueue: s.txQueue, info: s.info };
}

/**
 * Who owns the endpoint ip:port of a connection with peerIp:peerPort, from one scan. `previous` is
 * what an earlier scan found: a socket that lost its owner (TIME_WAIT, closed) keeps it, marked as
 * its last. 'retry' when the endpoint is local but its socket is not in the tables yet or any more,
 * and a later scan may still tell. `refused`: the server endpoint never answered but with a reset,
 * so no socket of its own ever existed.
 */
export function attribute(
  ix: SocketIndex,
  side: Side,
  ip: string,
  port: number,
  peerIp: string,
  peerPort: number,
  previous: Attribution | null,
  lastTry: boolean,
  refused = false,
  /** The endpoint's socket when the caller has looked it up already (null: not in the reading). */
  found?: ScannedSocket | null,
): Attribution | 'retry' {
  const s = found === undefined ? ix.socket(ip, port, peerIp, peerPort) : (found ?? undefined);
  if (s) {
    const owner = s.inode !== 0 ? ix.ownerOf(s, 'socket') : null;
    if (owner) return ownedBy(owner);
    if (previous?.process) return ownedBy({ ...previous.process, lastOwner: true });
    if (s.inode !== 0 && ix.unreadable > 0) return noOwner('no-permission');
    // its own socket is there, its process not read yet (a new process waits for a full fd scan)
    if (s.inode !== 0 && !lastTry) return 'retry';
    // a connection still in its listener's accept queue has no file (inode 0) until accept(): the
    // process that takes it is named at a later reading, not the listener's first holder now
    if (s.inode === 0 && s.state !== 'TIME_WAIT' && !lastTry) return 'retry';
  } else if (previous?.process) {
    return ownedBy({ ...previous.process, lastOwner: true });
  }
  if (!s && !ix.isLocal(ip)) return noOwner('not-local');
  if (side === 'server') {
    const l = ix.listener(ip, port);
    if (l) {
      const owner = ix.ownerOf(l, 'listener');
      if (owner) return ownedBy(owner);
      if (ix.unreadable > 0) return noOwner('no-permission');
    }
  }
  if (!lastTry) return 'retry';
  if (side === 'server' && refused && !s && !ix.listener(ip, port)) return noOwner('not-listening');
  return noOwner(ix.unreadable > 0 && s ? 'no-permission' : 'gone');
}
