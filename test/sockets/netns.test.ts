// A server inside a network namespace of its own, reached over a veth pair from a client outside
// it, `tcpscope live` capturing on the veth: both endpoints are named, the server's with the
// namespace it lives in (read through /proc/PID/net/tcp of a process in it). The namespace and
// the veth are removed however the test ends.
import { execFileSync } from 'node:child_process';
import { readlinkSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SocketScanner } from '../../src/sockets/scan';
import { buildOnce, getJson, startCli, type RunningCli } from '../cli/support';
import { needs, root, tool } from '../support/skip';
import { waitFor } from '../support/wait';
import { HOLDING_CLIENT, HOLDING_SERVER, startProc, word, type Proc } from './procs';

const TAG = `${process.pid.toString(36)}${Math.floor(Math.random() * 1e4).toString(36)}`;
const NS = `tsns${TAG}`;
const OUTSIDE = `tsv${TAG}`;
const INSIDE = `tsw${TAG}`;
const NET = `10.${1 + Math.floor(Math.random() * 250)}.${1 + Math.floor(Math.random() * 250)}`;
const netnsOf = (pid: number | 'self') => Number(readlinkSync(`/proc/${pid}/ns/net`).slice(5, -1));

function clean(): void {
  for (const args of [['link', 'del', OUTSIDE], ['netns', 'del', NS]]) {
    try {
      execFileSync('ip', args, { stdio: 'ignore' });
    } catch {
      // not there
    }
  }
}

describe('owners across network namespaces, over a veth pair', needs(root(), tool('ip')), () => {
  const procs: Proc[] = [];
  let cli: RunningCli | null = null;
  let server: Proc;
  let client: Proc;
  let port = 0;
  let cport = 0;

  beforeAll(async () => {
    await buildOnce();
    process.once('exit', clean);
    clean();
    const ip = (...a: string[]) => execFileSync('ip', a);
    ip('netns', 'add', NS);
    ip('link', 'add', OUTSIDE, 'type', 'veth', 'peer', 'name', INSIDE, 'netns', NS);
    ip('addr', 'add', `${NET}.1/24`, 'dev', OUTSIDE);
    ip('link', 'set', OUTSIDE, 'up');
    ip('-n', NS, 'addr', 'add', `${NET}.2/24`, 'dev', INSIDE);
    ip('-n', NS, 'link', 'set', INSIDE, 'up');
    ip('-n', NS, 'link', 'set', 'lo', 'up');
    server = startProc('ip', ['netns', 'exec', NS, process.execPath, '-e', HOLDING_SERVER, `${NET}.2`, '0', '16']);
    procs.push(server);
    port = word(await server.line('ready'), 1);
    cli = await startCli(['live', '-i', OUTSIDE, '-p', String(port), '--listen', '127.0.0.1:0']);
    client = startProc(process.execPath, ['-e', HOLDING_CLIENT, `${NET}.2`, String(port)]);
    procs.push(client);
    cport = word(await client.line('ready'), 1);
  }, 60_000);

  afterAll(async () => {
    for (const p of procs) p.stop();
    await cli?.stop();
    clean();
    process.off('exit', clean);
  });

  it('names the server inside the namespace and the client outside it', async () => {
    const inside = netnsOf(server.pid);
    expect(inside).not.toBe(netnsOf('self'));
    const c = await waitFor(
      'both owners',
      async () => {
        const list = (await getJson(`${cli!.url}api/connections?port=${port}`)).body.connections as any[];
        const x = list.find((y) => y.client.port === cport);
        return x?.client.process && x?.server.process ? x : null;
      },
      20_000,
      200,
    );
    expect(c.server).toMatchObject({ ip: `${NET}.2`, state: 'ESTABLISHED', process: { pid: server.pid, command: 'node', netns: inside, via: 'socket' } });
    expect(c.client).toMatchObject({ ip: `${NET}.1`, process: { pid: client.pid, command: 'node', netns: netnsOf('self'), via: 'socket' } });
  });

  it('lists the listener inside the namespace, with its owner', async () => {
    const l = (await getJson(`${cli!.url}api/listeners?port=${port}`)).body.listeners as any[];
    expect(l).toHaveLength(1);
    expect(l[0]).toMatchObject({ ip: `${NET}.2`, port, netns: netnsOf(server.pid), owners: [{ pid: server.pid }] });
  });

  it('reads a closed connection\'s port pair inside the namespace without the connected sockets', () => {
    // the namespace is read from /proc (not through ss): a pair asked for is read there in any
    // state but listening, as ss reads it in tcpscope's own namespace
    const r = new SocketScanner().scan({ tcpInfo: false, ports: [port], connected: false, timeWait: [{ local: port, remote: cport }] });
    const inside = netnsOf(server.pid);
    const pair = r.sockets.filter((s) => s.netns === inside && s.localPort === port && s.remotePort === cport);
    expect(pair).toHaveLength(1);
    expect(pair[0].state).toBe('ESTABLISHED');
    expect(r.sockets.some((s) => s.netns === inside && s.state !== 'LISTEN' && s.remotePort !== cport)).toBe(false);
  });
});
