import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import type { LiveError } from './errors';
import type { Frame } from './frame';
import { type HandoverSink, type ReadyInfo, RecordReader } from './handover';
import type { LiveCapture, LiveOptions, LiveStats } from './live';
import { captureClockMs } from './live-clock';

/**
 * Live capture in a process of its own (live-process-main.ts), supervised from here. The capture
 * process only drains libpcap's ring, so the ring is emptied whatever this process is doing
 * (tracking, REST queries, WebSocket writes, GC). Frames come back over a pipe in capture order
 * and are stamped on this process's live clock, exactly as in-process capture stamps them.
 *
 * A capture process that exits or stops answering is a fault: it is reported at once, restarted
 * with back-off, and the interval without capture is kept as a hole (CaptureHole) so that the
 * connections open across it can be flagged.
 */

export const CAPTURE_PROCESS_SCRIPT = path.join(__dirname, 'live-process-main.js');

/** The capture process runs compiled code: present when running from dist/, as the CLI does. */
export function captureProcessAvailable(script = CAPTURE_PROCESS_SCRIPT): boolean {
  return existsSync(script);
}

/** Why capture stopped for a while. Each name is declared here once. */
export const FAULT_KINDS = ['exited', 'stalled', 'overrun', 'kernel-dropped', 'restart-failed'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/** An interval (capture clock, epoch ms) in which packets were not captured or not handed over. */
export interface CaptureHole {
  fromMs: number;
  /** null while the hole is still open. */
  toMs: number | null;
  kind: FaultKind;
  /** Frames known to be lost (overrun: dropped on the way; kernel-dropped: by the kernel; otherwise unknown, null). */
  frames: number | null;
}

export interface CaptureFault {
  kind: FaultKind;
  atMs: number;
  message: string;
}

export type CaptureProcessState = 'running' | 'stalled' | 'restarting' | 'stopped';

export interface CaptureProcessStatus {
  pid: number | null;
  state: CaptureProcessState;
  /** Capture processes started after the first. */
  restarts: number;
  faults: number;
  lastFault: CaptureFault | null;
  /** Frames the capture process read but had to drop because this process fell too far behind. */
  handoverLost: number;
  /** Packets the kernel dropped because its ring was full (libpcap's ps_drop, over every capture process). */
  kernelDropped: number;
  holesTotal: number;
  /** The most recent holes, oldest first (at most MAX_HOLES_KEPT). */
  holes: CaptureHole[];
  /** Reads from the hand-over pipe and the bytes they brought, over every capture process. */
  handover: { reads: number; bytes: number };
}

export interface SupervisedCapture extends LiveCapture {
  status(): CaptureProcessStatus;
  /** Resolves once the capture process has exited after stop(). */
  readonly stopped: Promise<void>;
}

export interface SupervisorHandlers {
  onFrame(f: Frame): void;
  /** A fault began (a hole opened) or, with `hole.toMs` set, capture resumed and the hole closed. */
  onHole?(hole: CaptureHole, fault: CaptureFault | null): void;
}

export interface SupervisorOptions {
  script?: string;
  /** No record for this long while this process keeps time: the capture process is stalled. */
  stallMs?: number;
  /** Stalled for this long: it is killed and restarted. */
  killAfterMs?: number;
  /** First restart delay; doubles per consecutive fault up to maxBackoffMs. */
  backoffMs?: number;
  maxBackoffMs?: number;
}

const MAX_HOLES_KEPT = 20;
const WATCH_EVERY_MS = 250;
/** A capture process that ran this long without a fault starts the back-off afresh. */
const STABLE_AFTER_MS = 30_000;
const STDERR_TAIL = 2000;

type StartResult = { ok: true; child: ChildProcess; info: ReadyInfo } | { ok: false; error: LiveError; child: ChildProcess | null };

/**
 * Starts the capture process and resolves once it captures (or with the error that kept it from
 * opening the capture: the same codes and messages as openLive).
 */
export async function startLiveProcess(
  live: LiveOptions,
  handlers: SupervisorHandlers,
  sopts: SupervisorOptions = {},
): Promise<{ ok: true; capture: SupervisedCapture } | { ok: false; error: LiveError }> {
  const script = sopts.script ?? CAPTURE_PROCESS_SCRIPT;
  const stallMs = sopts.stallMs ?? 2000;
  const killAfterMs = sopts.killAfterMs ?? 8000;
  const backoffMs = sopts.backoffMs ?? 200;
  const maxBackoffMs = sopts.maxBackoffMs ?? 10_000;
  const { hrtimeStamps: _ignored, ...childOpts } = live;
  void _ignored;

  const counters = { frames: 0, bytes: 0 };
  const status: CaptureProcessStatus = {
    pid: null,
    state: 'running',
    restarts: 0,
    faults: 0,
    lastFault: null,
    handoverLost: 0,
    kernelDropped: 0,
    holesTotal: 0,
    holes: [],
    handover: { reads: 0, bytes: 0 },
  };
  let openHole: CaptureHole | null = null;
  let lastData = performance.now();
  let startedAt = performance.now();
  let consecutive = 0;
  let stopping = false;
  let current: ChildProcess | null = null;
  let restartTimer: NodeJS.Timeout | null = null;
  let resolveStopped: () => void = () => {};
  const stopped = new Promise<void>((r) => (resolveStopped = r));

  const beginHole = (kind: FaultKind, fromMs: number, message: string, frames: number | null = null): CaptureHole => {
    const fault: CaptureFault = { kind, atMs: captureClockMs(), message };
    status.faults++;
    status.lastFault = fault;
    const hole: CaptureHole = { fromMs, toMs: null, kind, frames };
    status.holesTotal++;
    status.holes.push(hole);
    if (status.holes.length > MAX_HOLES_KEPT) status.holes.shift();
    handlers.onHole?.(hole, fault);
    return hole;
  };
  const endHole = (hole: CaptureHole, toMs: number) => {
    hole.toMs = toMs;
    handlers.onHole?.(hole, null);
  };

  const sink: HandoverSink = {
    frame(f) {
      counters.frames++;
      counters.bytes += f.origLen;
      handlers.onFrame(f);
    },
    ready() {},
    error() {},
    lost(count, fromMs) {
      status.handoverLost += count;
      const hole = beginHole('overrun', fromMs, `${count} captured packets were dropped on the way from the capture process: tcpscope fell behind`, count);
      endHole(hole, captureClockMs());
    },
    kernelDropped(count, fromMs) {
      status.kernelDropped += count;
      const hole = beginHole('kernel-dropped', fromMs, `the kernel dropped ${count} packets: its capture ring was full`, count);
      endHole(hole, captureClockMs());
    },
    beat() {},
  };

  const first = await spawnCapture(script, childOpts, sink);
  if (!first.ok) {
    first.child?.kill('SIGKILL');
    return { ok: false, error: first.error };
  }
  const info = first.info;

  const onExit = () => current?.kill('SIGKILL');
  process.on('exit', onExit);

  const adopt = (child: ChildProcess) => {
    current = child;
    status.pid = child.pid ?? null;
    status.state = 'running';
    startedAt = lastData = performance.now();
    const stderrTail = tail(child.stderr);
    (child.stdio[3] as Readable).on('data', (chunk: Buffer) => {
      status.handover.reads++;
      status.handover.bytes += chunk.length;
      lastData = performance.now();
      if (status.state === 'stalled' && current === child) {
        status.state = 'running';
        if (openHole) endHole(openHole, captureClockMs());
        openHole = null;
      }
    });
    child.once('exit', (code, signal) => {
      if (current !== child) return;
      current = null;
      status.pid = null;
      if (stopping) {
        status.state = 'stopped';
        resolveStopped();
        return;
      }
      const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
      const why = stderrTail().trim().split('\n').pop()?.trim();
      const message = `the capture process ${how}${why ? ` (${why.slice(0, 300)})` : ''}`;
      if (openHole === null) openHole = beginHole('exited', captureClockMs() - (performance.now() - lastData), message);
      else status.lastFault = { kind: 'exited', atMs: captureClockMs(), message };
      scheduleRestart();
    });
  };

  const scheduleRestart = () => {
    status.state = 'restarting';
    if (performance.now() - startedAt > STABLE_AFTER_MS) consecutive = 0;
    const delay = Math.min(maxBackoffMs, backoffMs * 2 ** consecutive);
    consecutive++;
    restartTimer = setTimeout(async () => {
      restartTimer = null;
      if (stopping) return;
      status.restarts++;
      const r = await spawnCapture(script, childOpts, sink);
      if (stopping) {
        r.child?.kill('SIGKILL');
        return;
      }
      if (!r.ok) {
        r.child?.kill('SIGKILL');
        status.faults++;
        status.lastFault = { kind: 'restart-failed', atMs: captureClockMs(), message: r.error.message };
        handlers.onHole?.(openHole!, status.lastFault);
        scheduleRestart();
        return;
      }
      adopt(r.child);
      if (openHole) endHole(openHole, captureClockMs());
      openHole = null;
    }, delay);
  };

  adopt(first.child);

  let lastTick = performance.now();
  const watch = setInterval(() => {
    const now = performance.now();
    // When this process was itself held up, the capture process's records are waiting unread:
    // that says nothing about the capture process.
    if (now - lastTick > 4 * WATCH_EVERY_MS) lastData = Math.max(lastData, now);
    lastTick = now;
    if (!current) return;
    const quiet = now - lastData;
    if (status.state === 'running' && quiet > stallMs) {
      status.state = 'stalled';
      openHole = beginHole('stalled', captureClockMs() - quiet, `the capture process has not answered for ${(quiet / 1000).toFixed(1)} s`);
    } else if (status.state === 'stalled' && quiet > killAfterMs) {
      // killed: its exit restarts it
      current.kill('SIGKILL');
    }
  }, WATCH_EVERY_MS);
  watch.unref();

  const capture: SupervisedCapture = {
    iface: info.iface,
    linkType: info.linkType,
    filter: info.filter,
    kernelFilter: info.kernelFilter,
    bufferSize: info.bufferSize,
    snapLength: info.snapLength,
    stopped,
    stop() {
      if (stopping) return;
      stopping = true;
      clearInterval(watch);
      if (restartTimer) clearTimeout(restartTimer);
      process.off('exit', onExit);
      const child = current;
      if (!child) {
        status.state = 'stopped';
        resolveStopped();
        return;
      }
      // Closing its stdin ends it; a capture process that does not go is killed.
      child.stdin?.end();
      const kill = setTimeout(() => child.kill('SIGKILL'), 1000);
      kill.unref();
      child.once('exit', () => clearTimeout(kill));
    },
    stats(): LiveStats {
      return { frames: counters.frames, bytes: counters.bytes, dropped: status.kernelDropped };
    },
    status() {
      return { ...status, lastFault: status.lastFault && { ...status.lastFault }, holes: status.holes.map((h) => ({ ...h })), handover: { ...status.handover } };
    },
  };
  return { ok: true, capture };
}

/** The last STDERR_TAIL characters a stream wrote. */
function tail(stream: Readable | null): () => string {
  let text = '';
  stream?.setEncoding('utf8');
  stream?.on('data', (d: string) => {
    text = (text + d).slice(-STDERR_TAIL);
  });
  return () => text;
}

/** Spawns one capture process and waits for its READY or ERROR record (or its exit). */
function spawnCapture(script: string, opts: LiveOptions, sink: HandoverSink): Promise<StartResult> {
  return new Promise((resolve) => {
    let child: ChildProcess;
    try {
      // with this process's node options, as fork() would: a profiled tcpscope profiles both
      child = spawn(process.execPath, [...process.execArgv, script, JSON.stringify(opts)], { stdio: ['pipe', 'ignore', 'pipe', 'pipe'] });
    } catch (e) {
      resolve({ ok: false, child: null, error: { code: 'capture-failed', message: `cannot start the capture process: ${(e as Error).message}` } });
      return;
    }
    let settled = false;
    const stderr = tail(child.stderr);
    const done = (r: StartResult) => {
      if (settled) return;
      settled = true;
      resolve(r);
    };
    // no buffered pipe may keep this process alive
    child.stdin?.on('error', () => {});
    const reader = new RecordReader(0, {
      ...sink,
      frame: (f) => settled && sink.frame(f),
      ready: (info) => {
        reader.linkType = info.linkType;
        done({ ok: true, child, info });
      },
      error: (error) => done({ ok: false, child, error }),
    });
    const out = child.stdio[3] as Readable;
    out.on('data', (chunk: Buffer) => {
      reader.push(chunk);
      if (reader.broken) {
        child.kill('SIGKILL');
        done({ ok: false, child, error: { code: 'capture-failed', message: `the capture process broke the hand-over: ${reader.broken}` } });
      }
    });
    child.once('error', (e) => done({ ok: false, child, error: { code: 'capture-failed', message: `cannot start the capture process: ${e.message}` } }));
    // 'close': after the pipes delivered everything, an ERROR record written just before exiting too
    child.once('close', (code, signal) => {
      const why = stderr().trim().split('\n').pop()?.trim();
      const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
      done({ ok: false, child, error: { code: 'capture-failed', message: `the capture process ${how} before capturing${why ? ` (${why.slice(0, 300)})` : ''}` } });
    });
  });
}
