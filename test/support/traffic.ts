/**
 * Real loopback connection patterns made with node `net`, for tests that compare what the kernel
 * did with what an observer reconstructs from the packets.
 *
 * Every pattern listens on port 0 (so concurrent test files never collide), calls `onReady` with the
 * server port(s) before the first SYN (start a kernel trace or a capture there), and resolves only
 * when every socket of both ends has emitted 'close' — by then the kernel has made every state
 * change the pattern causes, except TIME_WAIT expiry.
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import { sleep } from './wait';
import { freePort } from './ports';

export interface Endpoint {
  ip: string;
  port: number;
}

/** One connection, as the client and the server sockets saw it. */
export interface ConnTuple {
  family: 4 | 6;
  client: Endpoint;
  server: Endpoint;
}

export interface PatternOptions {
  /** Address both ends use; '127.0.0.1' unless the pattern says otherwise. */
  host?: string;
  /** Called with the server port(s) once known and before any client connects. */
  onReady?: (ports: number[]) => void | Promise<void>;
  /** Give up (and destroy every socket) after this long; the promise then rejects. */
  timeoutMs?: number;
}

export interface PatternResult {
  name: string;
  family: 4 | 6;
  /** Ports every segment of the pattern carries on one side (listening or refusing ports). */
  serverPorts: number[];
  connections: ConnTuple[];
  /** What happened that a reader of the result should know (e.g. whether a FIN was held back). */
  notes: string[];
}

export type Pattern = (opts?: PatternOptions) => Promise<PatternResult>;

const DEFAULT_TIMEOUT_MS = 30_000;
const noop = (): void => {};

/** Sockets and servers of one pattern run, so a timeout can tear everything down. */
class Run {
  readonly sockets = new Set<net.Socket>();
  readonly servers = new Set<net.Server>();
  readonly ports: number[] = [];
  readonly notes: string[] = [];
  readonly connections: ConnTuple[] = [];
  /** Sockets the servers accepted so far. */
  accepted = 0;
  private readonly closes: Promise<void>[] = [];

  constructor(
    readonly name: string,
    readonly host: string,
  ) {}

  get family(): 4 | 6 {
    return net.isIPv6(this.host) ? 6 : 4;
  }

  /** Remember a socket and the promise of its 'close'. */
  track(s: net.Socket): net.Socket {
    this.sockets.add(s);
    this.closes.push(new Promise((resolve) => s.once('close', () => resolve())));
    return s;
  }

  async listen(opts: net.ServerOpts, onConn: (s: net.Socket) => void): Promise<net.Server> {
    const server = net.createServer(opts, (s) => {
      this.accepted++;
      this.track(s);
      s.on('error', noop); // resets are part of several patterns
      onConn(s);
    });
    this.servers.add(server);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, this.host, () => {
        server.off('error', reject);
        this.ports.push((server.address() as net.AddressInfo).port);
        resolve();
      });
    });
    return server;
  }

  /** Connect and resolve with the socket once connected; records the connection's tuple. */
  connect(port: number, extra: Partial<net.TcpSocketConnectOpts> = {}): Promise<net.Socket> {
    return new Promise((resolve, reject) => {
      const c = net.connect({ port, host: this.host, allowHalfOpen: true, ...extra });
      this.track(c);
      c.once('error', reject);
      c.once('connect', () => {
        c.off('error', reject);
        c.on('error', noop);
        this.connections.push(tupleOf(c, this.family));
        resolve(c);
      });
    });
  }

  /** Wait until every socket tracked so far (and those tracked while waiting) has closed. */
  async allClosed(): Promise<void> {
    let n = -1;
    while (n !== this.closes.length) {
      n = this.closes.length;
      await Promise.all(this.closes.slice());
    }
  }

  /** Wait for every tracked socket, then close the servers. */
  async finish(expectedServerSockets: number): Promise<PatternResult> {
    await this.until(() => this.accepted >= expectedServerSockets, 'server-side sockets');
    await this.allClosed();
    for (const s of this.servers) await new Promise<void>((r) => s.close(() => r()));
    return {
      name: this.name,
      family: this.family,
      serverPorts: this.ports,
      connections: this.connections,
      notes: this.notes,
    };
  }

  async until(cond: () => boolean, what: string): Promise<void> {
    for (let i = 0; !cond(); i++) {
      if (i > 2000) throw new Error(`${this.name}: never saw all ${what}`);
      await sleep(5);
    }
  }

  destroyAll(): void {
    for (const s of this.sockets) s.destroy();
    for (const s of this.servers) s.close();
  }
}

