// `tcpscope live` end to end, as root on lo: the built CLI captures real loopback connections
// (narrowed with -p to this test's own ports) and serves them over REST, /metrics and /ws.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WS_ERROR_CODES } from '../../src/server/errors';
import { buildOnce, getJson, startCli, TestTraffic, type Round, type RunningCli } from '../cli/support';
import { waitFor } from '../support/wait';
import { checkConnectionsApi, checkMetrics, checkStats, expectedSequences, stateSequence } from './checks';
import { openStream, wsUrl, type Stream } from './stream';
import { needs, root } from '../support/skip';

describe('tcpscope live', needs(root()), () => {
  let traffic: TestTraffic;
  let cli: RunningCli;
  let stream: Stream;
  let round: Round;
  let api = '';

  const conns = async (q: string) => (await getJson(`${api}api/connections?${q}`)).body;
  const byClientPort = async (port: number) => {
    const r = await conns(`status=all&port=${port}`);
    return r.connections.find((c: any) => c.client.port === port);
  };

  beforeAll(async () => {
    await buildOnce();
    traffic = await new TestTraffic().start();
    cli = await startCli(['live', ...traffic.portArgs(), '--listen', '127.0.0.1:0']);
    api = cli.url;
    // The capture is open once the CLI prints its URL; a probe connection proves packets flow.
    await waitFor('a probe connection to show up', async () => {
      const p = await traffic.clientFirst();
      return (await byClientPort(p)) !== undefined;
    }, 15_000);
    stream = await openStream(wsUrl(api));
    await stream.next((m) => m.type === 'snapshot', 'snapshot');
    round = await traffic.round();
    // Every connection of the round has reached its final state (client-first: TIME_WAIT).
    await waitFor('the round to be tracked', async () => {
      const c = await byClientPort(round.clientFirst);
      const r = await byClientPort(round.reset);
      return c?.client.state === 'TIME_WAIT' && r?.closeKind === 'rst';
    });
  }, 60_000);

  afterAll(async () => {
    stream?.close();
    const code = await cli?.stop();
    await traffic?.stop();
    expect(code).toBe(0);
  });

  it('reports the live source in /api/health', async () => {
    const { status, body } = await getJson(`${api}api/health`);
    expect(status).toBe(200);
    expect(body).toMatchObject({ status: 'ok', source: { kind: 'live', iface: 'lo' } });
    expect(body.source.filter).toContain(`port ${traffic.ports.v4}`);
    expect(typeof body.version).toBe('string');
    expect(body.uptimeS).toBeGreaterThanOrEqual(0);
    // captured in a process of its own, which has had no fault
    expect(body.source.captureProcess).toMatchObject({ state: 'running', restarts: 0, faults: 0, holesTotal: 0, handoverLost: 0, kernelDropped: 0, holes: [] });
    // headers only by default, and libpcap's own drop count
    expect(body.source).toMatchObject({ snapLength: 512, dropped: 0 });
    expect(body.source.captureProcess.pid).toBeGreaterThan(0);
  });

  it('reports the capture process in /api/stats and /metrics', async () => {
    const stats = (await getJson(`${api}api/stats`)).body;
    expect(stats.capture.process).toMatchObject({ state: 'running', restarts: 0, faults: 0, lastFault: null, holes: [] });
    expect(stats.capture.lossEvidence).toMatchObject({ handoverLost: 0, captureHoles: 0, kernelDropped: 0 });
    expect(stats.capture.dropped).toBe(0);
    const text = (await getJson(`${api}metrics`)).body as string;
    expect(text).toMatch(/^tcpscope_capture_up 1$/m);
    expect(text).toMatch(/^tcpscope_capture_faults_total 0$/m);
    expect(text).toMatch(/^tcpscope_capture_restarts_total 0$/m);
    expect(text).toMatch(/^tcpscope_capture_dropped_packets 0$/m);
    const list = (await getJson(`${api}api/connections?status=all&limit=5`)).body;
    for (const c of list.connections) expect(c.captureGap).toBe(false);
  });

  it('gives each endpoint the state sequence the kernel went through', async () => {
    const seq = async (port: number) => stateSequence((await getJson(`${api}api/connections/${(await byClientPort(port)).id}`)).body);
    expect(await seq(round.clientFirst)).toEqual(expectedSequences.clientFirst);
    expect(await seq(round.serverFirst)).toEqual(expectedSequences.serverFirst);
    if (round.ipv6 !== null) expect(await seq(round.ipv6)).toEqual(expectedSequences.clientFirst);
    const rst = await seq(round.reset);
    expect(rst.client.slice(-2)).toEqual(['ESTABLISHED', 'CLOSED']);
    expect(rst.server.slice(-2)).toEqual(['ESTABLISHED', 'CLOSED']);
  });

  it('serves the REST API: lists, filters, cursors, detail, errors', async () => {
    await checkConnectionsApi(api, traffic, round, async () => {
      const p = await traffic.clientFirst();
      await waitFor('the added connection', () => byClientPort(p));
    });
  });

  it('serves /api/stats', async () => {
    await checkStats(api);
  });

  it('serves /metrics in Prometheus text format', async () => {
    await checkMetrics(api);
  });

  it('streams hello, snapshot, then every connection’s events in order', async () => {
    const first = stream.messages[0];
    expect(first).toMatchObject({ type: 'hello', source: { kind: 'live' } });
    expect(typeof first.version).toBe('string');
    expect(stream.messages[1].type).toBe('snapshot');
    expect(Array.isArray(stream.messages[1].connections)).toBe(true);
    const events = stream.events();
    const seqs = events.map((m) => m.seq);
    expect(seqs.every((s, i) => i === 0 || s > seqs[i - 1])).toBe(true);
    expect(seqs[0]).toBeGreaterThan(stream.messages[1].seq);

    for (const port of [round.clientFirst, round.serverFirst, round.halfClose, round.reset]) {
      const c = await byClientPort(port);
      const mine = events.filter((m) => m.event.connectionId === c.id).map((m) => m.event);
      const phases = mine.filter((e) => e.type === 'handshake').map((e) => e.phase);
      expect(phases, `handshake of ${port}`).toEqual(['syn', 'syn-ack', 'established']);
      // The stream's state events are exactly the ones the detail keeps, in the same order.
      const detail = (await getJson(`${api}api/connections/${c.id}`)).body;
      const streamed = mine.filter((e) => e.type === 'state');
      expect(streamed).toEqual(detail.events.filter((e: any) => e.type === 'state'));
      expect(mine.some((e) => e.type === 'teardown')).toBe(true);
      // teardown comes after the handshake completed
      const iEst = mine.findIndex((e) => e.type === 'handshake' && e.phase === 'established');
      const iTear = mine.findIndex((e) => e.type === 'teardown');
      expect(iTear).toBeGreaterThan(iEst);
    }
    const rstConn = await byClientPort(round.reset);
    expect(events.some((m) => m.event.connectionId === rstConn.id && m.event.type === 'reset')).toBe(true);
    expect(events.some((m) => m.event.type === 'refused')).toBe(true);
  });

  it('filters the stream by subscription and answers bad messages with an error', async () => {
    const s = await openStream(wsUrl(api));
    try {
      await s.next((m) => m.type === 'snapshot', 'snapshot');
      s.ws.send(JSON.stringify({ type: 'subscribe', filter: { ports: [traffic.ports.refused], types: ['state', 'refused'] } }));
      const sub = await s.next((m) => m.type === 'subscribed', 'subscribed');
      expect(sub.filter).toEqual({ ports: [traffic.ports.refused], types: ['state', 'refused'] });
      const snap = await s.next((m) => m.type === 'snapshot' && s.messages.indexOf(m) > 1, 'filtered snapshot');
      expect(snap.connections.every((c: any) => c.server.port === traffic.ports.refused)).toBe(true);
      const from = s.messages.length;
      await traffic.round();
      const refusedEvent = await s.next((m) => m.type === 'event' && m.event.type === 'refused', 'refused event', 10_000, from);
      expect(refusedEvent.event.type).toBe('refused');
      await new Promise((r) => setTimeout(r, 300));
      const later = s.messages.slice(from).filter((m) => m.type === 'event');
      expect(later.every((m) => ['state', 'refused'].includes(m.event.type))).toBe(true);

      for (const bad of ['not json', JSON.stringify({ type: 'subscribe', filter: { ports: ['x'] } }), JSON.stringify({ type: 'shout' })]) {
        const n = s.messages.length;
        s.ws.send(bad);
        const err = await s.next((m) => m.type === 'error', 'error reply', 5000, n);
        expect(err.error).toBe('bad-message');
        expect(WS_ERROR_CODES).toContain(err.error);
      }
      // Still alive after the bad messages.
      s.ws.send(JSON.stringify({ type: 'subscribe', filter: {} }));
      await s.next((m) => m.type === 'subscribed' && s.messages.indexOf(m) > 3, 'resubscribed');
    } finally {
      s.close();
    }
  });

  it('a client that never reads does not delay another client', async () => {
    const slow = await openStream(wsUrl(api));
    const fast = await openStream(wsUrl(api));
    try {
      await fast.next((m) => m.type === 'snapshot', 'snapshot');
      (slow.ws as any)._socket.pause(); // the slow client stops reading from its socket
      const from = fast.messages.length;
      let last = 0;
      for (let i = 0; i < 40; i++) last = await traffic.clientFirst();
      const closedAt = Date.now();
      const c = await waitFor('the last connection', () => byClientPort(last));
      await fast.next(
        (m) => m.type === 'event' && m.event.connectionId === c.id && m.event.type === 'state' && m.event.to === 'TIME_WAIT',
        'the fast client to see the last connection close',
        5000,
        from,
      );
      expect(Date.now() - closedAt).toBeLessThan(3000);
      const h = await getJson(`${api}api/health`);
      expect(h.status).toBe(200);
    } finally {
      slow.ws.terminate();
      fast.close();
    }
  });
});

