// Owners of real sockets held by real processes: a server and a client as separate programs, one
// under another user, one pair in a network namespace made here, a prefork server whose two
// processes share one listening socket; and a reused pid is not misnamed.
import { execFileSync } from 'node:child_process';
import { readlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { needs, root } from '../support/skip';
import { waitFor } from '../support/wait';
import { attribute, SocketIndex } from '../../src/sockets/attribute';
import { SocketScanner } from '../../src/sockets/scan';
import { buildForChild } from '../support/tools';
import { HOLDING_CLIENT, HOLDING_SERVER, makeNetns, PREFORK_SERVER, startProc, word, type Proc } from './procs';

const procs: Proc[] = [];
const start = (file: string, args: string[], opts = {}) => {
  const p = startProc(file, args, opts);
  procs.push(p);
  return p;
};
const node = process.execPath;
const netnsOf = (pid: number) => Number(readlinkSync(`/proc/${pid}/ns/net`).slice(5, -1));

afterAll(() => {
  for (const p of procs) p.stop();
});

async function serverAndClient(host: string, opts: { server?: object; client?: object; wrap?: string[] } = {}) {
  const wrap = opts.wrap ?? [];
  const [f, ...pre] = wrap.length ? wrap : [node];
  const args = (script: string, rest: string[]) => (wrap.length ? [...pre, node, '-e', script, ...rest] : ['-e', script, ...rest]);
  const server = start(f, args(HOLDING_SERVER, [host, '0', '16']), opts.server);
  const port = word(await server.line('ready'), 1);
  const client = start(f, args(HOLDING_CLIENT, [host, String(port)]), opts.client);
  const cport = word(await client.line('ready'), 1);
  await server.line(`accepted ${cport}`);
  return { server, client, port, cport };
}

function scanIndex(scanner = new SocketScanner()): SocketIndex {
  return new SocketIndex(scanner.scan({ tcpInfo: false, ports: null }));
}

describe('owners of real endpoints', needs(root()), () => {
  it('names the server and the client process of a loopback connection, with fd, user and namespace', async () => {
    const { server, client, port, cport } = await serverAndClient('127.0.0.1');
    const ix = scanIndex();
    const s = attribute(ix, 'server', '127.0.0.1', port, '127.0.0.1', cport, null, true);
    const c = attribute(ix, 'client', '127.0.0.1', cport, '127.0.0.1', port, null, true);
    expect(s).toMatchObject({ reason: null, process: { pid: server.pid, command: 'node', user: 'root', via: 'socket', netns: netnsOf(server.pid) } });
    expect(c).toMatchObject({ reason: null, process: { pid: client.pid, command: 'node', via: 'socket' } });
    if (s === 'retry' || c === 'retry') throw new Error('unreachable');
    expect(s.process?.cmdline).toContain(`127.0.0.1 0 16`);
    expect(c.process?.cmdline).toContain(`127.0.0.1 ${port}`);
    // the fd is the one the process really holds the socket on
    expect(readlinkSync(`/proc/${server.pid}/fd/${s.process!.fd}`)).toMatch(/^socket:\[\d+\]$/);
    const listener = ix.listeners(new Set([port]));
    expect(listener).toHaveLength(1);
    expect(listener[0]).toMatchObject({ port, backlog: 16, acceptQueue: 0, owners: [{ pid: server.pid }] });
  });

  it('names a server running as another user, with that user', async () => {
    const { server, port, cport } = await serverAndClient('127.0.0.1', { server: { uid: 65534, gid: 65534 } });
    const a = attribute(scanIndex(), 'server', '127.0.0.1', port, '127.0.0.1', cport, null, true);
    expect(a).toMatchObject({ process: { pid: server.pid, user: 'nobody' } });
  });

  it('names the processes of a connection inside another network namespace', async () => {
    const ns = makeNetns(`tcpscope-own-${process.pid}`);
    try {
      const { server, client, port, cport } = await serverAndClient('127.0.0.1', { wrap: ['ip', 'netns', 'exec', ns.name] });
      const nsInode = netnsOf(server.pid);
      expect(nsInode).not.toBe(netnsOf(process.pid));
      const ix = scanIndex();
      // our own namespace has no such connection; the other one has, and both ends are named
      const s = attribute(ix, 'server', '127.0.0.1', port, '127.0.0.1', cport, null, true);
      const c = attribute(ix, 'client', '127.0.0.1', cport, '127.0.0.1', port, null, true);
      expect(s).toMatchObject({ process: { pid: server.pid, netns: nsInode } });
      expect(c).toMatchObject({ process: { pid: client.pid, netns: nsInode } });
    } finally {
      for (const p of procs) p.stop();
      ns.remove();
    }
  });

  it('names the process of a prefork server that accepted each connection, and both on the listener', async () => {
    const server = start('python3', ['-c', PREFORK_SERVER]);
    const port = word(await server.line('ready'), 1);
    const childPid = word(await server.line('forked'), 1);
    const clients: Proc[] = [];
    for (let i = 0; i < 6; i++) clients.push(start(node, ['-e', HOLDING_CLIENT, '127.0.0.1', String(port)]));
    const cports = await Promise.all(clients.map(async (c) => word(await c.line('ready'), 1)));
    const acceptedBy = new Map<number, number>();
    // both processes block in accept(); on a busy machine one may be scheduled late
    await waitFor('every connection accepted', () => server.lines.filter((x) => x.startsWith('accepted')).length >= cports.length);
    for (const line of server.lines.filter((x) => x.startsWith('accepted'))) acceptedBy.set(word(line, 2), word(line, 1));
    expect(acceptedBy.size).toBe(cports.length);
    const ix = scanIndex();
    for (const cp of cports) {
      const a = attribute(ix, 'server', '127.0.0.1', port, '127.0.0.1', cp, null, true);
      expect(a).toMatchObject({ process: { pid: acceptedBy.get(cp), command: 'python3', via: 'socket' } });
    }
    const [l] = ix.listeners(new Set([port]));
    expect(l.owners.map((o) => o.pid).sort()).toEqual([server.pid, childPid].sort());
    // a short-lived connection whose socket is gone falls back to the listener, naming both
    const fallback = attribute(ix, 'server', '127.0.0.1', port, '127.0.0.1', 1, null, true);
    expect(fallback).toMatchObject({ process: { via: 'listener', fd: null } });
    if (fallback !== 'retry' && fallback.process) {
      expect([fallback.process.pid, ...(fallback.process.alsoHeldBy ?? [])].sort()).toEqual([server.pid, childPid].sort());
    }
    execFileSync('kill', ['-9', String(childPid)]);
  });

  it('does not give a reused pid the name of the process that had it before', async () => {
    const scanner = new SocketScanner();
    const first = await serverAndClient('127.0.0.1');
    const pid = first.server.pid;
    const a = attribute(new SocketIndex(scanner.scan({ tcpInfo: false, ports: null })), 'server', '127.0.0.1', first.port, '127.0.0.1', first.cport, null, true);
    expect(a).toMatchObject({ process: { pid, cmdline: expect.stringContaining('127.0.0.1 0 16') } });
    first.server.stop();
    first.client.stop();
    await new Promise((r) => first.server.child.once('exit', r));
    // The kernel hands out the pid after ns_last_pid next: ask for the old one back (others may
    // take it first on a busy machine, so try a few times).
    let again: Proc | null = null;
    for (let i = 0; i < 20 && !again; i++) {
      writeFileSync('/proc/sys/kernel/ns_last_pid', String(pid - 1));
      const p = start(node, ['-e', HOLDING_SERVER, '127.0.0.2', '0', '8']);
      if (p.pid === pid) again = p;
      else p.stop();
    }
    if (!again) return void console.warn('could not get the pid back; the reuse case is covered by the scanner test');
    const port = word(await again.line('ready'), 1);
    const c = start(node, ['-e', HOLDING_CLIENT, '127.0.0.2', String(port)]);
    const cport = word(await c.line('ready'), 1);
    await again.line(`accepted ${cport}`);
    // a new process: read by the next full fd scan, at most every 2 s
    await new Promise((r) => setTimeout(r, 2100));
    // a client of 127.0.0.2 speaks from 127.0.0.1
    const b = attribute(new SocketIndex(scanner.scan({ tcpInfo: false, ports: null })), 'server', '127.0.0.2', port, '127.0.0.1', cport, null, true);
    expect(b).toMatchObject({ process: { pid, via: 'socket', cmdline: expect.stringContaining('127.0.0.2 0 8') } });
  });
});

describe('owners without permission', needs(root()), () => {
  it('gives null owners with the reason when run as nobody, and still reads the tables', async () => {
    const { port, cport } = await serverAndClient('127.0.0.1');
    const dir = buildForChild(['src/sockets/scan.ts', 'src/sockets/attribute.ts']);
    const script = `
      const { SocketScanner } = require(${JSON.stringify(path.join(dir, 'src/sockets/scan.js'))});
      const { SocketIndex, attribute } = require(${JSON.stringify(path.join(dir, 'src/sockets/attribute.js'))});
      const ix = new SocketIndex(new SocketScanner().scan({ tcpInfo: false, ports: null }));
      console.log(JSON.stringify({
        server: attribute(ix, 'server', '127.0.0.1', ${port}, '127.0.0.1', ${cport}, null, true),
        client: attribute(ix, 'client', '127.0.0.1', ${cport}, '127.0.0.1', ${port}, null, true),
        listeners: ix.listeners(new Set([${port}])),
        unreadable: ix.unreadable,
      }));`;
    const r = execFileSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', node, '-e', script], { encoding: 'utf8' });
    const out = JSON.parse(r);
    expect(out.unreadable).toBeGreaterThan(0);
    expect(out.server).toEqual({ process: null, reason: 'no-permission' });
    expect(out.client).toEqual({ process: null, reason: 'no-permission' });
    // the listener is still seen, with its queue, but nobody may know whose it is
    expect(out.listeners).toHaveLength(1);
    expect(out.listeners[0]).toMatchObject({ port, owners: [] });
  });
});
