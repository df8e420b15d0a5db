// Live capture on lo against real connections, checked against tcpdump capturing the same ports at
// the same time: tshark's reading of tcpdump's file is the truth for ports, seq/ack, flags, wire
// length and timestamps. Needs root (CAP_NET_RAW); the filter is narrowed to this file's ports
// because other programs use lo at the same time.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Frame } from '../../src/capture/frame';
import { LIVE_ERROR_CODES } from '../../src/capture/errors';
import { type LiveCapture, openLive } from '../../src/capture/live';
import { loadCap } from '../../src/capture/live-cap';
import { decodeFrame } from '../../src/decode/decode';
import { LinkType } from '../../src/decode/linktype';
import { addrString, Segment, TcpFlag } from '../../src/decode/segment';
import { countPcapRecords, parseEpoch, startTcpdump, tsharkFields } from '../support/tools';
import { tempDir } from '../support/temp';
import { waitFor } from '../support/wait';
import { needs, root, tool } from '../support/skip';

const { SYN, ACK, FIN, RST } = TcpFlag;

interface Rec {
  /** Arrival order. */
  n: number;
  sec: number;
  nsec: number;
  linkType: number;
  capLen: number;
  dataLen: number;
  origLen: number;
  status: string;
  family: number;
  src: string;
  dst: string;
  sport: number;
  dport: number;
  seq: number;
  ack: number;
  flags: number;
  /** Where the IP packet ends by the decoder's reading of the IP lengths. */
  ipEnd: number;
  matched: boolean;
}

/** A sink that copies what each (reused, short-lived) frame says into a plain record. */
function recorder() {
  const recs: Rec[] = [];
  const seg = new Segment();
  const onFrame = (f: Frame) => {
    const status = decodeFrame(f.linkType, f.data, f.origLen, seg);
    const ok = status === 'ok';
    recs.push({
      n: recs.length,
      sec: f.tsSec,
      nsec: f.tsNsec,
      linkType: f.linkType,
      capLen: f.capLen,
      dataLen: f.data.length,
      origLen: f.origLen,
      status,
      family: ok ? seg.family : 0,
      src: ok ? addrString(seg.buf, seg.srcOff, seg.family) : '',
      dst: ok ? addrString(seg.buf, seg.dstOff, seg.family) : '',
      sport: ok ? seg.srcPort : -1,
      dport: ok ? seg.dstPort : -1,
      seq: seg.seq,
      ack: seg.ack,
      flags: ok ? seg.flags : 0,
      ipEnd: ok ? seg.tcpOff + seg.headerLen + seg.payloadLen : -1,
      matched: false,
    });
  };
  return { recs, onFrame };
}

function listen(host: string, onConn: (s: net.Socket) => void): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer(onConn);
    srv.on('error', reject);
    srv.listen(0, host, () => resolve(srv));
  });
}

function portOf(srv: net.Server): number {
  return (srv.address() as net.AddressInfo).port;
}

function connect(host: string, port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host, port }, () => resolve(s));
    s.once('error', reject);
  });
}

/** A port nothing listens on: bound once by us, then released. */
async function closedPort(): Promise<number> {
  const srv = await listen('127.0.0.1', () => {});
  const port = portOf(srv);
  await new Promise((r) => srv.close(r));
  return port;
}

/** Packet sockets this process holds (fds whose socket inode /proc/net/packet lists). */
function packetSockets(): number {
  const inodes = new Set(
    readFileSync('/proc/net/packet', 'utf8')
      .trim()
      .split('\n')
      .slice(1)
      .map((l) => l.trim().split(/\s+/).at(-1)),
  );
  let n = 0;
  for (const fd of readdirSync('/proc/self/fd')) {
    let target: string;
    try {
      target = readlinkSync(path.join('/proc/self/fd', fd));
    } catch {
      continue;
    }
    const m = /^socket:\[(\d+)\]$/.exec(target);
    if (m && inodes.has(m[1])) n++;
  }
  return n;
}

