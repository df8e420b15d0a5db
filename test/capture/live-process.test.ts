// Live capture in its own process, against capture on this thread at the same time: the same
// frames in the same order with the same bytes. Then its faults: a capture process killed for real
// is reported, restarted and its hole kept; and stopping the real CLI in any way (SIGINT, SIGTERM,
// the CLI itself killed) leaves no capture process behind. Needs root; runs the build in dist/.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Frame } from '../../src/capture/frame';
import { LIVE_ERROR_CODES } from '../../src/capture/errors';
import { frameTimeMs } from '../../src/capture/frame';
import * as handover from '../../src/capture/handover';
import type { HandoverSink } from '../../src/capture/handover';
import { openLive, SNAPLEN } from '../../src/capture/live';
import type { CaptureFault, CaptureHole, SupervisedCapture } from '../../src/capture/live-process';
import { BIN, buildOnce, REPO } from '../cli/support';
import { needs, root } from '../support/skip';
import { waitFor } from '../support/wait';

type LiveProcess = typeof import('../../src/capture/live-process');
let lp: LiveProcess;
const SCRIPT = path.join(REPO, 'dist/capture/live-process-main.js');

beforeAll(async () => {
  await buildOnce();
  /* eslint-disable @typescript-eslint/no-require-imports */
  lp = require(path.join(REPO, 'dist/capture/live-process.js')) as LiveProcess;
  /* eslint-enable @typescript-eslint/no-require-imports */
}, 120_000);

let server: net.Server;
let port = 0;
beforeAll(async () => {
  server = net.createServer((c) => c.on('data', (d) => c.end(d)));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  port = (server.address() as net.AddressInfo).port;
});
afterAll(() => server?.close());

/** One request/response connection, finished before it resolves. */
function exchange(): Promise<void> {
  return new Promise((resolve, reject) => {
    const c = net.connect(port, '127.0.0.1', () => c.write('ping'));
    c.on('data', () => {});
    c.on('error', reject);
    c.on('close', () => resolve());
  });
}

interface Seen {
  ts: number;
  origLen: number;
  bytes: string;
}
const seen = (out: Seen[]) => (f: Frame) => out.push({ ts: frameTimeMs(f), origLen: f.origLen, bytes: f.data.toString('hex') });

/** Children of `pid` from /proc (any state but zombie). */
function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(f[1]) === pid && f[0] !== 'Z') out.push(Number(e));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

describe('the hand-over stream', () => {
  it('gives every record back, in order, however the pipe cuts it', () => {
    const batches: Buffer[] = [];
    const w = new handover.BatchWriter(4096, (b) => batches.push(Buffer.from(b)));
    const sent: { sec: number; ns: number; len: number; orig: number }[] = [];
    for (let i = 0; i < 300; i++) {
      // some whole 64 KiB frames, and some beyond the largest snap length
      const len = i % 100 === 98 ? SNAPLEN : i % 100 === 99 ? 70_000 : (i * 37) % 700;
      const data = Buffer.alloc(len, i & 0xff);
      w.frame(1000 + i, (i * 1000) % 1e9, data, len, len + 14);
      sent.push({ sec: 1000 + i, ns: (i * 1000) % 1e9, len: Math.min(len, SNAPLEN), orig: len + 14 });
      if (i % 50 === 0) w.control(handover.Rec.BEAT, 1000 + i, 0, i);
      if (i === 150) w.control(handover.Rec.KERNEL_DROPPED, 1000 + i, 0, 42);
    }
    w.send();
    const stream = Buffer.concat(batches);
    for (const cut of [1, 7, 19, 20, 21, 513, 4096]) {
      const got: { len: number; orig: number; first: number }[] = [];
      let beats = 0;
      const drops: number[] = [];
      const sink: HandoverSink = {
        frame: (f) => got.push({ len: f.data.length, orig: f.origLen, first: f.data.length ? f.data[0] : -1 }),
        ready: () => {},
        error: () => {},
        lost: () => {},
        kernelDropped: (n) => drops.push(n),
        beat: () => beats++,
      };
      const r = new handover.RecordReader(1, sink);
      for (let o = 0; o < stream.length; o += cut) r.push(stream.subarray(o, o + cut));
      expect(r.broken).toBeNull();
      expect(beats).toBe(6);
      expect(drops).toEqual([42]);
      expect(got).toEqual(sent.map((s, i) => ({ len: s.len, orig: s.orig, first: s.len ? i & 0xff : -1 })));
    }
  });

  it('stops at a stream that breaks the format', () => {
    const r = new handover.RecordReader(1, { frame: () => {}, ready: () => {}, error: () => {}, lost: () => {}, kernelDropped: () => {}, beat: () => {} });
    r.push(Buffer.alloc(40, 0xee));
    expect(r.broken).toMatch(/malformed/);
  });
});

