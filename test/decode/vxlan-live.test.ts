// Real VXLAN: two network namespaces joined by a veth pair, a VXLAN device on each side over IPv4
// and another over IPv6, and TCP connections across both. tcpdump captures the outer UDP on the
// veth; every frame is decoded and compared with tshark's reading of the same file (inner
// addresses, ports, numbers, flags, window, length), and the tracker must see both connections open
// and close. The namespaces are private, so nothing here touches lo or anyone else's traffic.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { frameTimeMs } from '../../src/capture/frame';
import { readCaptureFile } from '../../src/capture/file';
import { decodeFrame } from '../../src/decode/decode';
import { Segment } from '../../src/decode/segment';
import { Tracker } from '../../src/track/tracker';
import { runChild } from '../support/tools';
import { waitFor } from '../support/wait';
import { ourFields, theirFields, tsharkRows, type TsharkRow } from './pcap-tools';
import { needs, root, tool } from '../support/skip';

const A = `tcpscope-vxa-${process.pid}`;
const B = `tcpscope-vxb-${process.pid}`;
const PORT = 8080;
const BYTES = 200_000;

async function ip(...args: string[]): Promise<void> {
  const r = await runChild('ip', args);
  if (r.code !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr.trim()}`);
}

// Both sides of one namespace: the veth end, its outer addresses, and a VXLAN device per family.
async function side(ns: string, me: number, peer: number): Promise<void> {
  const dev = `veth${me}`;
  await ip('-n', ns, 'link', 'set', 'lo', 'up');
  await ip('-n', ns, 'addr', 'add', `10.200.0.${me}/24`, 'dev', dev);
  await ip('-n', ns, 'addr', 'add', `fd00:200::${me}/64`, 'dev', dev, 'nodad');
  await ip('-n', ns, 'link', 'set', dev, 'up');
  await ip('-n', ns, 'link', 'add', 'vx4', 'type', 'vxlan', 'id', '42', 'local', `10.200.0.${me}`, 'remote', `10.200.0.${peer}`, 'dstport', '4789', 'dev', dev);
  await ip('-n', ns, 'link', 'add', 'vx6', 'type', 'vxlan', 'id', '43', 'local', `fd00:200::${me}`, 'remote', `fd00:200::${peer}`, 'dstport', '4789', 'dev', dev);
  await ip('-n', ns, 'addr', 'add', `10.201.0.${me}/24`, 'dev', 'vx4');
  await ip('-n', ns, 'addr', 'add', `fd00:201::${me}/64`, 'dev', 'vx6', 'nodad');
  await ip('-n', ns, 'link', 'set', 'vx4', 'up');
  await ip('-n', ns, 'link', 'set', 'vx6', 'up');
}

/** `node -e script` inside a namespace; resolves with the child once it prints `ready`. */
function nodeIn(ns: string, script: string): Promise<{ child: ChildProcess; out: () => string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('ip', ['netns', 'exec', ns, process.execPath, '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('ready')) resolve({ child, out: () => out });
    });
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`node in ${ns} exited (${code}): ${out}`)));
  });
}

// Echoes every connection back and closes when the client has.
const SERVER = `
const net = require('net');
let up = 0;
for (const host of ['10.201.0.2', 'fd00:201::2']) {
  net.createServer((s) => { s.pipe(s); }).listen(${PORT}, host, () => { if (++up === 2) console.log('ready'); });
}`;

// One connection per family, one after the other: send, read it all back, close first.
const CLIENT = `
const net = require('net');
console.log('ready');
async function one(host) {
  await new Promise((resolve, reject) => {
    const s = net.connect(${PORT}, host);
    let got = 0;
    s.on('data', (d) => { got += d.length; if (got === ${BYTES}) s.end(); });
    s.on('error', reject);
    s.on('close', () => resolve());
    s.write(Buffer.alloc(${BYTES}, 7));
  });
}
(async () => { await one('10.201.0.2'); await one('fd00:201::2'); console.log('done'); })().catch((e) => { console.log('failed ' + e); process.exit(1); });`;

/**
 * Per direction of each inner TCP connection, from tshark's rows: the payload of every segment
 * (tcp.len added up) and the payload's sequence span, from after the SYN to before the FIN.
 */
function directions(rows: TsharkRow[]): Map<string, { payload: number; span: number }> {
  const acc = new Map<string, { payload: number; isn: number | null; end: number | null }>();
  for (const r of rows) {
    if (r['tcp.seq_raw'] === '') continue;
    const k = `${r.src}|${r['tcp.srcport']}>${r.dst}|${r['tcp.dstport']}`;
    let d = acc.get(k);
    if (!d) acc.set(k, (d = { payload: 0, isn: null, end: null }));
    const seq = Number(r['tcp.seq_raw']);
    const len = Number(r['tcp.len']);
    const flags = parseInt(r['tcp.flags'], 16);
    d.payload += len;
    if (flags & 0x02) d.isn = seq;
    // payload only: a FIN's own sequence number is left out
    const end = (seq + len) >>> 0;
    if (len > 0 && (d.end === null || ((end - d.end) | 0) > 0)) d.end = end;
  }
  const out = new Map<string, { payload: number; span: number }>();
  for (const [k, d] of acc) {
    const span = d.isn === null ? NaN : d.end === null ? 0 : (d.end - d.isn - 1) >>> 0;
    out.set(k, { payload: d.payload, span });
  }
  return out;
}

describe('VXLAN between two network namespaces, over IPv4 and IPv6', needs(root(), tool('ip'), tool('tcpdump'), tool('tshark')), () => {
  let dir = '';
  let file = '';
  let server: ChildProcess | null = null;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tcpscope-vxlan-'));
    file = path.join(dir, 'vxlan.pcap');
    await ip('netns', 'add', A);
    await ip('netns', 'add', B);
    await ip('link', 'add', 'veth1', 'netns', A, 'type', 'veth', 'peer', 'name', 'veth2', 'netns', B);
    await side(A, 1, 2);
    await side(B, 2, 1);
    server = (await nodeIn(B, SERVER)).child;

    // Immediate mode gives each packet a ring slot sized by the snap length (64 KiB with offload on
    // veth): a large ring and a header-sized snap length keep a burst from overflowing it.
    const dumpArgs = ['-i', 'veth1', '-n', '-U', '--immediate-mode', '-s', '512', '-B', '65536', '-Z', 'root', '-w', file, 'udp port 4789'];
    const dump = spawn('ip', ['netns', 'exec', A, 'tcpdump', ...dumpArgs], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let dumpErr = '';
    dump.stderr!.on('data', (d: Buffer) => (dumpErr += d.toString()));
    await waitFor('tcpdump to listen', () => dumpErr.includes('listening on'));
    const client = await nodeIn(A, CLIENT);
    await waitFor('the client to finish', () => client.out().includes('done') || client.out().includes('failed'), 30_000);
    expect(client.out()).toContain('done');
    // The last ACKs are on the wire right after the sockets close; give tcpdump a moment.
    await new Promise((r) => setTimeout(r, 300));
    const exited = new Promise((r) => dump.once('exit', r));
    dump.kill('SIGINT');
    await exited;
    const dropped = /(\d+) packets? dropped by kernel/.exec(dumpErr);
    expect(Number(dropped?.[1] ?? 0), 'packets tcpdump lost').toBe(0);
  }, 60_000);

  afterAll(async () => {
    server?.kill();
    // Deleting a namespace removes its veth end and VXLAN devices with it.
    await runChild('ip', ['netns', 'del', A]);
    await runChild('ip', ['netns', 'del', B]);
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('decodes every tunnelled TCP segment as tshark does, and nothing else as TCP', async () => {
    const rows = await tsharkRows(file);
    const seg = new Segment();
    const tracker = new Tracker();
    const differ: string[] = [];
    const seen = { v4: 0, v6: 0, outer6: 0 };
    let i = 0;
    const res = await readCaptureFile(file, (f) => {
      const r = rows[i++];
      const st = decodeFrame(f.linkType, f.data, f.origLen, seg);
      const tcp = r['tcp.seq_raw'] !== '';
      if (st !== 'ok') {
        // ARP and neighbour discovery inside the tunnel
        if (tcp) differ.push(`frame ${i}: ${st}, tshark ${r['frame.protocols']}`);
        return;
      }
      if (!tcp || ourFields(seg) !== theirFields(r)) differ.push(`frame ${i}: ours ${ourFields(seg)}, tshark ${theirFields(r)}`);
      expect(seg.encapDepth).toBe(1);
      if (seg.family === 4) seen.v4++;
      else seen.v6++;
      if (r['frame.protocols'].startsWith('eth:ethertype:ipv6:udp:vxlan')) seen.outer6++;
      tracker.process(seg, frameTimeMs(f));
    });
    expect(res.error).toBeNull();
    expect(i).toBe(rows.length);
    expect(differ).toEqual([]);
    // Both inner families, both outer families (IPv4 VXLAN carries the IPv4 connection).
    expect(seen.v4).toBeGreaterThan(10);
    expect(seen.v6).toBeGreaterThan(10);
    expect(seen.outer6).toBe(seen.v6);

    const conns = tracker.list();
    expect(conns.map((c) => [c.family, c.client.ip, c.server.ip, c.server.port, c.connState])).toEqual([
      [4, '10.201.0.1', '10.201.0.2', PORT, 'SF'],
      [6, 'fd00:201::1', 'fd00:201::2', PORT, 'SF'],
    ]);
    // `bytes` is the payload of every captured segment, as tshark's tcp.len adds up: a segment the
    // sender retransmitted (seen on a busy host: one 1398-byte segment) counts each time it is on
    // the wire, as it does in `packets`. What the application wrote is the payload's sequence span,
    // which must be BYTES each way.
    const dirs = directions(rows);
    for (const c of conns) {
      for (const [from, to, counted] of [
        [c.client, c.server, c.counts.client.bytes],
        [c.server, c.client, c.counts.server.bytes],
      ] as const) {
        const dir = dirs.get(`${from.ip}|${from.port}>${to.ip}|${to.port}`);
        expect(dir, `${from.ip} ${from.port} in tshark's reading`).toBeDefined();
        expect(dir!.span, 'payload sequence span').toBe(BYTES);
        expect(counted, `bytes from ${from.ip}`).toBe(dir!.payload);
        // payload beyond the span went out more than once, and the tracker said so
        if (dir!.payload > BYTES) expect(c.anomalies).toBeGreaterThan(0);
      }
    }
  });
});
