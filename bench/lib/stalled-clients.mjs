// WebSocket clients that upgrade and then never read: the HTTP response head is read (to learn
// whether the upgrade was accepted), then the socket is paused for good, so the kernel buffers
// fill and the server's writes back up. Runs as its own process.
//   argv: host port count [localAddressCount]; IPC: → { opened: {accepted, refused, failed} },
//   'close' ends them all.
import net from 'node:net';

const [host, port, count, nAddr = '16'] = process.argv.slice(2);
const sockets = [];
const tally = { accepted: 0, refused: {}, failed: 0 };
const key = 'dGhlIHNhbXBsZSBub25jZQ==';

function one(i) {
  return new Promise((resolve) => {
    const s = net.connect({ host, port: Number(port), localAddress: `127.0.0.${2 + (i % Number(nAddr))}` });
    sockets.push(s);
    s.on('connect', () =>
      s.write(`GET /ws HTTP/1.1\r\nHost: ${host}:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`),
    );
    s.once('data', (d) => {
      const status = Number(/^HTTP\/1\.1 (\d+)/.exec(d.toString('latin1'))?.[1] ?? 0);
      if (status === 101) tally.accepted++;
      else tally.refused[status] = (tally.refused[status] ?? 0) + 1;
      s.pause();
      resolve();
    });
    s.on('error', () => {
      tally.failed++;
      resolve();
    });
  });
}

for (let i = 0; i < Number(count); i += 50) {
  await Promise.all(Array.from({ length: Math.min(50, Number(count) - i) }, (_, k) => one(i + k)));
}
process.send({ opened: tally });
process.on('message', (m) => {
  if (m === 'tally') process.send({ tally });
  if (m === 'close') {
    for (const s of sockets) s.destroy();
    process.exit(0);
  }
});
process.on('disconnect', () => process.exit(0));