function tupleOf(c: net.Socket, family: 4 | 6): ConnTuple {
  return {
    family,
    client: { ip: c.localAddress ?? '', port: c.localPort ?? 0 },
    server: { ip: c.remoteAddress ?? '', port: c.remotePort ?? 0 },
  };
}

/** Run `body` with a deadline; on expiry every socket of the run is destroyed and the run rejects. */
async function runPattern(
  name: string,
  opts: PatternOptions | undefined,
  defaultHost: string,
  body: (run: Run, ready: (ports: number[]) => Promise<void>) => Promise<PatternResult>,
): Promise<PatternResult> {
  const run = new Run(name, opts?.host ?? defaultHost);
  const ready = async (ports: number[]): Promise<void> => {
    await opts?.onReady?.(ports);
  };
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      run.destroyAll();
      reject(new Error(`${name}: timed out after ${opts?.timeoutMs ?? DEFAULT_TIMEOUT_MS} ms`));
    }, opts?.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  });
  try {
    const work = body(run, ready);
    // after the deadline the body may still fail on its destroyed sockets; nobody awaits it then
    work.catch(noop);
    return await Promise.race([work, deadline]);
  } catch (e) {
    run.destroyAll();
    throw e;
  } finally {
    clearTimeout(timer);
  }
}

async function listenCounted(
  run: Run,
  opts: net.ServerOpts,
  onConn: (s: net.Socket) => void,
): Promise<{ server: net.Server; port: number }> {
  const server = await run.listen(opts, onConn);
  return { server, port: (server.address() as net.AddressInfo).port };
}

function once(s: net.Socket, event: string): Promise<void> {
  return new Promise((r) => s.once(event, () => r()));
}

/** Read everything the peer sends; resolves with the byte count at 'end'. */
function drain(s: net.Socket): Promise<number> {
  let n = 0;
  s.on('data', (b: Buffer) => {
    n += b.length;
  });
  return new Promise((r) => s.once('end', () => r(n)));
}

// ---------------------------------------------------------------------------------------------
// The patterns

/** Client sends a request and closes; the server closes when it sees the client's FIN. */
export const clientClosesFirst: Pattern = (opts) =>
  runPattern('client-closes-first', opts, '127.0.0.1', async (run, ready) => {
    const { port } = await listenCounted(run, { allowHalfOpen: true }, (s) => {
      void drain(s).then(() => s.end());
    });
    await ready([port]);
    const c = await run.connect(port);
    void drain(c);
    c.end('hello');
    return run.finish(1);
  });

/** The same as clientClosesFirst over IPv6 loopback. */
export const ipv6ClientClosesFirst: Pattern = (opts) =>
  clientClosesFirst({ ...opts, host: opts?.host ?? '::1' }).then((r) => ({ ...r, name: 'ipv6' }));

/** The server answers and closes at once; the client closes when it sees the server's FIN. */
export const serverClosesFirst: Pattern = (opts) =>
  runPattern('server-closes-first', opts, '127.0.0.1', async (run, ready) => {
    const { port } = await listenCounted(run, { allowHalfOpen: true }, (s) => {
      void drain(s);
      s.end('bye');
    });
    await ready([port]);
    const c = await run.connect(port);
    void drain(c).then(() => c.end());
    return run.finish(1);
  });

/**
 * Half-close: the client sends its request and FIN, the server keeps sending a response of
 * `responseBytes` after the FIN arrived, then closes. The client stays in FIN_WAIT_2 meanwhile.
 */
