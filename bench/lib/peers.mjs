// The peers measured beside tcpscope's commands, each a command of its own:
//   node bench/lib/peers.mjs pcap-parser FILE   pcap-parser alone: every packet parsed, nothing done
//   node bench/lib/peers.mjs node-pcap FILE     node_pcap: offline session, decode, TCPTracker
// Prints one JSON line: packets (and sessions for node-pcap).
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const [what, file] = process.argv.slice(2);
let packets = 0;
if (what === 'pcap-parser') {
  const parser = require('pcap-parser').parse(file);
  parser.on('packet', () => packets++);
  await new Promise((r) => parser.on('end', r));
  console.log(JSON.stringify({ packets }));
} else if (what === 'node-pcap') {
  const pcap = require(path.join(here, '..', 'node_modules', 'pcap'));
  const tracker = new pcap.TCPTracker();
  let sessions = 0;
  tracker.on('session', () => sessions++);
  const session = pcap.createOfflineSession(file, { filter: '' });
  session.on('packet', (raw) => {
    packets++;
    tracker.track_packet(pcap.decode.packet(raw));
  });
  await new Promise((r) => session.on('complete', r));
  console.log(JSON.stringify({ packets, sessions }));
} else {
  console.error(`peers: unknown peer ${what}`);
  process.exit(2);
}