const ms = (r: { sec: number; nsec: number }) => r.sec * 1000 + r.nsec / 1e6;
const has = (flags: number, bits: number) => (flags & bits) === bits;

describe('live capture on lo', needs(root(), tool('tcpdump'), tool('tshark')), () => {
  const servers: net.Server[] = [];
  const ports = { clientClose: 0, serverClose: 0, reset: 0, refused: 0, v6: 0 };
  const clientPorts = { clientClose: 0, serverClose: 0, reset: 0, refusedSyn: 0, v6: 0 };
  const CHUNK = 1 << 20;
  let bulkSent = 0;
  let cap: LiveCapture;
  let rec: ReturnType<typeof recorder>;
  let truth: string[][] = [];
  /** The live record each tcpdump packet matched (filled by the comparison test, used after it). */
  const matchOf = new Map<string[], Rec>();
  let openedSockets = 0;
  const dir = tempDir('tcpscope-live-');
  // Stopped in afterAll too, so a set-up that fails half-way leaves no tcpdump running.
  let dump: Awaited<ReturnType<typeof startTcpdump>> | null = null;

  beforeAll(async () => {
    // Client-first close, after a bulk transfer big enough for segments longer than the snap length.
    servers.push(await listen('127.0.0.1', (s) => s.resume()));
    // Server-first close.
    servers.push(await listen('127.0.0.1', (s) => s.end('bye')));
    // The client resets.
    servers.push(await listen('127.0.0.1', (s) => s.on('error', () => {})));
    // IPv6, client-first close.
    servers.push(await listen('::1', (s) => s.on('data', () => s.write('pong'))));
    [ports.clientClose, ports.serverClose, ports.reset, ports.v6] = servers.map(portOf);
    ports.refused = await closedPort();

    const before = packetSockets();
    rec = recorder();
    const r = openLive({ iface: 'lo', ports: Object.values(ports) }, rec.onFrame);
    if (!r.ok) throw new Error(`${r.error.code}: ${r.error.message}`);
    cap = r.capture;
    openedSockets = packetSockets() - before;
    dump = await startTcpdump({ iface: 'lo', filter: cap.filter, file: path.join(dir, 'truth.pcap') });
    const tcpdump = dump;

    // A first connection proves the capture is live before the connections under test start.
    const probe = await connect('127.0.0.1', ports.serverClose);
    const probePort = probe.localPort;
    probe.on('data', () => {});
    await new Promise((r) => probe.on('close', r));
    await waitFor('the first SYN', () => rec.recs.some((x) => x.sport === probePort && has(x.flags, SYN)));

    // Client-first close. Bulk data goes out in 1 MiB writes until the capture has seen a segment
    // longer than the snap length (how lo segments a write depends on the window at that moment).
    {
      const c = await connect('127.0.0.1', ports.clientClose);
      clientPorts.clientClose = c.localPort!;
      const closed = new Promise((r) => c.on('close', r));
      const chunk = Buffer.alloc(CHUNK, 0x61);
      const big = () => rec.recs.some((x) => x.sport === clientPorts.clientClose && x.origLen > x.capLen);
      while (bulkSent < 32 * CHUNK && !big()) {
        await new Promise<void>((r) => c.write(chunk, () => r()));
        bulkSent += CHUNK;
        await waitFor('a segment longer than the snap length', () => big(), 200).catch(() => {});
      }
      c.end();
      await closed;
    }
    // Server-first close.
    {
      const c = await connect('127.0.0.1', ports.serverClose);
      clientPorts.serverClose = c.localPort!;
      c.on('data', () => {});
      await new Promise((r) => c.on('close', r));
    }
    // Client reset.
    {
      const c = await connect('127.0.0.1', ports.reset);
      clientPorts.reset = c.localPort!;
      const syn = await waitFor('the SYN before the reset', () => synOf(clientPorts.reset));
      c.write('x');
      // Wait for the server's ACK of the byte, so the RST is the last thing the client sends.
      await waitFor(
        'the ACK of the byte before the reset', () =>
          rec.recs.some(
            (x) => x.sport === ports.reset && x.dport === clientPorts.reset && x.ack === ((syn.seq + 2) >>> 0),
          ),
      );
      c.resetAndDestroy();
    }
    // Refused.
    {
      const err = await connect('127.0.0.1', ports.refused).then(
        () => null,
        (e: NodeJS.ErrnoException) => e,
      );
      expect(err?.code).toBe('ECONNREFUSED');
    }
    // IPv6.
    {
      const c = await connect('::1', ports.v6);
      clientPorts.v6 = c.localPort!;
      const closed = new Promise((r) => c.on('close', r));
      c.on('data', () => c.end());
      c.write('ping');
      await closed;
    }

    // Wait until every closing packet is in, then until tcpdump has written at least as much.
    await waitFor('every FIN and RST in the live capture', () => closingSeen());
    try {
      await waitFor('tcpdump to write what the live capture saw', () => countPcapRecords(tcpdump.file) >= rec.recs.length);
    } catch (e) {
      await tcpdump.stop();
      const got = `${countPcapRecords(tcpdump.file)} of ${rec.recs.length}`;
      throw new Error(`${(e as Error).message}: ${got}; tcpdump: ${tcpdump.stderr().trim()}`);
    }
    await tcpdump.stop();
    truth = await tsharkFields(tcpdump.file, [
      'frame.time_epoch',
      'frame.len',
      'tcp.srcport',
      'tcp.dstport',
      'tcp.seq_raw',
      'tcp.ack_raw',
      'tcp.flags',
      'ip.len',
      'ipv6.plen',
    ]);
  });

  afterAll(async () => {
    await dump?.stop();
    rmSync(dir, { recursive: true, force: true });
    cap?.stop();
    for (const s of servers) await new Promise((r) => s.close(r));
  });

  function synOf(clientPort: number): Rec | undefined {
    return rec.recs.find((x) => x.sport === clientPort && x.flags === SYN);
  }

  function fins(clientPort: number, serverPort: number) {
    const fromClient = rec.recs.find((x) => x.sport === clientPort && x.dport === serverPort && has(x.flags, FIN));
    const fromServer = rec.recs.find((x) => x.sport === serverPort && x.dport === clientPort && has(x.flags, FIN));
    return { fromClient, fromServer };
  }

  function closingSeen(): boolean {
    const done = (c: number, s: number) => {
      const f = fins(c, s);
      if (!f.fromClient || !f.fromServer) return false;
      const last = f.fromClient.n > f.fromServer.n ? f.fromClient : f.fromServer;
      // the ACK of the second FIN
      return rec.recs.some((x) => x.sport === last.dport && x.dport === last.sport && x.ack === ((last.seq + 1) >>> 0));
    };
    return (
      done(clientPorts.clientClose, ports.clientClose) &&
      done(clientPorts.serverClose, ports.serverClose) &&
      done(clientPorts.v6, ports.v6) &&
      rec.recs.some((x) => x.sport === clientPorts.reset && has(x.flags, RST)) &&
      rec.recs.some((x) => x.sport === ports.refused && has(x.flags, RST))
    );
  }

  /** SYN from the client, SYN+ACK acknowledging it, and the handshake's last ACK. */
  function checkHandshake(clientPort: number, serverPort: number, family: 4 | 6) {
    const syn = synOf(clientPort)!;
    expect(syn, 'SYN').toBeDefined();
    expect(syn.dport).toBe(serverPort);
    expect(syn.family).toBe(family);
    const synAck = rec.recs.find((x) => x.sport === serverPort && x.dport === clientPort && x.flags === (SYN | ACK))!;
    expect(synAck, 'SYN+ACK').toBeDefined();
    expect(synAck.ack).toBe((syn.seq + 1) >>> 0);
    expect(synAck.n).toBeGreaterThan(syn.n);
    const ack = rec.recs.find(
      (x) => x.sport === clientPort && x.dport === serverPort && x.n > synAck.n && has(x.flags, ACK),
    )!;
    expect(ack.seq).toBe((syn.seq + 1) >>> 0);
    expect(ack.ack).toBe((synAck.seq + 1) >>> 0);
    return { syn, synAck };
  }

  it('opens on lo with link type Ethernet, the filter narrowed to the ports, one packet socket', () => {
    expect(cap.iface).toBe('lo');
    expect(cap.linkType).toBe(LinkType.ETHERNET);
    expect(cap.filter).toBe(`tcp and (${Object.values(ports).map((p) => `port ${p}`).join(' or ')})`);
    expect(openedSockets).toBe(1);
  });

  it('decodes every captured frame, all of them on the filtered ports', () => {
    const mine = new Set(Object.values(ports));
    for (const r of rec.recs) {
      expect(r.status).toBe('ok');
      expect(mine.has(r.sport) || mine.has(r.dport)).toBe(true);
      expect(r.dataLen).toBe(r.capLen);
      expect(r.linkType).toBe(LinkType.ETHERNET);
    }
  });

  it('client-first close: SYN, SYN+ACK, then the client FIN before the server FIN', () => {
    const c = clientPorts.clientClose;
    const s = ports.clientClose;
    const { syn, synAck } = checkHandshake(c, s, 4);
    const { fromClient, fromServer } = fins(c, s);
    expect(fromClient!.n).toBeLessThan(fromServer!.n);
    // The client's FIN comes right after the bulk bytes; the server sent nothing before its FIN,
    // which acknowledges the client's.
    expect(fromClient!.seq).toBe((syn.seq + 1 + bulkSent) >>> 0);
    expect(fromServer!.seq).toBe((synAck.seq + 1) >>> 0);
    expect(fromServer!.ack).toBe((fromClient!.seq + 1) >>> 0);
  });

  it('segments longer than the snap length keep their wire length', () => {
    const big = rec.recs.filter((x) => x.sport === clientPorts.clientClose && x.origLen > x.capLen);
    expect(big.length).toBeGreaterThan(0);
    for (const r of big) expect(r.capLen).toBe(65535);
  });

  it('server-first close: the server FIN comes first and the client FIN acknowledges it', () => {
    const c = clientPorts.serverClose;
    const s = ports.serverClose;
    const { syn, synAck } = checkHandshake(c, s, 4);
    const { fromClient, fromServer } = fins(c, s);
    expect(fromServer!.n).toBeLessThan(fromClient!.n);
    expect(fromServer!.seq).toBe((synAck.seq + 1 + 3) >>> 0); // after 'bye'
    expect(fromClient!.seq).toBe((syn.seq + 1) >>> 0);
    expect(fromClient!.ack).toBe((fromServer!.seq + 1) >>> 0);
  });

  it('reset: the client RST carries its next sequence number', () => {
    const c = clientPorts.reset;
    const s = ports.reset;
    const { syn } = checkHandshake(c, s, 4);
    const rst = rec.recs.find((x) => x.sport === c && x.dport === s && has(x.flags, RST))!;
    expect(rst).toBeDefined();
    expect(rst.seq).toBe((syn.seq + 2) >>> 0); // after the one byte
    expect(rec.recs.some((x) => x.sport === c && has(x.flags, FIN))).toBe(false);
  });

  it('refused: the SYN to a closed port is answered by RST+ACK acknowledging it', () => {
    const s = ports.refused;
    const rst = rec.recs.find((x) => x.sport === s && has(x.flags, RST))!;
    const syn = rec.recs.find((x) => x.dport === s && x.sport === rst.dport && x.flags === SYN)!;
    expect(syn).toBeDefined();
    expect(rst.flags).toBe(RST | ACK);
    expect(rst.seq).toBe(0);
    expect(rst.ack).toBe((syn.seq + 1) >>> 0);
    expect(rst.n).toBeGreaterThan(syn.n);
  });

  it('IPv6 on ::1: handshake and client-first close', () => {
    const c = clientPorts.v6;
    const s = ports.v6;
    checkHandshake(c, s, 6);
    const { fromClient, fromServer } = fins(c, s);
    expect(fromClient!.n).toBeLessThan(fromServer!.n);
    const all = rec.recs.filter((x) => x.sport === c || x.dport === c);
    for (const r of all) {
      expect(r.family).toBe(6);
      expect(r.src).toBe('::1');
      expect(r.dst).toBe('::1');
    }
  });

  it('every packet tcpdump saw is in the live capture with equal ports, seq, ack and flags', () => {
    expect(truth.length).toBeGreaterThan(20);
    const unmatched: string[][] = [];
    for (const t of truth) {
      const [, , sport, dport, seq, ack, flags] = t;
      const m = rec.recs.find(
        (x) =>
          !x.matched &&
          x.sport === Number(sport) &&
          x.dport === Number(dport) &&
          x.seq === Number(seq) &&
          x.ack === Number(ack) &&
          x.flags === parseInt(flags, 16),
      );
      if (m) {
        m.matched = true;
        matchOf.set(t, m);
      } else unmatched.push(t);
    }
    expect(unmatched).toEqual([]);
  });

  it('origLen is the IP-derived length and equals the wire length tcpdump recorded', () => {
    for (const t of truth) {
      const r = matchOf.get(t)!;
      const [, frameLen, , , , , , ipLen, ip6PayloadLen] = t;
      const ipDerived = ipLen ? 14 + Number(ipLen) : 14 + 40 + Number(ip6PayloadLen);
      expect(r.origLen).toBe(ipDerived);
      expect(r.origLen).toBe(r.ipEnd);
      expect(r.origLen).toBe(Number(frameLen));
    }
  });

  it('timestamps are epoch-anchored, monotonic, and within a few ms of tcpdump', () => {
    for (let i = 1; i < rec.recs.length; i++) expect(ms(rec.recs[i])).toBeGreaterThanOrEqual(ms(rec.recs[i - 1]));
    for (const r of rec.recs) {
      expect(Number.isInteger(r.sec) && Number.isInteger(r.nsec)).toBe(true);
      expect(r.nsec).toBeGreaterThanOrEqual(0);
      expect(r.nsec).toBeLessThan(1e9);
      expect(r.nsec % 1000).toBe(0); // microsecond resolution
    }
    const lags = truth.map((t) => ms(matchOf.get(t)!) - ms(parseEpoch(t[0]))).sort((a, b) => a - b);
    const median = lags[lags.length >> 1];
    // We stamp after the kernel does, so a lag is expected, a lead is not (beyond clock anchoring).
    expect(lags[0]).toBeGreaterThan(-2);
    expect(median).toBeLessThan(5);
    expect(lags[lags.length - 1]).toBeLessThan(50);
  });

  it("stats count frames and wire bytes, and the kernel's drops (none here)", () => {
    const s = cap.stats();
    expect(s.frames).toBe(rec.recs.length);
    expect(s.bytes).toBe(rec.recs.reduce((a, r) => a + r.origLen, 0));
    expect(s.dropped).toBe(0);
  });

  it('stop() releases the packet socket, is idempotent, and no frame arrives after it', async () => {
    const before = packetSockets();
    cap.stop();
    expect(packetSockets()).toBe(before - 1);
    cap.stop();
    const n = rec.recs.length;
    const c = await connect('127.0.0.1', ports.serverClose);
    c.on('data', () => {});
    await new Promise((r) => c.on('close', r));
    await new Promise((r) => setTimeout(r, 100));
    expect(rec.recs.length).toBe(n);
    expect(cap.stats().frames).toBe(n);
  });
});

