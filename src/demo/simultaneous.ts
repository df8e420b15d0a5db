import net from 'node:net';
import { Worker } from 'node:worker_threads';

/**
 * A try at a simultaneous close on loopback: both ends close at the same instant, each from its own
 * thread, so that each FIN leaves before the other's arrives and both kernels go FIN_WAIT_1 →
 * CLOSING → TIME_WAIT. On loopback a FIN is delivered within microseconds of being sent, so the two
 * closes must fall inside that window: both threads spin on the shared monotonic clock until an
 * agreed instant, then call destroy(), which closes the socket (and sends the FIN) in the same call.
 * Whether the FINs crossed is for the caller to see in the capture; often they do not.
 */

// The client end, in a worker thread of its own (plain JavaScript: workers evaluate it as is).
const CLIENT = `
const { parentPort, workerData } = require('node:worker_threads');
const net = require('node:net');
const s = net.connect({ host: workerData.host, port: workerData.port });
s.on('error', () => undefined);
s.once('connect', () => parentPort.postMessage({ local: s.localPort }));
parentPort.on('message', (m) => {
  const at = BigInt(m.at);
  while (process.hrtime.bigint() < at) { /* the barrier */ }
  s.destroy();
  parentPort.postMessage({ closed: true });
});
`;

/** How far ahead the closing instant is set: enough for the message to reach the worker. */
const LEAD_NS = 5_000_000n;

/**
 * Connects to `server` (listening on host:port, with no connection handler of its own) from a worker
 * thread and closes both ends at once; resolves with the client's port.
 */
export async function simultaneousClose(server: net.Server, host: string, port: number): Promise<number> {
  const accepted = new Promise<net.Socket>((resolve) => server.once('connection', resolve));
  const worker = new Worker(CLIENT, { eval: true, workerData: { host, port } });
  try {
    const local = await new Promise<number>((resolve, reject) => {
      worker.once('message', (m: { local: number }) => resolve(m.local));
      worker.once('error', reject);
    });
    const sock = await accepted;
    sock.on('error', () => undefined);
    const closed = new Promise<void>((resolve) => worker.once('message', () => resolve()));
    const at = process.hrtime.bigint() + LEAD_NS;
    worker.postMessage({ at: String(at) });
    while (process.hrtime.bigint() < at) {
      /* the barrier */
    }
    sock.destroy();
    await closed;
    return local;
  } finally {
    await worker.terminate();
  }
}
