// `tcpscope live` with the machine's socket tables, end to end as root on lo: owners on the
// endpoints of REST connections, /api/listeners with backlog and queue, and the diagnoses a user
// would be told — a server that never closes accepted sockets (CLOSE_WAIT), a listener with a
// backlog of 1 that never calls accept(), a refused port next to a live one.
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIAGNOSIS_KINDS } from '../../src/sockets/diagnose';
import { needs, root } from '../support/skip';
import { buildOnce, getJson, startCli, type RunningCli } from '../cli/support';
import { waitFor } from '../support/wait';
import { HOLDING_CLIENT, HOLDING_SERVER, NEVER_ACCEPTS, startProc, word, type Proc } from './procs';
import { freePort } from '../support/ports';

// An address of its own, drawn per run, so the live listener next to the refused port is this
// test's even while another run of the suite listens on the machine
const HOST = `127.77.${1 + Math.floor(Math.random() * 254)}.${1 + Math.floor(Math.random() * 254)}`;


// The socket tables are read within a CPU budget, and tcp_info every few seconds: on a loaded
// machine a reading that names something can come well after the packets.
const READING_WAIT_MS = 40_000;

describe('tcpscope live with socket tables', needs(root()), () => {
  const procs: Proc[] = [];
  let cli: RunningCli;
  let api = '';
  let server: Proc;
  let port = 0;
  let backlogServer: Proc;
  let backlogPort = 0;
  let refusedPort = 0;
  const sockets: net.Socket[] = [];

  const conns = async (q: string) => (await getJson(`${api}api/connections?${q}`)).body.connections as any[];
  /** The diagnoses served now, each of a kind the list declares. */
  const diagnoses = async () => {
    const list = (await getJson(`${api}api/diagnoses`)).body.diagnoses as any[];
    for (const d of list) expect(DIAGNOSIS_KINDS).toContain(d.kind);
    return list;
  };

  beforeAll(async () => {
    await buildOnce();
    server = startProc(process.execPath, ['-e', HOLDING_SERVER, HOST, '0', '16']);
    procs.push(server);
    port = word(await server.line('ready'), 1);
    backlogServer = startProc('python3', ['-c', NEVER_ACCEPTS, HOST, '1']);
    procs.push(backlogServer);
    backlogPort = word(await backlogServer.line('ready'), 1);
    refusedPort = await freePort(HOST);
    cli = await startCli(['live', '-p', String(port), '-p', String(backlogPort), '-p', String(refusedPort), '--close-wait-after', '1', '--listen', '127.0.0.1:0']);
    api = cli.url;
  }, 60_000);

  afterAll(async () => {
    for (const s of sockets) s.destroy();
    for (const p of procs) p.stop();
    expect(await cli?.stop()).toBe(0);
  });

  it('names both processes of a connection, and keeps the client as last owner once it is gone', async () => {
    const client = startProc(process.execPath, ['-e', HOLDING_CLIENT, HOST, String(port)]);
    procs.push(client);
    const cport = word(await client.line('ready'), 1);
    const c = await waitFor('both owners', async () => {
      const [x] = (await conns(`status=all&port=${cport}`)).filter((v) => v.client.port === cport);
      return x?.server.process && x?.client.process ? x : undefined;
    }, READING_WAIT_MS);
    expect(c.server.process).toMatchObject({ pid: server.pid, command: 'node', user: 'root', via: 'socket' });
    expect(c.server.process.cmdline).toContain(`${HOST} 0 16`);
    expect(c.client.process).toMatchObject({ pid: client.pid, via: 'socket' });
    // tcp_info beside the handshake RTT, once the connection has settled
    const k = await waitFor("the kernel's tcp_info", async () => {
      const [x] = (await conns(`port=${cport}`)).filter((v) => v.client.port === cport);
      return x?.server.kernel?.srttMs != null ? x : undefined;
    }, READING_WAIT_MS);
    expect(k.server.kernel).toMatchObject({ state: 'ESTABLISHED', agrees: true });
    expect(k.handshake.rttMs).toBeGreaterThan(0);

    // The client sends 5 bytes the server never reads and goes away: the server never closes, so
    // its endpoint waits in CLOSE_WAIT with the bytes unread
    client.child.kill('SIGUSR2');
    await new Promise((r) => setTimeout(r, 100));
    client.stop();
    const held = await waitFor('the CLOSE_WAIT diagnosis', async () => (await diagnoses()).find((d) => d.kind === 'close-wait-held' && d.connections.includes(c.id)), READING_WAIT_MS);
    expect(held.text).toContain(`(pid ${server.pid}`);
    expect(held.text).toContain(`fd ${c.server.process.fd}`);
    expect(held.text).toMatch(/has not closed its socket \(fd \d+\) for \d+ s/);
    expect(held.evidence).toMatchObject({ pid: server.pid, side: 'server', kernelState: 'CLOSE_WAIT', unreadBytes: 5 });
    const after = await waitFor('the client kept as last owner', async () => {
      const [x] = (await conns(`status=all&port=${cport}`)).filter((v) => v.client.port === cport);
      return x?.client.process?.lastOwner ? x : undefined;
    }, READING_WAIT_MS);
    expect(after.client.process.pid).toBe(client.pid);
  });

  it('lists the listeners on the captured ports with owner, backlog and queue', async () => {
    const { status, body } = await getJson(`${api}api/listeners`);
    expect(status).toBe(200);
    const ports = body.listeners.map((l: any) => l.port);
    expect(ports).toContain(port);
    expect(ports).toContain(backlogPort);
    expect(body.listeners.every((l: any) => [port, backlogPort].includes(l.port))).toBe(true);
    const l = body.listeners.find((x: any) => x.port === backlogPort);
    expect(l).toMatchObject({ ip: HOST, backlog: 1, owners: [{ pid: backlogServer.pid, command: 'python3' }] });
    expect((await getJson(`${api}api/listeners?all=true`)).body.listeners.length).toBeGreaterThanOrEqual(body.listeners.length);
    expect((await getJson(`${api}api/listeners?all=maybe`)).status).toBe(400);
  });

  it('diagnoses a full accept queue with the kernel counters as evidence', async () => {
    // backlog 1 lets two connections complete; the rest wait with their SYNs dropped
    for (let i = 0; i < 5; i++) {
      const s = net.connect({ host: HOST, port: backlogPort });
      s.on('error', () => {});
      sockets.push(s);
    }
    const d = await waitFor('the accept-queue diagnosis', async () => (await diagnoses()).find((x) => x.kind === 'accept-queue-full' && x.listener.port === backlogPort), 20_000);
    expect(d.text).toContain(`${HOST}:${backlogPort}`);
    expect(d.text).toContain('not calling accept() fast enough');
    expect(d.text).toContain(`(pid ${backlogServer.pid}`);
    expect(d.evidence.backlog).toBe(1);
    expect(d.evidence.acceptQueue).toBeGreaterThanOrEqual(1);
    expect(d.evidence.listenOverflowsRise + d.evidence.synRetransmits).toBeGreaterThan(0);
  });

  it('names the live listener next to a refused port', async () => {
    await new Promise<void>((resolve) => {
      const s = net.connect({ host: HOST, port: refusedPort });
      s.on('error', () => resolve());
    });
    const d = await waitFor('the refused diagnosis', async () => (await diagnoses()).find((x) => x.kind === 'refused' && x.listener.port === refusedPort));
    expect(d.text).toContain(`nothing listens on ${HOST}:${refusedPort}`);
    // the nearest listener bound to the same address is one of this test's
    expect(d.text).toMatch(new RegExp(`${HOST.replace(/\./g, '\\.')}:(${port}|${backlogPort}) is listened on by`));
    const c = await waitFor('the refused endpoint looked up', async () => {
      const [x] = await conns(`status=all&port=${refusedPort}`);
      return x?.server.processReason ? x : undefined;
    }, READING_WAIT_MS);
    expect(c.server).toMatchObject({ process: null, processReason: 'not-listening' });
  });

  it('reports how many endpoints got an owner, and the cross-check, in stats', async () => {
    const { body } = await getJson(`${api}api/stats`);
    expect(body.sockets.mode).toBe('thread');
    expect(body.sockets.owners.endpoints).toBeGreaterThan(0);
    expect(body.sockets.owners.owned).toBeGreaterThan(0);
    expect(body.sockets.crossCheck.compared).toBeGreaterThan(0);
    expect(body.sockets.error).toBeNull();
  });
});