describe('live capture on any', needs(root()), () => {
  it('maps cooked captures to LINUX_SLL and derives their wire length', async () => {
    const srv = await listen('127.0.0.1', (s) => s.end('hi'));
    const port = portOf(srv);
    const rec = recorder();
    const r = openLive({ iface: 'any', ports: [port], bufferSize: 4 << 20 }, rec.onFrame);
    if (!r.ok) throw new Error(`${r.error.code}: ${r.error.message}`);
    try {
      expect(r.capture.linkType).toBe(LinkType.LINUX_SLL);
      const c = await connect('127.0.0.1', port);
      c.on('data', () => {});
      await new Promise((res) => c.on('close', res));
      await waitFor('both FINs on any', () => rec.recs.filter((x) => has(x.flags, FIN)).length >= 2);
      for (const x of rec.recs) {
        expect(x.status).toBe('ok');
        expect(x.linkType).toBe(LinkType.LINUX_SLL);
        expect(x.origLen).toBe(x.ipEnd);
        expect(x.origLen).toBe(x.capLen);
      }
    } finally {
      r.capture.stop();
      await new Promise((res) => srv.close(res));
    }
  });
});

describe('stopping from inside the frame callback', needs(root()), () => {
  it('delivers no frame after the one that stopped it', async () => {
    const srv = await listen('127.0.0.1', (s) => s.end('hi'));
    const port = portOf(srv);
    let frames = 0;
    let stoppedAt = -1;
    let capture: LiveCapture | undefined;
    const r = openLive({ ports: [port], bufferSize: 1 << 20 }, () => {
      frames++;
      if (stoppedAt < 0) {
        stoppedAt = frames;
        capture!.stop();
      }
    });
    if (!r.ok) throw new Error(`${r.error.code}: ${r.error.message}`);
    capture = r.capture;
    try {
      const c = await connect('127.0.0.1', port);
      c.on('data', () => {});
      await new Promise((res) => c.on('close', res));
      await waitFor('the first frame', () => stoppedAt > 0);
      await new Promise((res) => setTimeout(res, 100));
      expect(frames).toBe(1);
      expect(capture.stats().frames).toBe(1);
    } finally {
      capture.stop();
      await new Promise((res) => srv.close(res));
    }
  });
});