export function halfClose(opts?: PatternOptions & { responseBytes?: number }): Promise<PatternResult> {
  const size = opts?.responseBytes ?? 256 * 1024;
  return runPattern('half-close', opts, '127.0.0.1', async (run, ready) => {
    const { port } = await listenCounted(run, { allowHalfOpen: true }, (s) => {
      void drain(s).then(async () => {
        // write in pieces so data keeps flowing for a while after the client's FIN
        const piece = Buffer.alloc(16 * 1024, 0x61);
        for (let sent = 0; sent < size; sent += piece.length) {
          const n = Math.min(piece.length, size - sent);
          if (!s.write(piece.subarray(0, n))) await once(s, 'drain');
        }
        s.end();
      });
    });
    await ready([port]);
    const c = await run.connect(port);
    const got = drain(c);
    c.end('request');
    const res = await run.finish(1);
    const n = await got;
    if (n !== size) throw new Error(`half-close: client received ${n} bytes, expected ${size}`);
    res.notes.push(`server sent ${size} bytes after the client's FIN`);
    return res;
  });
}

/** Both ends exchange a little data, then the client aborts with RST (SO_LINGER 0 + close). */
export const clientReset: Pattern = (opts) =>
  runPattern('client-reset', opts, '127.0.0.1', async (run, ready) => {
    const { port } = await listenCounted(run, { allowHalfOpen: true }, (s) => {
      s.on('data', noop);
      s.write('hi');
    });
    await ready([port]);
    const c = await run.connect(port);
    // the server's greeting proves the server side is accepted and established
    await once(c, 'data');
    c.resetAndDestroy();
    return run.finish(1);
  });

/** Both ends exchange a little data, then the server aborts with RST. */
export const serverReset: Pattern = (opts) =>
  runPattern('server-reset', opts, '127.0.0.1', async (run, ready) => {
    const { port } = await listenCounted(run, { allowHalfOpen: true }, (s) => {
      s.once('data', () => s.resetAndDestroy());
    });
    await ready([port]);
    const c = await run.connect(port);
    c.on('data', noop);
    c.write('x');
    return run.finish(1);
  });

/**
 * The client closes its half; the server answers with data (which acknowledges the FIN) and then,
 * instead of closing its own half, aborts with RST: the client goes FIN_WAIT_2 → CLOSED with no
 * TIME_WAIT, the server CLOSE_WAIT → CLOSED. (Without the data the RST would beat the delayed ACK
 * and the client would go FIN_WAIT_1 → CLOSED.)
 */
export const resetAfterFin: Pattern = (opts) =>
  runPattern('reset-after-fin', opts, '127.0.0.1', async (run, ready) => {
    const { port } = await listenCounted(run, { allowHalfOpen: true }, (s) => {
      void drain(s).then(() => s.write('late', () => s.resetAndDestroy()));
    });
    await ready([port]);
    const c = await run.connect(port);
    c.on('data', noop);
    c.end('bye');
    return run.finish(1);
  });


/**
 * A local port for a client that binds one explicitly. It is taken below the kernel's ephemeral
 * range: any port in that range may be in use at any moment by some other connect() (also to other
 * destinations, and in TIME_WAIT), and bind() without SO_REUSEADDR then fails with EADDRINUSE.
 * It is also below 10000, where `tcpscope demo` picks its refused port (src/demo/traffic.ts), so a
 * demo running beside these tests never captures one of their connections as its own.
 */
function fixedClientPort(): number {
  let low = 32768;
  try {
    low = Number(fs.readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]) || low;
  } catch {
    // not Linux; the default range start will do
  }
  const top = Math.min(10000, low);
  const floor = Math.min(2000, top - 1000);
  return floor + Math.floor(Math.random() * (top - floor));
}

/** Connect from a fixed local port, trying other ports while the chosen one is in use. */
async function connectFromFixedPort(run: Run, port: number, localPort?: number): Promise<net.Socket> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await run.connect(port, { localAddress: run.host, localPort: localPort ?? fixedClientPort() });
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'EADDRINUSE' || localPort !== undefined || attempt >= 20) throw e;
    }
  }
}

/**
 * Connect to a port with no listener: SYN, RST+ACK. The client binds a known local port first,
 * because node never reports the local port of a connect that failed.
 */
