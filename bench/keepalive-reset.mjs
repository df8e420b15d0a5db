#!/usr/bin/env node
// Why a REST poller saw `fetch failed … ECONNRESET` from a server busy replaying a file: a Node
// HTTP server whose event loop is held longer than its keep-alive timeout (5 s, as tcpscope sets
// it) runs that timer before it reads a request already sent on the kept-alive connection, closes
// the socket with the request unread, and the kernel answers the unread data with a RST.
//
// The server (a child process) answers one request, then holds its loop for --hold-ms from a
// setImmediate (outside the timers phase, as a replay's tracking is); half a second into the hold
// the client sends its next request on the same kept-alive connection.
//
//   node bench/keepalive-reset.mjs [--holds 3000,6000]
import { fork } from 'node:child_process';
import http from 'node:http';
import { fileURLToPath } from 'node:url';

if (process.argv[2] === '--serve') {
  const holdMs = Number(process.argv[3]);
  const server = http.createServer((req, res) => {
    res.end('ok');
    if (req.url === '/hold') setTimeout(() => setImmediate(() => {
      const t = Date.now();
      while (Date.now() - t < holdMs);
    }), 50);
  });
  server.keepAliveTimeout = 5000;
  server.listen(0, '127.0.0.1', () => process.send(server.address().port));
} else {
  const args = process.argv.slice(2);
  const holds = (args.includes('--holds') ? args[args.indexOf('--holds') + 1] : '3000,6000').split(',').map(Number);
  for (const holdMs of holds) {
    const child = fork(fileURLToPath(import.meta.url), ['--serve', String(holdMs)]);
    const port = await new Promise((r) => child.once('message', r));
    await (await fetch(`http://127.0.0.1:${port}/hold`)).text();
    await new Promise((r) => setTimeout(r, 500));
    const t0 = Date.now();
    try {
      await (await fetch(`http://127.0.0.1:${port}/next`)).text();
      console.log(`loop held ${holdMs} ms (keep-alive timeout 5000 ms): answered after ${Date.now() - t0} ms`);
    } catch (e) {
      console.log(`loop held ${holdMs} ms (keep-alive timeout 5000 ms): ${e.message}: ${e.cause?.code} after ${Date.now() - t0} ms`);
    }
    child.kill();
  }
}
