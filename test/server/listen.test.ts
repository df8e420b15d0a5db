// Each way the server can fail to listen, provoked for real, comes back as a value whose code is one
// of LISTEN_ERROR_CODES; every code of the list is provoked here. A privileged port needs an
// unprivileged process, so that case runs listen.ts transpiled in a child as nobody.
import net from 'node:net';
import path from 'node:path';
import { rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { EventBus } from '../../src/events/bus';
import { Engine } from '../../src/ingest/engine';
import { createApp } from '../../src/server/app';
import { listen, LISTEN_ERROR_CODES } from '../../src/server/listen';
import { DeclaredCodes } from '../support/codes';
import { needs, root, tool } from '../support/skip';
import { buildForChild, runChild } from '../support/tools';

const codes = new DeclaredCodes('LISTEN_ERROR_CODES', LISTEN_ERROR_CODES);
const childDirs: string[] = [];
afterAll(() => {
  for (const d of childDirs) rmSync(d, { recursive: true, force: true });
});

const app = () =>
  createApp({
    engine: new Engine(),
    bus: new EventBus(),
    version: 'test',
    source: () => ({ kind: 'live', iface: 'lo', filter: 'tcp', linkType: 1, frames: 0, bytes: 0, dropped: null }),
  });

async function failure(host: string, port: number): Promise<{ code: string; message: string }> {
  const r = await listen(app(), host, port);
  if (r.ok) {
    await r.running.close();
    throw new Error(`listened on ${host}:${port}`);
  }
  return { code: codes.see(r.code), message: r.message };
}

describe('listen()', () => {
  it('a port another socket holds: address-in-use', async () => {
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    try {
      const r = await failure('127.0.0.1', (blocker.address() as net.AddressInfo).port);
      expect(r.code).toBe('address-in-use');
      expect(r.message).toContain('EADDRINUSE');
    } finally {
      blocker.close();
    }
  });

  it('an address of no interface here: address-not-available', async () => {
    const r = await failure('192.0.2.1', 0); // TEST-NET-1
    expect(r.code).toBe('address-not-available');
  });

  it('a host name that does not resolve: listen-failed, with the system’s reason', async () => {
    const r = await failure('no-such-host.invalid', 0);
    expect(r.code).toBe('listen-failed');
    expect(r.message).toMatch(/ENOTFOUND|EAI_AGAIN/);
  }, 30_000); // the resolver may wait for a name server first

  it('a port Node refuses before asking the system: listen-failed, as a value', async () => {
    const r = await failure('127.0.0.1', 70_000);
    expect(r.code).toBe('listen-failed');
    expect(r.message).toMatch(/70000/);
  });

  it('a privileged port as an unprivileged user: permission-denied', needs(root(), tool('setpriv')), async () => {
    const dir = buildForChild(['src/server/listen.ts']);
    childDirs.push(dir);
    // listen() needs of the app only a request handler and the WebSocket hub's two hooks
    const child = `
      const { listen } = require(${JSON.stringify(path.join(dir, 'src/server/listen.js'))});
      const app = Object.assign((req, res) => res.end(), { locals: { services: { ws: { close() {}, handleUpgrade() {} } } } });
      listen(app, '127.0.0.1', 80).then((r) => {
        console.log(JSON.stringify(r.ok ? { ok: true } : r));
        if (r.ok) r.running.close();
      });
    `;
    const r = await runChild('setpriv', ['--reuid=nobody', '--regid=nogroup', '--clear-groups', '--inh-caps=-all', process.execPath, '-e', child], { cwd: '/' });
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim());
    expect(codes.see(out.code)).toBe('permission-denied');
    expect(out.message).toContain('EACCES');
  });

  it('every code of LISTEN_ERROR_CODES was provoked above', needs(root(), tool('setpriv')), () => {
    expect(codes.unseen()).toEqual([]);
  });
});
