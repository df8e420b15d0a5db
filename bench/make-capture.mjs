#!/usr/bin/env node
// Makes the benchmark capture from real loopback traffic: many short request/response connections
// (half closed by the client first, half by the server first) and a few bulk transfers, captured by
// tcpdump on lo, then converted to pcapng with editcap from the same packets.
//
//   node bench/make-capture.mjs [--packets 1000000] [--out .bench-data/loopback]
// writes OUT.pcap and OUT.pcapng and prints their packet counts. Needs root (capture) and tcpdump,
// editcap (Debian: tcpdump, wireshark-common).
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';

const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : def;
};
const targetPackets = Number(opt('--packets', 1_000_000));
const out = opt('--out', '.bench-data/loopback');
mkdirSync(path.dirname(out), { recursive: true });

const server = net.createServer({ allowHalfOpen: true }, (sock) => {
  sock.once('data', (d) => {
    const req = d.toString('latin1');
    if (req.startsWith('BULK')) {
      const n = Number(req.slice(5)) || 1 << 20;
      const chunk = Buffer.alloc(16 * 1024, 0x61);
      let sent = 0;
      const pump = () => {
        while (sent < n) {
          sent += chunk.length;
          if (!sock.write(chunk)) return sock.once('drain', pump);
        }
        sock.end();
      };
      pump();
      return;
    }
    sock.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok');
    if (req.startsWith('S')) sock.end(); // server closes first
    else sock.on('end', () => sock.end());
  });
  sock.on('error', () => {});
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const port = server.address().port;

const pcap = `${out}.pcap`;
const dump = spawn('tcpdump', ['-i', 'lo', '-s', '256', '-B', '65536', '-U', '-w', pcap, `tcp port ${port}`], {
  stdio: ['ignore', 'ignore', 'pipe'],
});
let dumpErr = '';
dump.stderr.on('data', (d) => (dumpErr += d));
const t0 = Date.now();
while (!/listening on/.test(dumpErr)) {
  if (Date.now() - t0 > 10_000) throw new Error(`tcpdump did not start: ${dumpErr}`);
  await new Promise((r) => setTimeout(r, 50));
}

function shortConn(i) {
  return new Promise((resolve) => {
    const c = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
    c.on('connect', () => c.write(i % 2 ? 'S GET / HTTP/1.1\r\n\r\n' : 'C GET / HTTP/1.1\r\n\r\n'));
    c.on('data', () => {
      if (i % 2 === 0) c.end(); // client closes first
    });
    c.on('end', () => c.end());
    c.on('close', resolve);
    c.on('error', resolve);
  });
}
function bulk(bytes) {
  return new Promise((resolve) => {
    const c = net.connect({ port, host: '127.0.0.1' }, () => c.write(`BULK ${bytes}`));
    c.resume();
    c.on('close', resolve);
    c.on('error', resolve);
  });
}

// ~9 packets per short connection; bulk transfers add long data phases.
await Promise.all([bulk(64 << 20), bulk(64 << 20)]);
const conns = Math.ceil((targetPackets * 1.02) / 9);
let next = 0;
const workers = Array.from({ length: 64 }, async () => {
  while (next < conns) await shortConn(next++);
});
await Promise.all(workers);
await new Promise((r) => setTimeout(r, 500));
dump.kill('SIGINT');
await new Promise((r) => dump.on('exit', r));
server.close();

const count = (f) => Number(execFileSync('capinfos', ['-M', '-c', '-T', '-r', f]).toString().trim().split('\t').pop());
execFileSync('editcap', ['-F', 'pcapng', pcap, `${out}.pcapng`]);
for (const f of [pcap, `${out}.pcapng`]) {
  if (!existsSync(f)) throw new Error(`${f} missing`);
  console.log(`${f}\t${count(f)} packets\t${(statSync(f).size / 1048576).toFixed(1)} MiB`);
}
console.log(`connections made: ${conns + 2} (short: ${conns}, bulk: 2)`);
