import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeFrame } from '../../src/decode/decode';
import { Segment, TcpFlag } from '../../src/decode/segment';
import { sleep } from '../support/wait';
import { ourFields, readPcap, theirFields, tsharkRows } from './pcap-tools';
import { needs, root, tool } from '../support/skip';

// Real loopback connections captured by tcpdump, whole and at -s 60, decoded frame by frame and
// compared with what tshark reads from the same file.

function listen(host: string, onConn: (s: net.Socket) => void): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer(onConn);
    srv.once('error', reject);
    srv.listen(0, host, () => resolve(srv));
  });
}

function portOf(srv: net.Server): number {
  return (srv.address() as net.AddressInfo).port;
}

function close(srv: net.Server): Promise<void> {
  return new Promise((resolve) => srv.close(() => resolve()));
}

interface Tcpdump {
  proc: ChildProcess;
  stderr: string;
}

/**
 * Starts tcpdump and resolves once it says the filter is in place. Immediate mode: otherwise
 * libpcap hands packets over a ring block at a time, and a block not yet full when tcpdump is
 * stopped never reaches the file. A 32 MiB buffer so bursts of 64 KiB loopback segments fit.
 */
function startTcpdump(file: string, filter: string, snaplen: number): Promise<Tcpdump> {
  return new Promise((resolve, reject) => {
    const args = ['-i', 'lo', '--immediate-mode', '-B', '32768', '-U', '-n', '-s', String(snaplen), '-w', file, filter];
    const proc = spawn('tcpdump', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    const t: Tcpdump = { proc, stderr: '' };
    proc.stderr!.on('data', (d: Buffer) => {
      t.stderr += d.toString();
      if (t.stderr.includes('listening on')) resolve(t);
    });
    proc.once('error', reject);
    proc.once('exit', (code) => reject(new Error(`tcpdump exited (${code}): ${t.stderr}`)));
  });
}

/** Stops tcpdump and returns how many packets the kernel dropped for it. */
function stopTcpdump(t: Tcpdump): Promise<number> {
  return new Promise((resolve) => {
    t.proc.removeAllListeners('exit');
    t.proc.once('exit', () => {
      const m = /(\d+) packets? dropped by kernel/.exec(t.stderr);
      resolve(m ? Number(m[1]) : -1);
    });
    t.proc.kill('SIGINT');
  });
}

/** Client sends `bytes`, half-closes, and reads the echo until the server closes. */
function echoExchange(host: string, port: number, bytes: number): Promise<number> {
  return new Promise((resolve, reject) => {
    let got = 0;
    const c = net.connect({ host, port }, () => c.end(Buffer.alloc(bytes, 0x61)));
    c.on('data', (d) => (got += d.length));
    c.on('close', () => resolve(got));
    c.on('error', reject);
  });
}

/** The server speaks and closes first; the client reads to the end and closes after. */
function serverClosesFirst(host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const c = net.connect({ host, port });
    c.on('data', () => undefined);
    c.on('end', () => c.end());
    c.on('close', () => resolve());
    c.on('error', reject);
  });
}

/** Connects and aborts with a RST. */
function abort(host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const c = net.connect({ host, port }, () => {
      c.write('bye');
      setTimeout(() => c.resetAndDestroy(), 20);
    });
    c.on('close', () => resolve());
    c.on('error', reject);
  });
}

/** Connects to a port nobody listens on: SYN, then RST+ACK. */
function refused(host: string, port: number): Promise<void> {
  return new Promise((resolve) => {
    const c = net.connect({ host, port });
    c.on('error', () => resolve());
    c.on('connect', () => {
      c.destroy();
      resolve();
    });
  });
}