export const refused: Pattern = (opts) =>
  runPattern('refused', opts, '127.0.0.1', async (run, ready) => {
    const port = await freePort(run.host);
    await ready([port]);
    for (let attempt = 0; ; attempt++) {
      const localPort = fixedClientPort();
      const c = net.connect({ port, host: run.host, localAddress: run.host, localPort });
      run.track(c);
      const code = await new Promise<string>((r) => {
        c.once('error', (e: NodeJS.ErrnoException) => r(e.code ?? 'error'));
        c.once('connect', () => r('connected'));
      });
      await run.allClosed();
      if (code === 'ECONNREFUSED') {
        run.connections.push({
          family: run.family,
          client: { ip: run.host, port: localPort },
          server: { ip: run.host, port },
        });
        break;
      }
      // someone took the port in between; a different pair of ports will do
      if (code !== 'EADDRINUSE' || attempt >= 20) throw new Error(`refused: connect gave ${code}`);
    }
    return { name: run.name, family: run.family, serverPorts: [port], connections: run.connections, notes: run.notes };
  });

/**
 * Two connections on the same 4-tuple, one after the other, from a fixed client port outside the
 * ephemeral range (so no other connect() holds it in between). The server closes first each time,
 * so the TIME_WAIT is on the server's side and the client may bind the same local port again
 * (a client that closed first would hold the port in TIME_WAIT and bind() would fail). The
 * second SYN meets the server's TIME_WAIT for that 4-tuple, which Linux accepts because the
 * SYN's timestamp and sequence number are newer.
 */
export const portReuse: Pattern = (opts) =>
  runPattern('port-reuse', opts, '127.0.0.1', async (run, ready) => {
    const { port } = await listenCounted(run, { allowHalfOpen: true }, (s) => {
      void drain(s);
      s.end('bye');
    });
    await ready([port]);
    const c1 = await connectFromFixedPort(run, port);
    const localPort = c1.localPort ?? 0;
    void drain(c1).then(() => c1.end());
    // both ends of the first connection must be closed before the port is bound again
    await run.until(() => run.accepted >= 1, 'server-side sockets');
    await run.allClosed();
    const c2 = await connectFromFixedPort(run, port, localPort);
    void drain(c2).then(() => c2.end());
    const res = await run.finish(2);
    const [a, b] = res.connections;
    if (a.client.port !== b.client.port) throw new Error('port-reuse: the client port changed');
    return res;
  });

/**
 * Both ends call end() in the same tick. On loopback the first FIN is delivered (and answered)
 * inside the sending system call, so the peer is already in CLOSE_WAIT when its own end() runs:
 * the kernel reports an ordinary close with the server (which calls end() first) as the closer.
 */
export const simultaneousClose: Pattern = (opts) =>
  runPattern('simultaneous-close', opts, '127.0.0.1', async (run, ready) => {
    let client: net.Socket | undefined;
    const { port } = await listenCounted(run, { allowHalfOpen: true }, (s) => {
      void drain(s);
      s.once('data', () => {
        s.end();
        client?.end();
      });
    });
    await ready([port]);
    client = await run.connect(port);
    void drain(client);
    client.write('go');
    return run.finish(1);
  });

/** Unsent bytes of the socket bound to `localPort` on loopback (`ss -ti` notsent). */
function notSent(localPort: number): Promise<number> {
  return new Promise((resolve) => {
    execFile('ss', ['-tanHi', 'state', 'all', `( sport = :${localPort} )`], (err, out) => {
      if (err) return resolve(-1);
      const m = /notsent:(\d+)/.exec(out);
      resolve(m ? Number(m[1]) : 0);
    });
  });
}

/**
 * A real CLOSING state on loopback. The server does not read, so its receive window fills and
 * the client's last bytes stay unsent in the client's send queue. The client then calls end():
 * it enters FIN_WAIT_1, but its FIN waits behind those bytes. The server calls end() and its FIN
 * reaches the client, which is in FIN_WAIT_1 with its own FIN unacknowledged: CLOSING. Then the
 * server reads, the client's data and FIN go out, and both ends reach TIME_WAIT.
 *
 * Note for observers: on the wire the client's FIN comes after the server's, so from packets alone
 * the client looks like the passive closer (CLOSE_WAIT, LAST_ACK); only the kernel knows it called
 * shutdown() first.
 */