describe('live capture in its own process', needs(root()), () => {
  it('hands over the frames capture on this thread sees, in the same order', async () => {
    const inThread: Seen[] = [];
    const viaProcess: Seen[] = [];
    const direct = openLive({ iface: 'lo', ports: [port] }, seen(inThread));
    expect(direct.ok).toBe(true);
    const r = await lp.startLiveProcess({ iface: 'lo', ports: [port] }, { onFrame: seen(viaProcess) }, { script: SCRIPT });
    if (!r.ok) throw new Error(r.error.message);
    const cap = r.capture;
    try {
      expect(cap.status()).toMatchObject({ state: 'running', restarts: 0, faults: 0 });
      expect(cap.linkType).toBe(1);
      for (let i = 0; i < 20; i++) await exchange();
      // every packet seen by both: the same count twice in a row, 300 ms apart
      let last = -1;
      await waitFor('both captures to see every packet', async () => {
        await new Promise((r) => setTimeout(r, 300));
        const n = inThread.length;
        const same = n >= 20 * 9 && viaProcess.length === n && n === last;
        last = n;
        return same;
      });
    } finally {
      cap.stop();
      if (direct.ok) direct.capture.stop();
    }
    await cap.stopped;
    expect(viaProcess.map((s) => [s.origLen, s.bytes])).toEqual(inThread.map((s) => [s.origLen, s.bytes]));
    for (let i = 1; i < viaProcess.length; i++) expect(viaProcess[i].ts).toBeGreaterThanOrEqual(viaProcess[i - 1].ts);
    // stamped on the same clock, each a little after the other (both read it on arrival)
    for (let i = 0; i < viaProcess.length; i++) expect(Math.abs(viaProcess[i].ts - inThread[i].ts)).toBeLessThan(1000);
    expect(cap.status().state).toBe('stopped');
  }, 60_000);

  it('reports a capture process killed with SIGKILL, restarts it and keeps the hole', async () => {
    const frames: Seen[] = [];
    const holes: [CaptureHole, CaptureFault | null][] = [];
    const r = await lp.startLiveProcess(
      { iface: 'lo', ports: [port] },
      { onFrame: seen(frames), onHole: (h, f) => holes.push([{ ...h }, f]) },
      { script: SCRIPT, backoffMs: 50 },
    );
    if (!r.ok) throw new Error(r.error.message);
    const cap: SupervisedCapture = r.capture;
    try {
      await exchange();
      await waitFor('the first connection', () => frames.length >= 9);
      const first = cap.status().pid!;
      expect(alive(first)).toBe(true);
      process.kill(first, 'SIGKILL');
      await waitFor('the restart', () => cap.status().restarts === 1 && cap.status().state === 'running');
      const s = cap.status();
      expect(s.pid).not.toBe(first);
      expect(alive(s.pid!)).toBe(true);
      expect(s.faults).toBe(1);
      expect(s.lastFault).toMatchObject({ kind: 'exited', message: 'the capture process was killed by SIGKILL' });
      expect(s.holesTotal).toBe(1);
      expect(s.holes[0].toMs).toBeGreaterThan(s.holes[0].fromMs);
      // reported when it opened and when it closed
      expect(holes.map(([h, f]) => [h.kind, h.toMs === null, f?.kind ?? null])).toEqual([
        ['exited', true, 'exited'],
        ['exited', false, null],
      ]);
      const before = frames.length;
      await exchange();
      await waitFor('a connection after the restart', () => frames.length >= before + 9);
      expect(alive(first)).toBe(false);
    } finally {
      cap.stop();
    }
    await cap.stopped;
  }, 60_000);

  it('runs at nice -10, or at SCHED_FIFO 1 when TCPSCOPE_CAPTURE_RT=1 and chrt can set it', async () => {
    const sched = (pid: number) => {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // fields 19 (nice), 40 (rt_priority) and 41 (policy) of proc(5), counted from 1
      return { nice: Number(f[16]), rtPriority: Number(f[37]), policy: Number(f[38]) };
    };
    const run = async (rt: string | undefined) => {
      const before = process.env.TCPSCOPE_CAPTURE_RT;
      if (rt === undefined) delete process.env.TCPSCOPE_CAPTURE_RT;
      else process.env.TCPSCOPE_CAPTURE_RT = rt;
      try {
        const r = await lp.startLiveProcess({ iface: 'lo', ports: [port] }, { onFrame: () => {} }, { script: SCRIPT });
        if (!r.ok) throw new Error(r.error.message);
        const s = sched(r.capture.status().pid!);
        r.capture.stop();
        await r.capture.stopped;
        return s;
      } finally {
        if (before === undefined) delete process.env.TCPSCOPE_CAPTURE_RT;
        else process.env.TCPSCOPE_CAPTURE_RT = before;
      }
    };
    expect(await run(undefined)).toEqual({ nice: -10, rtPriority: 0, policy: 0 });
    const chrt = ['/usr/bin/chrt', '/bin/chrt'].some((p) => existsSync(p));
    expect(await run('1')).toMatchObject(chrt ? { rtPriority: 1, policy: 1 } : { nice: -10, policy: 0 });
  }, 60_000);

  it('reports a stalled capture process, and its recovery', async () => {
    const holes: [CaptureHole, CaptureFault | null][] = [];
    const r = await lp.startLiveProcess(
      { iface: 'lo', ports: [port] },
      { onFrame: () => {}, onHole: (h, f) => holes.push([{ ...h }, f]) },
      { script: SCRIPT, stallMs: 600, killAfterMs: 60_000 },
    );
    if (!r.ok) throw new Error(r.error.message);
    const cap = r.capture;
    try {
      const pid = cap.status().pid!;
      process.kill(pid, 'SIGSTOP');
      await waitFor('the stall to be noticed', () => cap.status().state === 'stalled');
      expect(cap.status().lastFault?.kind).toBe('stalled');
      process.kill(pid, 'SIGCONT');
      await waitFor('the recovery', () => cap.status().state === 'running');
      expect(cap.status()).toMatchObject({ restarts: 0, pid });
      expect(holes.map(([h, f]) => [h.kind, h.toMs === null, f?.kind ?? null])).toEqual([
        ['stalled', true, 'stalled'],
        ['stalled', false, null],
      ]);
    } finally {
      cap.stop();
    }
    await cap.stopped;
  }, 60_000);

  it("reports the packets the kernel dropped when its ring was full, as a hole", async () => {
    // 64 KiB holds some 100 packets of 512 bytes; 40 connections while the capture process is stopped overflow it
    const holes: [CaptureHole, CaptureFault | null][] = [];
    const frames: Seen[] = [];
    const r = await lp.startLiveProcess(
      { iface: 'lo', ports: [port], bufferSize: 1 << 16 },
      { onFrame: seen(frames), onHole: (h, f) => holes.push([{ ...h }, f]) },
      { script: SCRIPT, stallMs: 60_000 },
    );
    if (!r.ok) throw new Error(r.error.message);
    const cap = r.capture;
    try {
      expect(cap.snapLength).toBe(512);
      const pid = cap.status().pid!;
      process.kill(pid, 'SIGSTOP');
      for (let i = 0; i < 40; i++) await exchange();
      process.kill(pid, 'SIGCONT');
      await waitFor('the drops to be reported', () => cap.status().kernelDropped > 0);
      const s = cap.status();
      expect(s).toMatchObject({ state: 'running', faults: 1, holesTotal: 1, lastFault: { kind: 'kernel-dropped' } });
      expect(cap.stats().dropped).toBe(s.kernelDropped);
      expect(holes[0][0]).toMatchObject({ kind: 'kernel-dropped', frames: s.kernelDropped });
      expect(holes[0][1]?.message).toBe(`the kernel dropped ${s.kernelDropped} packets: its capture ring was full`);
      // the capture process was stopped before the first packet: what it read and what the kernel dropped is every packet
      expect(frames.length + s.kernelDropped).toBeGreaterThanOrEqual(40 * 5);
    } finally {
      cap.stop();
    }
    await cap.stopped;
  }, 60_000);

  it('keeps the error codes of opening the capture', async () => {
    const bad = await lp.startLiveProcess({ iface: 'lo', filter: 'port nonsense' }, { onFrame: () => {} }, { script: SCRIPT });
    expect(bad).toMatchObject({ ok: false, error: { code: 'bad-filter' } });
    const none = await lp.startLiveProcess({ iface: 'nosuch0' }, { onFrame: () => {} }, { script: SCRIPT });
    expect(none).toMatchObject({ ok: false, error: { code: 'unknown-interface' } });
    for (const r of [bad, none]) if (!r.ok) expect(LIVE_ERROR_CODES).toContain(r.error.code);
  }, 60_000);
});