describe('live loopback traffic against tshark', needs(root(), tool('tcpdump'), tool('tshark')), () => {
  let dir = '';
  let full = '';
  let snap60 = '';
  let echo4Port = 0;
  let echo6Port = 0;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tcpscope-decode-live-'));
    full = path.join(dir, 'full.pcap');
    snap60 = path.join(dir, 'snap60.pcap');

    const echo = (s: net.Socket) => {
      s.on('data', (d) => s.write(d));
      s.on('end', () => s.end());
      s.on('error', () => undefined);
    };
    const greeter = (s: net.Socket) => {
      s.on('error', () => undefined);
      s.on('data', () => undefined);
      s.end('hello, and goodbye\n');
    };
    const echo4 = await listen('127.0.0.1', echo);
    const greet4 = await listen('127.0.0.1', greeter);
    const echo6 = await listen('::1', echo);
    // A port that was free a moment ago and is closed now: connections to it are refused.
    const gone = await listen('127.0.0.1', () => undefined);
    const closedPort = portOf(gone);
    await close(gone);

    echo4Port = portOf(echo4);
    echo6Port = portOf(echo6);
    const ports = [echo4Port, portOf(greet4), echo6Port, closedPort];
    const filter = `tcp and (${ports.map((p) => `port ${p}`).join(' or ')})`;
    const dumps = [await startTcpdump(full, filter, 262144), await startTcpdump(snap60, filter, 60)];

    expect(await echoExchange('127.0.0.1', portOf(echo4), 300_000)).toBe(300_000);
    expect(await echoExchange('127.0.0.1', portOf(echo4), 10)).toBe(10);
    await serverClosesFirst('127.0.0.1', portOf(greet4));
    await abort('127.0.0.1', portOf(echo4));
    await refused('127.0.0.1', closedPort);
    expect(await echoExchange('::1', portOf(echo6), 200_000)).toBe(200_000);
    await abort('::1', portOf(echo6));
    await refused('::1', closedPort);

    await sleep(300);
    // A dropped packet would make the comparisons below meaningless.
    expect(await Promise.all(dumps.map(stopTcpdump))).toEqual([0, 0]);
    await Promise.all([close(echo4), close(greet4), close(echo6)]);
  });

  afterAll(() => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('decodes every frame of the whole capture as tshark reads it', async () => {
    const { linkType, frames } = await readPcap(full);
    const rows = await tsharkRows(full);
    expect(frames.length).toBeGreaterThan(20);
    expect(rows.length).toBe(frames.length);

    const seg = new Segment();
    const seen = { v4: 0, v6: 0, syn: 0, fin: 0, rst: 0, data: 0 };
    const toEcho = { 4: 0, 6: 0 };
    const fromEcho = { 4: 0, 6: 0 };
    frames.forEach((f, i) => {
      expect(decodeFrame(linkType, f.data, f.origLen, seg), `frame ${i + 1}`).toBe('ok');
      expect(ourFields(seg), `frame ${i + 1}`).toBe(theirFields(rows[i]));
      expect(seg.capturedPayloadLen).toBe(seg.payloadLen);
      if (seg.family === 4) seen.v4++;
      else seen.v6++;
      if (seg.flags & TcpFlag.SYN) seen.syn++;
      if (seg.flags & TcpFlag.FIN) seen.fin++;
      if (seg.flags & TcpFlag.RST) seen.rst++;
      if (seg.payloadLen > 0) seen.data++;
      const echoPort = seg.family === 4 ? echo4Port : echo6Port;
      if (seg.dstPort === echoPort) toEcho[seg.family] += seg.payloadLen;
      if (seg.srcPort === echoPort) fromEcho[seg.family] += seg.payloadLen;
    });
    // Every byte the sockets moved is in the payload lengths (more only if something was resent).
    expect(toEcho[4]).toBeGreaterThanOrEqual(300_000 + 10 + 3);
    expect(fromEcho[4]).toBeGreaterThanOrEqual(300_000 + 10);
    expect(toEcho[6]).toBeGreaterThanOrEqual(200_000 + 3);
    expect(fromEcho[6]).toBeGreaterThanOrEqual(200_000);
    // The capture holds what the traffic above makes: both families, handshakes, closes, resets.
    for (const [k, n] of Object.entries(seen)) expect(n, k).toBeGreaterThan(0);
  });

  it('reads what -s 60 leaves: IPv4 headers with lengths from IP, IPv6 cut inside TCP', async () => {
    const { linkType, frames } = await readPcap(snap60);
    const rows = await tsharkRows(snap60);
    expect(frames.length).toBeGreaterThan(20);
    expect(rows.length).toBe(frames.length);

    const seg = new Segment();
    let cutPayload = 0;
    let cutOptions = 0;
    frames.forEach((f, i) => {
      const status = decodeFrame(linkType, f.data, f.origLen, seg);
      const ipVersion = f.data[14] >>> 4;
      if (ipVersion === 4) {
        // 14 + 20 + 20 leaves 6 bytes of options: the fixed header is whole.
        expect(status, `frame ${i + 1}`).toBe('ok');
        expect(ourFields(seg), `frame ${i + 1}`).toBe(theirFields(rows[i]));
        if (seg.capturedPayloadLen < seg.payloadLen) cutPayload++;
        if (seg.optionsTruncated) cutOptions++;
      } else {
        // 14 + 40 leaves 6 bytes of TCP: ports only, which tshark shows and we do not.
        expect(status, `frame ${i + 1}`).toBe('truncated-tcp');
        expect(rows[i]['tcp.seq_raw'], `frame ${i + 1}`).toBe('');
      }
    });
    expect(cutPayload).toBeGreaterThan(0);
    expect(cutOptions).toBeGreaterThan(0);
  });
});