describe('a shorter snap length', needs(root()), () => {
  it('copies at most that many bytes of each packet and keeps the wire length from the IP header', async () => {
    const payload = Buffer.alloc(3000, 7);
    const srv = await listen('127.0.0.1', (s) => s.end(payload));
    const port = portOf(srv);
    const rec = recorder();
    const r = openLive({ ports: [port], bufferSize: 1 << 20, snapLength: 128 }, rec.onFrame);
    if (!r.ok) throw new Error(`${r.error.code}: ${r.error.message}`);
    try {
      const c = await connect('127.0.0.1', port);
      c.on('data', () => {});
      await new Promise((res) => c.on('close', res));
      await waitFor('both FINs', () => rec.recs.filter((x) => has(x.flags, FIN)).length >= 2);
      for (const x of rec.recs) {
        expect(x.status).toBe('ok');
        expect(x.capLen).toBeLessThanOrEqual(128);
        expect(x.dataLen).toBe(x.capLen);
        expect(x.origLen).toBe(x.ipEnd);
      }
      // the response (3 000 bytes in one segment on lo) was cut, yet counted whole
      expect(rec.recs.some((x) => x.capLen === 128 && x.origLen > 3000)).toBe(true);
    } finally {
      r.capture.stop();
      await new Promise((res) => srv.close(res));
    }
  });

  it('is refused outside 64 to 65 535 bytes', () => {
    const r = openLive({ ports: [9], snapLength: 10 }, () => {});
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toEqual({ code: 'capture-failed', message: 'invalid snap length 10: give a whole number of bytes from 64 to 65535' });
    if (!r.ok) expect(LIVE_ERROR_CODES).toContain(r.error.code);
  });
});

