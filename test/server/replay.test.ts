// `tcpscope replay` end to end: a capture of real loopback traffic made with tcpdump, fed through
// the built CLI, must give the same API answers as live capture did, while it plays and after.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildOnce, captureWithTcpdump, getJson, runCli, startCli, TestTraffic, type Round } from '../cli/support';
import { waitFor } from '../support/wait';
import { checkConnectionsApi, checkMetrics, checkStats, expectedSequences, stateSequence } from './checks';
import { openStream, wsUrl } from './stream';
import { needs, root, tool } from '../support/skip';

/** Quiet time in the capture before the round, so a realtime replay has a visible start. */
const LEAD_MS = 1200;

describe('tcpscope replay', needs(root(), tool('tcpdump')), () => {
  let dir = '';
  let file = '';
  let traffic: TestTraffic;
  let round: Round;

  beforeAll(async () => {
    await buildOnce();
    dir = mkdtempSync(path.join(os.tmpdir(), 'tcpscope-replay-'));
    file = path.join(dir, 'round.pcap');
    traffic = await new TestTraffic().start();
    const ports = [traffic.ports.v4, traffic.ports.refused, ...(traffic.ports.v6 !== null ? [traffic.ports.v6] : [])];
    await captureWithTcpdump(file, ports, async () => {
      await traffic.clientFirst();
      await new Promise((r) => setTimeout(r, LEAD_MS));
      round = await traffic.round();
    });
  }, 60_000);

  afterAll(async () => {
    await traffic?.stop();
    if (dir) execFileSync('rm', ['-rf', dir]);
  });

  it('serves the same API as live capture once the file has played', async () => {
    const cli = await startCli(['replay', file, '--speed', 'max', '--listen', '127.0.0.1:0']);
    try {
      const health = await waitFor('the replay to finish', async () => {
        const h = (await getJson(`${cli.url}api/health`)).body;
        return h.source.done ? h : undefined;
      });
      expect(health.source).toMatchObject({
        kind: 'file',
        path: file,
        format: 'pcap',
        done: true,
        error: null,
        bytesRead: statSync(file).size,
        totalBytes: statSync(file).size,
      });
      await checkConnectionsApi(cli.url, traffic, round);
      await checkStats(cli.url);
      await checkMetrics(cli.url);
      expect(cli.stderr()).toMatch(/replay finished: \d+ packets, \d+ connections/);
    } finally {
      expect(await cli.stop()).toBe(0);
    }
  });

  it('plays at capture speed and streams the events in order while it plays', async () => {
    const t0 = Date.now();
    const cli = await startCli(['replay', file, '--speed', 'realtime', '--listen', '127.0.0.1:0']);
    try {
      const s = await openStream(wsUrl(cli.url));
      const hello = await s.next((m) => m.type === 'hello', 'hello');
      expect(hello.source).toMatchObject({ kind: 'file', done: false, speed: 'realtime' });
      const playing = (await getJson(`${cli.url}api/health`)).body.source;
      expect(playing.done).toBe(false);
      await waitFor('the end of the file', async () => (await getJson(`${cli.url}api/health`)).body.source.done, 15_000);
      // The round started LEAD_MS after the first packet: realtime cannot finish sooner.
      expect(Date.now() - t0).toBeGreaterThanOrEqual(LEAD_MS);
      const events = s.events();
      const seqs = events.map((m) => m.seq);
      expect(seqs.every((x, i) => i === 0 || x > seqs[i - 1])).toBe(true);
      const list = (await getJson(`${cli.url}api/connections?status=all&port=${traffic.ports.v4}&limit=1000`)).body.connections;
      const cf = list.find((c: any) => c.client.port === round.clientFirst);
      const mine = events.filter((m) => m.event.connectionId === cf.id).map((m) => m.event);
      expect(mine.filter((e) => e.type === 'handshake').map((e) => e.phase)).toEqual(['syn', 'syn-ack', 'established']);
      const streamed = stateSequence({ events: mine });
      expect(streamed).toEqual(expectedSequences.clientFirst);
      s.close();
    } finally {
      await cli.stop();
    }
  });

  it('is deterministic: timers follow the packets, not the wall clock', async () => {
    const a = await runCli(['analyze', file, '--format', 'jsonl']);
    await new Promise((r) => setTimeout(r, 1100));
    const b = await runCli(['analyze', file, '--format', 'jsonl', '--msl', '30']);
    expect(a.code).toBe(0);
    expect(b.stdout).toBe(a.stdout);
    const r = await runCli(['replay', file, '--speed', '50', '--exit', '--no-server', '--jsonl']);
    expect(r.code).toBe(0);
    // Still TIME_WAIT at the end: the last packet is far less than 2×MSL after the close.
    const cf = a.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .find((c) => c.client.port === round.clientFirst);
    expect(cf.client.state).toBe('TIME_WAIT');
    // --jsonl prints events, one JSON object a line, all of them with a type and a connection
    const events = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(events.length).toBeGreaterThan(20);
    expect(events.every((e) => typeof e.type === 'string' && typeof e.connectionId === 'string')).toBe(true);
  });

  it('reading in a second thread changes nothing: the same connections and the same events', async () => {
    const one = await runCli(['analyze', file, '--format', 'jsonl', '--read-thread', 'off']);
    const two = await runCli(['analyze', file, '--format', 'jsonl', '--read-thread', 'on']);
    expect(one.code).toBe(0);
    expect(two.code).toBe(0);
    expect(two.stdout).toBe(one.stdout);
    expect(one.stdout.trim().split('\n').length).toBeGreaterThan(3);
    const args = ['replay', file, '--speed', 'max', '--exit', '--no-server', '--jsonl', '--read-thread'];
    const a = await runCli([...args, 'off']);
    const b = await runCli([...args, 'on']);
    expect(b.code).toBe(0);
    expect(b.stdout).toBe(a.stdout);
  });

  it('reads standard input and quits at the end with --exit', async () => {
    const r = await runCli(['replay', '-', '--speed', 'max', '--exit', '--listen', '127.0.0.1:0'], { input: readFileSync(file) });
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/replaying standard input/);
    expect(r.stderr).toMatch(/replay finished/);
  });

  it('analyze prints a table, JSON lines and a Zeek conn.log', async () => {
    const table = await runCli(['analyze', file]);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^START \(UTC\)\s+CLIENT\s+SERVER\s+CLIENT STATE\s+SERVER STATE\s+CONN/);
    expect(table.stdout).toMatch(new RegExp(`127\\.0\\.0\\.1:${round.clientFirst}\\s+127\\.0\\.0\\.1:${traffic.ports.v4}\\s+TIME_WAIT\\s+CLOSED\\s+SF`));
    expect(table.stdout).toMatch(/by conn_state:\n(\s+\S+\s+\d+\s+.+\n)+/);
    expect(table.stdout).toMatch(/\s+REJ\s+1\s+connection attempt rejected/);

    const zeek = await runCli(['analyze', '-', '--format', 'zeek'], { input: readFileSync(file) });
    expect(zeek.code).toBe(0);
    const lines = zeek.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe('#separator \\x09');
    expect(lines[1]).toBe('#set_separator\t,');
    expect(lines[2]).toBe('#empty_field\t(empty)');
    expect(lines[3]).toBe('#unset_field\t-');
    expect(lines[4]).toBe('#path\tconn');
    expect(lines[5]).toMatch(/^#open\t\d{4}-\d\d-\d\d-\d\d-\d\d-\d\d$/);
    const fields = lines[6].split('\t');
    expect(fields.slice(1)).toEqual(
      'ts uid id.orig_h id.orig_p id.resp_h id.resp_p proto service duration orig_bytes resp_bytes conn_state local_orig local_resp missed_bytes history orig_pkts orig_ip_bytes resp_pkts resp_ip_bytes tunnel_parents'.split(' '),
    );
    const types = lines[7].split('\t');
    expect(types[0]).toBe('#types');
    expect(types.length).toBe(fields.length);
    expect(lines[lines.length - 1]).toMatch(/^#close\t\d{4}-/);
    const rows = lines.slice(8, -1).map((l) => Object.fromEntries(l.split('\t').map((v, i) => [fields[i + 1], v])));
    for (const row of rows) {
      expect(Object.keys(row)).toHaveLength(21);
      expect(row.ts).toMatch(/^\d+\.\d{6}$/);
      expect(row.uid).toMatch(/^C[0-9A-Za-z]{17}$/);
      expect(row.proto).toBe('tcp');
    }
    expect(new Set(rows.map((r) => r.uid)).size).toBe(rows.length);
    const cf = rows.find((r) => r['id.orig_p'] === String(round.clientFirst))!;
    expect(cf).toMatchObject({ 'id.orig_h': '127.0.0.1', 'id.resp_p': String(traffic.ports.v4), conn_state: 'SF', orig_bytes: '4', missed_bytes: '0' });
    expect(cf.history).toMatch(/^ShA/);
    expect(Number(cf.duration)).toBeGreaterThan(0);
    const rej = rows.find((r) => r['id.resp_p'] === String(traffic.ports.refused))!;
    expect(rej.conn_state).toBe('REJ');
    if (round.ipv6 !== null) expect(rows.find((r) => r['id.orig_p'] === String(round.ipv6))!['id.orig_h']).toBe('::1');
  });
});
