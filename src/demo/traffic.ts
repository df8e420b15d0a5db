import { readFileSync } from 'node:fs';
import net from 'node:net';
import { SimultaneousCloser } from './simultaneous';

/**
 * Loopback traffic for the demo: a tiny line-based server and a round of clients that between them
 * show every kind of connection life tcpscope tells apart, each case on a server port of its own so
 * that the dashboard can pick a case out by its port.
 *
 * The client's first line tells the server how to behave:
 *   GET  → reply, then wait for the client to close first
 *   BYE  → reply and close first (server-first close)
 *   HALF → the client has already sent its FIN; keep sending for a moment, then close (half-close)
 */
export interface DemoPorts {
  /** The client-first case's port (every line-server port behaves the same). */
  v4: number;
  v6: number | null;
  /** A loopback port with nothing listening, for refused attempts. */
  refused: number;
}

/** The cases one round walks through, in order. */
export const DEMO_CASE_NAMES = [
  'client-close', 'server-close', 'half-close', 'reset', 'refused', 'simultaneous-close', 'ipv6',
] as const;
export type DemoCaseName = (typeof DEMO_CASE_NAMES)[number];

export interface DemoCase {
  name: DemoCaseName;
  title: string;
  /** What to look for, in a sentence. */
  says: string;
  host: string;
  /** The server port this case, and only this case, connects to. */
  port: number;
}

const CASE_TEXT: Record<DemoCaseName, { title: string; says: string }> = {
  'client-close': {
    title: 'client closes first',
    says: 'request, answer, then the client\'s FIN; the server\'s FIN rides on its ACK (three segments) and the client waits in TIME_WAIT',
  },
  'server-close': {
    title: 'server closes first',
    says: 'the server answers and closes at once; now the server is the side that waits in TIME_WAIT',
  },
  'half-close': {
    title: 'half-close',
    says: 'the client sends its request with a FIN, and the server keeps sending for a while before it closes (CLOSE_WAIT with data)',
  },
  reset: { title: 'reset', says: 'the client aborts with a RST: both ends go straight to CLOSED, no FINs, no TIME_WAIT' },
  refused: { title: 'refused', says: 'a SYN to a port nothing listens on, answered by a RST: connect() fails with ECONNREFUSED' },
  'simultaneous-close': {
    title: 'simultaneous close',
    says: 'both ends close at the same instant from two threads; if the FINs cross, both go FIN_WAIT_1 → CLOSING → TIME_WAIT',
  },
  ipv6: { title: 'IPv6', says: 'the client-first close again, over ::1' },
};

/** One case of a round as it ran: the client's port, when known. */
export interface CaseRun {
  case: DemoCase;
  clientPort: number | null;
  /** Tries made (the simultaneous close may take several). */
  attempt: number;
}

export class DemoTraffic {
  private servers: net.Server[] = [];
  private timer: NodeJS.Timeout | null = null;
  private running = false;
  private stopped = false;
  private plain: net.Server | null = null;
  private readonly closer = new SimultaneousCloser();
  rounds = 0;
  ports: DemoPorts = { v4: 0, v6: null, refused: 0 };
  cases: DemoCase[] = [];
  /**
   * Called after each case; for the simultaneous close its answer says whether the FINs crossed
   * (the caller reads the capture), and false makes the round try again, up to `simultaneousTries`.
   */
  onCase: (run: CaseRun) => Promise<boolean | void> | boolean | void = () => undefined;
  simultaneousTries = 3;

  async start(): Promise<DemoPorts> {
    const port = (): Promise<number> => this.listen('127.0.0.1');
    const v4 = await port();
    const serverClose = await port();
    const half = await port();
    const rst = await port();
    const v6 = await this.listen('::1').catch(() => null); // machines without IPv6 still get the rest
    const refused = await refusedPort();
    this.plain = net.createServer({ allowHalfOpen: true });
    const simultaneous = await this.listenOn(this.plain, '127.0.0.1');
    this.ports = { v4, v6, refused };
    const at = (name: DemoCaseName, host: string, p: number): DemoCase => ({ name, ...CASE_TEXT[name], host, port: p });
    this.cases = [
      at('client-close', '127.0.0.1', v4),
      at('server-close', '127.0.0.1', serverClose),
      at('half-close', '127.0.0.1', half),
      at('reset', '127.0.0.1', rst),
      at('refused', '127.0.0.1', refused),
      at('simultaneous-close', '127.0.0.1', simultaneous),
      ...(v6 !== null ? [at('ipv6', '::1', v6)] : []),
    ];
    return this.ports;
  }

  /** Every port the demo's traffic uses, for the capture filter. */
  allPorts(): number[] {
    return this.cases.map((c) => c.port);
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
    for (const c of this.cases) {
      for (let attempt = 1; ; attempt++) {
        if (this.stopped) return;
        const clientPort = await this.run(c).catch(() => null);
        await sleep(150);
        const ok = await this.onCase({ case: c, clientPort, attempt });
        if (c.name !== 'simultaneous-close' || ok !== false || attempt >= this.simultaneousTries) break;
      }
    }
    this.rounds++;
  }

  private run(c: DemoCase): Promise<number | null> {
    switch (c.name) {
      case 'client-close':
      case 'ipv6':
        return request(c.host, c.port, 'GET');
      case 'server-close':
        return request(c.host, c.port, 'BYE');
      case 'half-close':
        return halfClose(c.host, c.port);
      case 'reset':
        return reset(c.host, c.port);
      case 'refused':
        return refusedAttempt(c.host, c.port).then(() => null);
      case 'simultaneous-close':
        return this.closer.close(this.plain!, c.host, c.port);
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.closer.stop();
    await Promise.all(this.servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
  }

  private listen(host: string): Promise<number> {
    return this.listenOn(net.createServer({ allowHalfOpen: true }, serve), host);
  }

  /**
   * Listens on a port no other case has: the kernel may give ::1 a port number a 127.0.0.1 server
   * already holds (the two addresses do not share ports), and one case per port is what the
   * dashboard and the capture filter rely on, so such a port is given back and another taken.
   */
  private async listenOn(server: net.Server, host: string): Promise<number> {
    const taken = new Set(this.servers.map((s) => (s.address() as net.AddressInfo).port));
    for (let tries = 1; ; tries++) {
      const port = await new Promise<number>((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, host, () => {
          server.off('error', reject);
          resolve((server.address() as net.AddressInfo).port);
        });
      });
      if (!taken.has(port) || tries >= 20) {
        this.servers.push(server);
        return port;
      }
      await new Promise<void>((r) => server.close(() => r()));
    }
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

/**
 * A port for refused attempts: free, and below the kernel's ephemeral range when it can be, so that
 * no other program's connection picks it as its own port and shows up in the demo's capture.
 */
async function refusedPort(): Promise<number> {
  let low = 32768;
  try {
    low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]) || low;
  } catch {
    /* not Linux: any free port */
  }
  for (let i = 0; i < 20 && low > 10_000; i++) {
    const port = 10_000 + Math.floor(Math.random() * (low - 10_000));
    if (await canBind(port)) return port;
  }
  return freePort();
}

function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
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
