// `tcpscope demo`: the first thing a new user runs. It must show every kind of connection life on
// its own, and say how to get capture permission when it has none.
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { BIN, buildOnce, getJson, REPO, startCli } from './support';
import { waitFor } from '../support/wait';
import { needs, root } from '../support/skip';

describe('tcpscope demo', needs(root()), () => {
  it('makes and serves client-first, server-first, half-close, reset, refused and IPv6 connections', async () => {
    await buildOnce();
    const cli = await startCli(['demo', '--listen', '127.0.0.1:0', '--every', '1']);
    try {
      expect(cli.stdout()).toMatch(/^tcpscope demo: open http:\/\/127\.0\.0\.1:\d+\/\n/);
      const health = (await getJson(`${cli.url}api/health`)).body;
      expect(health.source).toMatchObject({ kind: 'live', iface: 'lo', demo: true });
      const ports = [...health.source.filter.matchAll(/port (\d+)/g)].map((m) => Number(m[1]));
      const conns = await waitFor('one round of every kind', async () => {
        const all = (await getJson(`${cli.url}api/connections?status=all&limit=1000`)).body.connections;
        const kinds = new Set(all.map((c: any) => `${c.connState}/${c.closedBy}/${c.family}`));
        return ['SF/client/4', 'SF/server/4', 'RSTO/client/4', 'REJ/server/4', 'SF/client/6'].every((k) => kinds.has(k)) ? all : undefined;
      }, 20_000);
      // Only the demo's own ports were captured.
      expect(conns.filter((c: any) => !ports.includes(c.server.port))).toEqual([]);
      // Each case has a server port of its own, which the dashboard uses to pick it out.
      const cases: { name: string; title: string; port: number }[] = health.source.demoCases;
      expect(cases.map((c) => c.name)).toEqual(['client-close', 'server-close', 'half-close', 'reset', 'refused', 'simultaneous-close', 'ipv6']);
      expect(new Set(cases.map((c) => c.port)).size).toBe(cases.length);
      expect([...new Set(ports)].sort()).toEqual(cases.map((c) => c.port).sort());
      const kindsAt = (name: string) => {
        const port = cases.find((c) => c.name === name)!.port;
        return new Set(conns.filter((c: any) => c.server.port === port).map((c: any) => `${c.connState}/${c.closedBy}`));
      };
      expect(kindsAt('client-close')).toEqual(new Set(['SF/client']));
      expect(kindsAt('server-close')).toEqual(new Set(['SF/server']));
      expect(kindsAt('reset')).toEqual(new Set(['RSTO/client']));
      expect(kindsAt('refused')).toEqual(new Set(['REJ/server']));
      // stdout says which case ran, with a link that opens its ladder.
      const out = await waitFor('the first round on stdout', async () => (/^round 1 · IPv6 /m.test(cli.stdout()) ? cli.stdout() : undefined), 10_000);
      for (const c of cases) expect(out, c.name).toMatch(new RegExp(`^round 1 · ${c.title} .*#conn=\\d+`, 'm'));
      expect(out).toMatch(/^round 1 · simultaneous close .* the FINs (crossed|did not cross)/m);
      // The kernel's side as `live` shows it: the demo's listeners with their owner (every case's
      // port but the refused one's), and the owners on its connections.
      const pid = cli.child.pid;
      const listeners = (await getJson(`${cli.url}api/listeners`)).body;
      expect(listeners.available).toBe(true);
      const listening = cases.filter((c) => c.name !== 'refused').map((c) => c.port).sort();
      expect([...new Set(listeners.listeners.map((l: any) => l.port))].sort()).toEqual(listening);
      for (const l of listeners.listeners) expect(l.owners.map((o: any) => o.pid), `${l.ip}:${l.port}`).toContain(pid);
      const clientClose = cases.find((c) => c.name === 'client-close')!.port;
      await waitFor('an owner on a client-first close', async () => {
        const all = (await getJson(`${cli.url}api/connections?status=all&limit=1000`)).body.connections;
        return all.some((c: any) => c.server.port === clientClose && c.server.process?.pid === pid) || undefined;
      }, 10_000);
    } finally {
      expect(await cli.stop()).toBe(0);
    }
  });

  it('without capture permission says how to get it and exits 1', async () => {
    await buildOnce();
    const r = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn('setpriv', ['--reuid=nobody', '--regid=nogroup', '--clear-groups', process.execPath, BIN, 'demo', '--listen', '127.0.0.1:0'], {
        cwd: REPO,
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d));
      child.stderr.on('data', (d: Buffer) => (stderr += d));
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim()).toBe(
      'tcpscope: cannot capture on lo: permission denied — run as root or grant CAP_NET_RAW: sudo setcap cap_net_raw,cap_net_admin=eip "$(which node)"',
    );
  });
});