export const heldFinClose: Pattern = (opts) =>
  runPattern('held-fin-close', opts, '127.0.0.1', async (run, ready) => {
    let accepted: net.Socket | undefined;
    const { port } = await listenCounted(run, { allowHalfOpen: true, pauseOnConnect: true }, (s) => {
      accepted = s;
    });
    await ready([port]);
    const c = await run.connect(port);
    void drain(c);
    const localPort = c.localPort ?? 0;
    const chunk = Buffer.alloc(64 * 1024, 0x62);
    let held = false;
    for (let i = 0; i < 256 && !held; i++) {
      const written = await Promise.race([
        new Promise<boolean>((r) => c.write(chunk, () => r(true))),
        sleep(500).then(() => false),
      ]);
      if (!written) break; // the kernel's send buffer is full: end() would wait in node, not in the kernel
      await sleep(20);
      held = (await notSent(localPort)) > 0;
    }
    run.notes.push(held ? 'client FIN held behind unsent data' : 'could not hold the client FIN back');
    c.end();
    await sleep(30);
    while (!accepted) await sleep(5);
    const s = accepted;
    s.end();
    await sleep(30);
    void drain(s);
    s.resume();
    return run.finish(1);
  });

/** `count` connections at once; each client sends a little and closes first. */
export function concurrent(opts?: PatternOptions & { count?: number }): Promise<PatternResult> {
  const count = opts?.count ?? 300;
  return runPattern('concurrent', opts, '127.0.0.1', async (run, ready) => {
    // node listens with a backlog of 511, enough for the connects of one burst
    const { port } = await listenCounted(run, { allowHalfOpen: true }, (s) => {
      void drain(s).then(() => s.end());
    });
    await ready([port]);
    const clients = await Promise.all(Array.from({ length: count }, () => run.connect(port)));
    for (const c of clients) {
      void drain(c);
      c.end('x');
    }
    return run.finish(count);
  });
}

/**
 * `bytes` each way at the same time; the client closes first once it has all the server's bytes.
 */
export function bulkTransfer(opts?: PatternOptions & { bytes?: number }): Promise<PatternResult> {
  const size = opts?.bytes ?? 8 * 1024 * 1024;
  const payload = Buffer.alloc(size);
  for (let i = 0; i < size; i++) payload[i] = i & 0xff;
  return runPattern('bulk-transfer', opts, '127.0.0.1', async (run, ready) => {
    let serverGot = 0;
    const { port } = await listenCounted(run, { allowHalfOpen: true }, (s) => {
      const wrote = new Promise<void>((r) => s.write(payload, () => r()));
      void drain(s).then(async (n) => {
        serverGot = n;
        await wrote;
        s.end();
      });
    });
    await ready([port]);
    const c = await run.connect(port);
    let clientGot = 0;
    const wrote = new Promise<void>((r) => c.write(payload, () => r()));
    c.on('data', (b: Buffer) => {
      clientGot += b.length;
      if (clientGot === size) void wrote.then(() => c.end());
    });
    const res = await run.finish(1);
    if (clientGot !== size || serverGot !== size) {
      throw new Error(`bulk-transfer: client got ${clientGot}, server got ${serverGot}, expected ${size}`);
    }
    res.notes.push(`${size} bytes each way`);
    return res;
  });
}

/** Every pattern by name, with its default options. */
export const PATTERNS: Record<string, Pattern> = {
  'client-closes-first': clientClosesFirst,
  'server-closes-first': serverClosesFirst,
  'half-close': halfClose,
  'client-reset': clientReset,
  'server-reset': serverReset,
  'reset-after-fin': resetAfterFin,
  refused,
  ipv6: ipv6ClientClosesFirst,
  'port-reuse': portReuse,
  'simultaneous-close': simultaneousClose,
  'held-fin-close': heldFinClose,
  concurrent,
  'bulk-transfer': bulkTransfer,
};
