#!/usr/bin/env node
// Makes test/fixtures/regressions/tuple-reuse-retention.pcap: real loopback traffic in which one
// client port is used twice. The first connection is closed by the server first (so its TIME_WAIT
// is on the server and the client may bind the same port again at once); 1.5 s later the client
// connects from the same port, and that connection closes the same way.
//
//   node bench/lib/make-reuse-capture.mjs [OUT.pcap]      (needs root and tcpdump)
import net from 'node:net';
import path from 'node:path';
import { sleep } from './proc.mjs';
import { startTcpdump } from './tcpdump.mjs';

const out = path.resolve(process.argv[2] ?? 'test/fixtures/regressions/tuple-reuse-retention.pcap');
const server = net.createServer((s) => {
  s.once('data', () => s.end('bye\n'));
  s.on('error', () => undefined);
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const port = server.address().port;
const dump = await startTcpdump(`tcp port ${port}`, { file: out, snaplen: 262144 });
const once = (localPort) =>
  new Promise((resolve, reject) => {
    const c = net.connect({ port, host: '127.0.0.1', localPort }, () => c.write('hi\n'));
    c.on('data', () => undefined);
    c.on('end', () => c.end());
    c.on('close', () => resolve(localPort));
    c.on('error', reject);
  });
const local = await new Promise((r) => {
  let lp = 0;
  const c = net.connect({ port, host: '127.0.0.1' }, () => {
    lp = c.localPort;
    c.write('hi\n');
  });
  c.on('data', () => undefined);
  c.on('end', () => c.end());
  c.on('close', () => r(lp));
});
await sleep(1500);
await once(local);
await sleep(300);
console.log(JSON.stringify({ out, port, clientPort: local, ...(await dump.stop()) }));
server.close();
