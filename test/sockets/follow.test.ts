// `tcpscope live --pid`: the capture takes the ports of that process's sockets, and a listening
// port it opens later joins the capture.
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { needs, root } from '../support/skip';
import { buildOnce, getJson, runCli, startCli, type RunningCli } from '../cli/support';
import { waitFor } from '../support/wait';
import { HOLDING_SERVER, startProc, word, type Proc } from './procs';

const HOST = '127.0.0.78';

function touch(port: number): Promise<number> {
  return new Promise((resolve) => {
    const s = net.connect({ host: HOST, port }, () => {
      const p = s.localPort!;
      setTimeout(() => {
        s.destroy();
        resolve(p);
      }, 50);
    });
    s.on('error', () => resolve(-1));
  });
}

describe('tcpscope live --pid', needs(root()), () => {
  let server: Proc;
  let other: Proc;
  let cli: RunningCli;
  let port = 0;
  let otherPort = 0;

  beforeAll(async () => {
    await buildOnce();
    server = startProc(process.execPath, ['-e', HOLDING_SERVER, HOST, '0', '16']);
    other = startProc(process.execPath, ['-e', HOLDING_SERVER, HOST, '0', '16']);
    port = word(await server.line('ready'), 1);
    otherPort = word(await other.line('ready'), 1);
    cli = await startCli(['live', '--pid', String(server.pid), '--listen', '127.0.0.1:0']);
  }, 60_000);

  afterAll(async () => {
    server?.stop();
    other?.stop();
    expect(await cli?.stop()).toBe(0);
  });

  it("captures the process's ports and not another's", async () => {
    expect(cli.stderr()).toContain(`following node (pid ${server.pid}): ports ${port}`);
    const { body } = await getJson(`${cli.url}api/health`);
    expect(body.source.filter).toContain(`port ${port}`);
    const mine = await touch(port);
    await touch(otherPort);
    const c = await waitFor('the connection to the followed port', async () => {
      const r = (await getJson(`${cli.url}api/connections?status=all`)).body.connections as any[];
      return r.find((x) => x.client.port === mine);
    });
    expect(c.server.port).toBe(port);
    await new Promise((r) => setTimeout(r, 300));
    const all = (await getJson(`${cli.url}api/connections?status=all&port=${otherPort}`)).body;
    expect(all.total).toBe(0);
  });

  it('follows a listening port the process opens later', async () => {
    server.child.kill('SIGUSR1');
    const more = word(await server.line('also'), 1);
    await waitFor('the capture to follow the new port', () => cli.stderr().includes(`now also capturing port ${more}`), 10_000);
    const cport = await touch(more);
    const c = await waitFor('the connection to the new port, with its owner', async () => {
      const r = (await getJson(`${cli.url}api/connections?status=all&port=${more}`)).body.connections as any[];
      return r.find((x) => x.client.port === cport && x.server.process);
    });
    expect(c.server.process).toMatchObject({ pid: server.pid });
  });

  it('says in one line when no process matches', async () => {
    const r = await runCli(['live', '--pid', '4194303', '--no-server']);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('no process matching pid 4194303 holds a TCP socket');
  });
});
