// Loopback traffic of a known shape, counted by the side that makes it: a server, short
// request/response connections opened as fast as a concurrency limit allows, and bulk transfers.
//
// A short connection: the client connects, sends "GET\n", the server answers "ok\n", the client
// closes first and the server closes back (client in TIME_WAIT, seven or more packets). It counts
// as completed when the client got the answer and both ends closed without error.
import net from 'node:net';

/** Serves both kinds: "GET\n" gets "ok\n"; "BULK n\n" gets n bytes and then the server closes. */
export function startServer(host = '127.0.0.1', port = 0) {
  const chunk = Buffer.alloc(256 * 1024, 0x61);
  const sockets = new Set();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => undefined);
    let head = '';
    s.on('data', function onData(d) {
      head += d.toString('latin1');
      const nl = head.indexOf('\n');
      if (nl < 0) return;
      s.off('data', onData);
      const line = head.slice(0, nl);
      if (line.startsWith('BULK ')) {
        let left = Number(line.slice(5));
        const pump = () => {
          while (left > 0) {
            const n = Math.min(left, chunk.length);
            left -= n;
            if (!s.write(n === chunk.length ? chunk : chunk.subarray(0, n))) return void s.once('drain', pump);
          }
          s.end();
        };
        pump();
      } else {
        s.write('ok\n');
        s.on('end', () => s.end());
        s.resume();
      }
    });
  });
  server.maxConnections = 100_000;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port, backlog: 4096 }, () =>
      resolve({
        port: server.address().port,
        close: () =>
          new Promise((r) => {
            for (const s of sockets) s.destroy();
            server.close(() => r());
          }),
      }),
    );
  });
}

function oneShort(port, host, localAddress, stats) {
  return new Promise((resolve) => {
    const s = net.connect({ port, host, localAddress });
    let got = false;
    let failed = false;
    s.setNoDelay(true);
    s.on('connect', () => s.write('GET\n'));
    s.on('data', () => {
      if (!got) {
        got = true;
        s.end();
      }
    });
    s.on('error', (e) => {
      failed = true;
      stats.errors[e.code ?? 'error'] = (stats.errors[e.code ?? 'error'] ?? 0) + 1;
    });
    s.on('close', () => {
      if (got && !failed) stats.completed++;
      else stats.failed++;
      resolve();
    });
  });
}

/**
 * Opens short connections with `concurrency` in flight until `count` have been started or
 * `durationMs` has passed, whichever comes first, at most `rate` a second. Client addresses rotate over `localAddresses`
 * so that ports are not reused too soon.
 */
export async function shortConnections({ port, host = '127.0.0.1', concurrency = 60, count = Infinity, durationMs = Infinity, localAddresses = ['127.0.0.1'], rate = Infinity }) {
  const stats = { started: 0, completed: 0, failed: 0, errors: {}, ms: 0 };
  const t0 = performance.now();
  const until = t0 + durationMs;
  const lane = async () => {
    while (stats.started < count && performance.now() < until) {
      // With a rate, the k-th connection starts no earlier than t0 + k / rate.
      const due = t0 + (stats.started * 1000) / rate;
      const wait = due - performance.now();
      if (wait > 0) {
        await new Promise((r) => setTimeout(r, wait));
        continue;
      }
      const la = localAddresses[stats.started++ % localAddresses.length];
      await oneShort(port, host, la, stats);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
  stats.ms = performance.now() - t0;
  return stats;
}

/** `n` transfers of `bytes` each from the server, all at once; resolves with the bytes received. */
export async function bulkTransfers({ port, host = '127.0.0.1', n = 2, bytes = 50 * 1024 * 1024 }) {
  const one = () =>
    new Promise((resolve) => {
      let got = 0;
      const s = net.connect({ port, host }, () => s.write(`BULK ${bytes}\n`));
      s.on('data', (d) => (got += d.length));
      s.on('error', () => undefined);
      s.on('end', () => s.end());
      s.on('close', () => resolve(got));
    });
  const got = await Promise.all(Array.from({ length: n }, one));
  return { transfers: n, completed: got.filter((g) => g === bytes).length, bytes: got.reduce((a, b) => a + b, 0) };
}

/**
 * `n` connections that complete their handshake, exchange one request and answer, and then stay
 * open until release() (the server side waits for the client to end).
 */
export async function holdConnections({ port, host = '127.0.0.1', n = 50, localAddress = '127.0.0.1' }) {
  const socks = await Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise((resolve) => {
          const s = net.connect({ port, host, localAddress }, () => s.write('GET\n'));
          s.once('data', () => resolve(s));
          s.on('error', () => resolve(null));
        }),
    ),
  );
  const held = socks.filter(Boolean);
  return {
    ports: held.map((s) => s.localPort),
    release: () => Promise.all(held.map((s) => new Promise((r) => (s.end(), s.on('close', r))))),
  };
}