describe('tcpscope live timers', needs(root()), () => {
  it('expires TIME_WAIT on the wall clock (--msl 0.5: TIME_WAIT lasts 1 s)', async () => {
    await buildOnce();
    const traffic = await new TestTraffic().start();
    const cli = await startCli(['live', ...traffic.portArgs(), '--listen', '127.0.0.1:0', '--msl', '0.5']);
    try {
      const find = async (p: number) =>
        (await getJson(`${cli.url}api/connections?status=all&port=${p}`)).body.connections.find((c: any) => c.client.port === p);
      let port = 0;
      await waitFor('a connection', async () => {
        port = await traffic.clientFirst();
        return (await find(port)) !== undefined;
      }, 15_000);
      const c = await waitFor('TIME_WAIT to expire', async () => {
        const x = await find(port);
        return x?.client.state === 'CLOSED' ? x : undefined;
      }, 5000);
      const d = (await getJson(`${cli.url}api/connections/${c.id}`)).body;
      const last = d.events.filter((e: any) => e.type === 'state' && e.side === 'client').pop();
      expect(last).toMatchObject({ from: 'TIME_WAIT', to: 'CLOSED', cause: null });
    } finally {
      await cli.stop();
      await traffic.stop();
    }
  });
});

describe('tcpscope live --no-server --jsonl', needs(root()), () => {
  it('prints every event as one JSON line and serves nothing', async () => {
    await buildOnce();
    const traffic = await new TestTraffic().start();
    const { spawn } = await import('node:child_process');
    const { BIN, REPO } = await import('../cli/support');
    const child = spawn(process.execPath, [BIN, 'live', '-p', String(traffic.ports.v4), '--no-server', '--jsonl'], { cwd: REPO });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d));
    child.stderr.on('data', (d: Buffer) => (err += d));
    const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
    try {
      await waitFor('the capture to start', () => err.includes('capturing on lo'));
      expect(err).not.toMatch(/serving/);
      let port = 0;
      const lines = await waitFor('events on stdout', async () => {
        port = await traffic.clientFirst();
        const evs = out.split('\n').filter(Boolean).map((l) => JSON.parse(l));
        const first = evs.find((e) => e.type === 'state' && e.side === 'client' && e.to === 'SYN_SENT');
        return first ? evs : undefined;
      }, 15_000);
      for (const e of lines) {
        expect(typeof e.type).toBe('string');
        expect(typeof e.connectionId).toBe('string');
        expect(typeof e.ts).toBe('number');
      }
      // one connection's state events, in the kernel's order
      const id = lines.find((e) => e.type === 'state' && e.to === 'SYN_SENT').connectionId;
      await waitFor('the close', () => out.includes('"to":"TIME_WAIT"'));
      const states = out
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l))
        .filter((e) => e.connectionId === id && e.type === 'state' && e.side === 'client')
        .map((e) => e.to);
      expect(states).toEqual(['SYN_SENT', 'ESTABLISHED', 'FIN_WAIT_1', 'FIN_WAIT_2', 'TIME_WAIT']);
      expect(port).toBeGreaterThan(0);
    } finally {
      child.kill('SIGINT');
      expect(await exited).toBe(0);
      await traffic.stop();
    }
  });
});
