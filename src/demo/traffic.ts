import net from 'node:net';

/**
 * Loopback traffic for the demo: a tiny line-based server and a round of clients that between them
 * show every kind of connection life tcpscope tells apart.
 *
 * The client's first line tells the server how to behave:
 *   GET  → reply, then wait for the client to close first
 *   BYE  → reply and close first (server-first close)
 *   HALF → the client has already sent its FIN; keep sending for a moment, then close (half-close)
 */
export interface DemoPorts {
  v4: number;
  v6: number | null;
  /** A loopback port with nothing listening, for refused attempts. */
  refused: number;
}

export class DemoTraffic {
  private servers: net.Server[] = [];
  private timer: NodeJS.Timeout | null = null;
  private running = false;
  private stopped = false;
  rounds = 0;
  ports: DemoPorts = { v4: 0, v6: null, refused: 0 };

  async start(): Promise<DemoPorts> {
    const v4 = await this.listen('127.0.0.1');
    const v6 = await this.listen('::1').catch(() => null); // machines without IPv6 still get the rest
    const refused = await freePort();
    this.ports = { v4, v6, refused };
    return this.ports;
  }

  /** Runs one round now and then every `everyMs`, one connection after another. */
  loop(everyMs: number): void {
    const tick = async () => {
      if (this.running || this.stopped) return;
      this.running = true;
      try {
        await this.round();
      } finally {
        this.running = false;
      }
    };
    void tick();
    this.timer = setInterval(() => void tick(), everyMs);
  }

  async round(): Promise<void> {
    const { v4, v6, refused } = this.ports;
    const steps: (() => Promise<unknown>)[] = [
      () => request('127.0.0.1', v4, 'GET'), // client closes first
      () => request('127.0.0.1', v4, 'BYE'), // server closes first
      () => halfClose('127.0.0.1', v4),
      () => reset('127.0.0.1', v4),
      () => refusedAttempt('127.0.0.1', refused),
    ];
    if (v6 !== null) steps.push(() => request('::1', v6, 'GET'));
    for (const step of steps) {
      if (this.stopped) return;
      await step().catch(() => undefined);
      await sleep(150);
    }
    this.rounds++;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await Promise.all(this.servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
  }

  private listen(host: string): Promise<number> {
    const server = net.createServer({ allowHalfOpen: true }, serve);
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, host, () => {
        server.off('error', reject);
        this.servers.push(server);
        resolve((server.address() as net.AddressInfo).port);
      });
    });
  }
}

function serve(sock: net.Socket): void {
  sock.on('error', () => sock.destroy());
  sock.setTimeout(5000, () => sock.destroy());
  let line = '';
  let mode = '';
  sock.on('data', (d) => {
    if (mode) return;
    line += d.toString('latin1');
    const nl = line.indexOf('\n');
    if (nl < 0) return;
    mode = line.slice(0, nl).trim();
    if (mode === 'BYE') {
      sock.end('bye from the server\n');
    } else if (mode === 'HALF') {
      // The client's FIN is already in; the server keeps talking on its half, then closes.
      let n = 0;
      const t = setInterval(() => {
        if (++n < 4) sock.write(`chunk ${n} after your FIN\n`);
        else {
          clearInterval(t);
          sock.end('done\n');
        }
      }, 60);
      sock.once('close', () => clearInterval(t));
    } else {
      sock.write('hello from the server\n');
    }
  });
  // The client closed its side: close ours (for HALF the timer above does it).
  sock.on('end', () => {
    if (mode !== 'HALF') sock.end();
  });
}

function connect(host: string, port: number, allowHalfOpen = false): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host, port, allowHalfOpen });
    s.setTimeout(5000, () => s.destroy(new Error('timeout')));
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
}

function closed(s: net.Socket): Promise<void> {
  return new Promise((resolve) => {
    if (s.closed) return resolve();
    s.once('close', () => resolve());
    s.on('error', () => undefined);
  });
}

/** Each scenario resolves, once its client socket has closed, with the client's own port. */
export async function request(host: string, port: number, mode: 'GET' | 'BYE'): Promise<number> {
  const s = await connect(host, port);
  const local = s.localPort ?? 0;
  s.write(`${mode}\n`);
  await new Promise<void>((resolve) => s.once('data', () => resolve()));
  // GET: the client closes first; BYE: the server's FIN arrives and Node answers with ours.
  if (mode === 'GET') s.end();
  await closed(s);
  return local;
}

export async function halfClose(host: string, port: number): Promise<number> {
  const s = await connect(host, port, true);
  const local = s.localPort ?? 0;
  s.end('HALF\n');
  s.resume();
  await closed(s);
  return local;
}

export async function reset(host: string, port: number): Promise<number> {
  const s = await connect(host, port);
  const local = s.localPort ?? 0;
  s.write('GET\n');
  await new Promise<void>((resolve) => s.once('data', () => resolve()));
  s.resetAndDestroy();
  await closed(s);
  return local;
}

/** Resolves when the attempt failed (or, if something listens after all, connected and was closed). */
export async function refusedAttempt(host: string, port: number): Promise<void> {
  const s = net.connect({ host, port });
  await new Promise<void>((resolve) => {
    s.once('error', () => resolve());
    s.once('connect', () => {
      s.destroy();
      resolve();
    });
  });
}

/** A port that nothing listens on right now (bound, then released). */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, host, () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
