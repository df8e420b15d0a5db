import type net from 'node:net';
import { Worker } from 'node:worker_threads';

/**
 * Tries at a simultaneous close on loopback: both ends close at the same instant, each from its own
 * thread, so that each FIN leaves before the other's arrives and both kernels go FIN_WAIT_1 →
 * CLOSING → TIME_WAIT. On loopback a FIN is delivered within microseconds of being sent, so the two
 * closes must fall inside that window: both threads spin on the shared monotonic clock until an
 * agreed instant, then call destroy(), which closes the socket (and sends the FIN) in the same call.
 * The client thread lives as long as the closer, so its code is warm after the first try. Whether
 * the FINs crossed is for the caller to see in the capture; on a busy machine, where a thread is
 * often not running at the agreed instant, they seldom do.
 */

// The client end, in a worker thread of its own (plain JavaScript: workers evaluate it as is).
const CLIENT = `
const { parentPort } = require('node:worker_threads');
const net = require('node:net');
let s = null;
parentPort.on('message', (m) => {
  if (m.connect) {
    s = net.connect(m.connect);
    s.on('error', () => undefined);
    s.once('connect', () => parentPort.postMessage({ local: s.localPort }));
    s.once('close', () => { if (s && !s.localPort) parentPort.postMessage({ failed: true }); });
    return;
  }
  const at = BigInt(m.at);
  while (process.hrtime.bigint() < at) { /* the barrier */ }
  s.destroy();
  s = null;
  parentPort.postMessage({ closed: true });
});
`;

/** How far ahead the closing instant is set: enough for the message to reach the worker. */
const LEAD_NS = 5_000_000n;

export class SimultaneousCloser {
  private worker: Worker | null = null;

  private client(): Worker {
    if (!this.worker) {
      this.worker = new Worker(CLIENT, { eval: true });
      this.worker.unref();
      this.worker.on('error', () => (this.worker = null));
    }
    return this.worker;
  }

  private reply<T>(w: Worker): Promise<T> {
    return new Promise((resolve, reject) => {
      const onError = (e: Error) => reject(e);
      w.once('error', onError);
      w.once('message', (m: T) => {
        w.off('error', onError);
        resolve(m);
      });
    });
  }

  /**
   * Connects to `server` (listening on host:port, with no connection handler of its own) from the
   * client thread and closes both ends at once; resolves with the client's port.
   */
  async close(server: net.Server, host: string, port: number): Promise<number> {
    const w = this.client();
    const accepted = new Promise<net.Socket>((resolve) => server.once('connection', resolve));
    const connected = this.reply<{ local?: number; failed?: boolean }>(w);
    w.postMessage({ connect: { host, port } });
    const m = await connected;
    if (!m.local) throw new Error(`the demo's client could not connect to ${host}:${port}`);
    const sock = await accepted;
    sock.on('error', () => undefined);
    const closed = this.reply<unknown>(w);
    const at = process.hrtime.bigint() + LEAD_NS;
    w.postMessage({ at: String(at) });
    while (process.hrtime.bigint() < at) {
      /* the barrier */
    }
    sock.destroy();
    await closed;
    return m.local;
  }

  async stop(): Promise<void> {
    const w = this.worker;
    this.worker = null;
    if (w) await w.terminate();
  }
}