/** A process's command line, '' once it has gone. */
function cmdlineOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return '';
  }
}

describe('stopping the CLI leaves no capture process behind', needs(root()), () => {
  /** Starts `tcpscope live` and resolves with its pid and its capture process's pid. */
  async function start(): Promise<{ cli: ReturnType<typeof spawn>; capturePid: number; exited: Promise<unknown> }> {
    const cli = spawn(process.execPath, [BIN, 'live', '-p', String(port), '--no-server'], { cwd: REPO, stdio: ['ignore', 'ignore', 'pipe'] });
    const exited = new Promise((r) => cli.on('close', r));
    let err = '';
    cli.stderr!.on('data', (d) => (err += d));
    await waitFor(`tcpscope live to capture (${err})`, () => err.includes('capturing on'), 20_000);
    // (the CLI's other children, the socket tables' short `ss` runs, come and go)
    const kids = childrenOf(cli.pid!).filter((k) => cmdlineOf(k).includes('live-process-main.js'));
    expect(kids).toHaveLength(1);
    return { cli, capturePid: kids[0], exited };
  }

  for (const sig of ['SIGINT', 'SIGTERM', 'SIGKILL'] as const) {
    it(`after ${sig} to the CLI`, async () => {
      const { cli, capturePid, exited } = await start();
      cli.kill(sig);
      await exited;
      await waitFor(`capture process ${capturePid} to end`, () => !alive(capturePid));
      expect(existsSync(`/proc/${capturePid}`) && alive(capturePid)).toBe(false);
    }, 60_000);
  }
});