// With this thread blocked, nothing is read from the kernel's ring: `n` request/response
// connections made meanwhile by another process all wait in it, or are dropped by the kernel when
// it is full. Each connection is at least 5 packets here (SYN, SYN+ACK, ACK, the two FINs).
const BURST = `
const net = require('net');
const [port, n] = process.argv.slice(1).map(Number);
const srv = net.createServer((c) => c.on('data', (d) => c.end(d))).listen(port, '127.0.0.1', async () => {
  for (let i = 0; i < n; i++) {
    await new Promise((res, rej) => {
      const c = net.connect(port, '127.0.0.1', () => c.write('ping'));
      c.on('data', () => {});
      c.on('error', rej);
      c.on('close', res);
    });
  }
  srv.close();
});`;
function burstWhileBlocked(port: number, n: number): void {
  execFileSync(process.execPath, ['-e', BURST, String(port), String(n)], { timeout: 30_000, stdio: 'ignore' });
}

/** Resolves once `count()` has not changed for 300 ms. */
async function settled(count: () => number): Promise<number> {
  let last = -1;
  return waitFor('the ring to be drained', async () => {
    await new Promise((r) => setTimeout(r, 300));
    const n = count();
    const same = n === last;
    last = n;
    return same && n + 1;
  }).then((n) => n - 1);
}

