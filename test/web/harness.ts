import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { Locator, Page } from 'playwright-core';
import { openBrowser, type TestBrowser } from '../support/browser';
import { sleep, waitFor } from '../support/wait';

export const ROOT = path.resolve(__dirname, '..', '..');
const BIN = path.join(ROOT, 'bin', 'tcpscope.js');

/** A port nobody listens on right now (the kernel's pick, released at once). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

export { sleep, waitFor };

export interface Tcpscope {
  proc: ChildProcess;
  url: string;
  output(): string;
  stop(): Promise<void>;
}

/** Runs the built CLI (`npm run build` first) and waits until its API answers. */
export async function startTcpscope(args: string[], apiPort: number, token: string): Promise<Tcpscope> {
  if (!existsSync(path.join(ROOT, 'dist', 'cli.js'))) throw new Error('dist/cli.js is missing: run `npm run build` first');
  const env = { ...process.env };
  delete env.TCPSCOPE_TOKEN;
  const proc = spawn(process.execPath, [BIN, ...args, '--listen', `127.0.0.1:${apiPort}`, '--token', token], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  proc.stderr!.on('data', (b: Buffer) => (out += b.toString()));
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  const url = `http://127.0.0.1:${apiPort}`;
  await waitFor(
    'tcpscope to serve /api/health',
    async () => {
      if (proc.exitCode !== null) throw new Error(`tcpscope exited with ${proc.exitCode}: ${out.trim()}`);
      const res = await fetch(`${url}/api/health`, { headers: { Authorization: `Bearer ${token}` } });
      return res.ok;
    },
    20_000,
  ).catch((err: Error) => {
    proc.kill('SIGKILL');
    throw new Error(`${err.message}\n${out}`);
  });
  return {
    proc,
    url,
    output: () => out,
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      proc.kill('SIGTERM');
      const t = setTimeout(() => proc.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    },
  };
}

/**
 * Clicks the table row of the connection from clientPort until the ladder shows that connection:
 * the table repaints as connections arrive, and a click can land on the row that took its place.
 */
export async function selectRow(page: Page, row: Locator, clientPort: number): Promise<void> {
  await waitFor(`the ladder of the connection from ${clientPort}`, async () => {
    await row.click();
    return (await page.locator('#ladder-sub').textContent())?.includes(`:${clientPort} →`);
  }, 15_000, 200);
}

/** Opens the dashboard of `t` (`query`: more of the URL's query) in a fresh Chromium, once its stream is live. */
export async function openDashboard(t: Tcpscope, token: string, query = ''): Promise<TestBrowser> {
  const browser = await openBrowser({ colorScheme: 'light' });
  try {
    await browser.page.goto(`${t.url}/?token=${token}${query}`);
    await waitFor('the page to go live', async () => (await browser.page.locator('#status').getAttribute('data-state')) === 'live');
    return browser;
  } catch (err) {
    await browser.close();
    throw err;
  }
}

export async function api<T>(t: Tcpscope, token: string, pathAndQuery: string): Promise<T> {
  const res = await fetch(`${t.url}${pathAndQuery}`, { headers: { Authorization: `Bearer ${token}` } });
  if (!res.ok) throw new Error(`${pathAndQuery}: HTTP ${res.status}`);
  return (await res.json()) as T;
}

/**
 * The test's own TCP server. Each accepted socket is kept so a test can drive the server side:
 * by default it echoes and closes its side when the client closes (allowHalfOpen lets a test keep
 * a half-closed socket in CLOSE_WAIT instead).
 */
export class TestServer {
  readonly server: net.Server;
  readonly sockets = new Map<number, net.Socket>(); // by the client's port
  port = 0;
  /** Client ports whose server socket must not close when the client does. */
  readonly holdOpen = new Set<number>();

  constructor() {
    this.server = net.createServer({ allowHalfOpen: true }, (sock) => {
      const peer = sock.remotePort!;
      this.sockets.set(peer, sock);
      sock.on('error', () => undefined);
      sock.on('data', (d) => {
        if (d.length <= 64) sock.write(d);
      });
      sock.on('end', () => {
        if (!this.holdOpen.has(peer)) sock.end();
      });
    });
  }

  listen(): Promise<number> {
    return new Promise((resolve) => {
      this.server.listen(0, '127.0.0.1', () => {
        const a = this.server.address();
        this.port = typeof a === 'object' && a ? a.port : 0;
        resolve(this.port);
      });
    });
  }

  close(): Promise<void> {
    for (const s of this.sockets.values()) s.destroy();
    return new Promise((r) => this.server.close(() => r()));
  }
}

/** Connects, sends `hello`, waits for the echo; the socket stays open. */
export function openClient(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
    s.once('error', reject);
    s.once('connect', () => s.write('hello'));
    s.once('data', () => resolve(s));
  });
}

/** Client closes first; resolves when both directions are closed. */
export function closeClient(s: net.Socket): Promise<void> {
  return new Promise((resolve) => {
    s.once('close', () => resolve());
    s.on('end', () => s.destroy());
    s.end();
  });
}

/** A SYN to a port with no listener, from a client port chosen here so the row can be found. */
export async function refusedConnect(port: number): Promise<number> {
  const localPort = await freePort();
  return new Promise((resolve, reject) => {
    const s = net.connect({ port, host: '127.0.0.1', localAddress: '127.0.0.1', localPort });
    s.once('connect', () => reject(new Error(`port ${port} accepted a connection`)));
    s.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'ECONNREFUSED') return reject(err);
      resolve(localPort);
    });
  });
}