describe("the snap length in the kernel's ring, and its drop count", needs(root()), () => {
  const CONNS = 60;

  it('keeps at most the snap length of each packet in the ring, and counts what it received', async () => {
    const port = await closedPort();
    // cap itself, so that what libpcap kept is seen before any cut of ours: a 64 KiB buffer
    const lc = loadCap();
    if (!lc.ok) throw new Error(lc.error.message);
    const cap = new lc.cap.Cap();
    const buf = Buffer.alloc(65535);
    const lens: number[] = [];
    expect(cap.open('lo', `tcp port ${port}`, 1 << 20, buf, 128)).toBe('ETHERNET');
    cap.on('packet', (n: number) => lens.push(n));
    try {
      const payload = 'x'.repeat(3000);
      execFileSync(process.execPath, ['-e', BURST.replace("c.write('ping')", `c.write('${payload}')`), String(port), '3'], { timeout: 30_000, stdio: 'ignore' });
      await settled(() => lens.length);
      const s = cap.stats();
      expect(lens.length).toBeGreaterThanOrEqual(3 * 5);
      expect(Math.max(...lens)).toBe(128);
      expect(s.ps_drop).toBe(0);
      expect(s.ps_recv).toBeGreaterThanOrEqual(lens.length);
    } finally {
      cap.close();
    }
  }, 60_000);

  it('makes a small buffer hold a burst that whole packets overflow, and reports the overflow', async () => {
    const results: Record<string, { frames: number; syns: number; fins: number; dropped: number | null }> = {};
    for (const snapLength of [65535, 512]) {
      const port = await closedPort();
      const rec = recorder();
      const r = openLive({ ports: [port], bufferSize: 1 << 20, snapLength }, rec.onFrame);
      if (!r.ok) throw new Error(`${r.error.code}: ${r.error.message}`);
      try {
        burstWhileBlocked(port, CONNS);
        const frames = await settled(() => rec.recs.length);
        const syns = rec.recs.filter((x) => x.flags === SYN).length;
        const fins = rec.recs.filter((x) => has(x.flags, FIN)).length;
        results[snapLength] = { frames, syns, fins, dropped: r.capture.stats().dropped };
      } finally {
        r.capture.stop();
      }
    }
    // 1 MiB holds 16 whole packets on lo; at 512 bytes, all of the burst
    expect(results[65535].dropped).toBeGreaterThan(0);
    expect(results[65535].frames).toBeLessThan(CONNS * 5);
    expect(results[512]).toMatchObject({ syns: CONNS, fins: 2 * CONNS, dropped: 0 });
  }, 60_000);
});
