import { captureClockMs, listInterfaces, openLive, SNAPLEN, WATCH_SNAPLEN, type LiveCapture, type LiveOptions } from '../capture/live';
import { captureProcessAvailable, type CaptureFault, type CaptureHole, startLiveProcess, type SupervisedCapture } from '../capture/live-process';
import type { Frame } from '../capture/frame';
import type { Engine } from '../ingest/engine';
import { OwnerCommentWriter } from './capture-file';
import type { LiveSourceInfo } from '../capture/source';
import type { RunningServer } from '../server/listen';
import { CliError, EXIT_OK, liveErrorMessage } from './errors';
import { diagnoseThresholds, type CommonOptions, type ServeOptions } from './options';
import { FollowingCapture, resolveProcessPorts } from './follow';
import { watchSockets } from './sockets';
import { createSession, note, resolveToken, startServer, untilSignal, writeJsonLines } from './session';

export interface LiveCommandOptions extends CommonOptions, ServeOptions {
  iface: string;
  ports: number[];
  hosts: string[];
  filter?: string;
  /** Kernel capture buffer in bytes; openLive's default when absent. */
  bufferSize?: number;
  /** Bytes of each packet kept (--snaplen); when absent, WATCH_SNAPLEN, or whole packets when writing a file. */
  snapLength?: number;
  jsonl: boolean;
  /** Read the machine's socket tables: owners, listeners, kernel cross-check. */
  sockets?: boolean;
  /** Seconds in CLOSE_WAIT after which an endpoint is diagnosed as held. */
  closeWaitAfter?: number;
  /** Half-open connections to one port that make a SYN flood. */
  synFlood?: number;
  /** Share of the ephemeral port range in TIME_WAIT that makes a pile-up. */
  timeWaitPileup?: number;
  /** Capture the ports of these processes' sockets (--pid, --command), following new listening ports. */
  pids?: number[];
  commands?: string[];
  /** Write what is captured to this pcapng file, with the owners of its endpoints as packet comments. */
  write?: string;
}


/**
 * The tracker's timers in live mode. Their events carry the time they were due (a TIME_WAIT's end),
 * so the wait until they are run is latency on the stream: advancing them every 250 ms of wall
 * time was the largest part of the stream's p99 (BENCHMARKS.md, "Timers on packet time").
 *
 * While frames arrive, timers advance on their time, every EVERY_MS of it, to LAG_MS behind the
 * newest frame: every frame up to then has been tracked, so nothing still on its way from the
 * capture can be overtaken, and a FIN whose receiver has not spoken is taken as received only
 * after LAG_MS of silence. When no frame came in a whole tick (EVERY_MS of wall time), they advance
 * on the capture clock (the clock frames are stamped on), LAG_MS behind it likewise; that tick is
 * restarted whenever frames advance the timers, so it runs only once they stop. Once the capture
 * clock is LAG_MS past the newest frame (every FIN awaiting reception settled), the next tick is
 * set for the tracker's next due timer (Tracker.nextDue), or none while no timer runs: a quiet
 * capture no longer wakes the process 40 times a second.
 */
export class LiveTimers {
  static readonly EVERY_MS = 25;
  static readonly LAG_MS = 50;
  private next = -Infinity;
  private framesAtTick = -1;
  private timer: NodeJS.Timeout | null = null;
  /** The wait the timer was set for: EVERY_MS while frames may come, longer once all is quiet. */
  private waitMs = 0;
  private running = false;

  constructor(private readonly engine: Engine) {}

  /** `onFrame`, then the timers when EVERY_MS of packet time has passed since they last ran. */
  wrap(onFrame: (f: Frame) => void): (f: Frame) => void {
    const engine = this.engine;
    return (f) => {
      onFrame(f);
      const ts = engine.lastTs;
      if (ts < this.next) return;
      this.next = ts + LiveTimers.EVERY_MS;
      engine.tracker.expire(ts - LiveTimers.LAG_MS);
      // Frames keep the timers going: the wall-clock tick, needed only once they stop, is pushed
      // back, so that it does not wake the process 40 times a second for nothing while they flow.
      if (this.timer !== null && this.waitMs === LiveTimers.EVERY_MS) this.timer.refresh();
      else this.arm(LiveTimers.EVERY_MS);
    };
  }

  /** The wait the wall-clock tick is set for (ms), or null when none is set. */
  get armedMs(): number | null {
    return this.timer === null ? null : this.waitMs;
  }

  start(): void {
    this.running = true;
    this.arm(LiveTimers.EVERY_MS);
  }

  stop(): void {
    this.running = false;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  private arm(ms: number): void {
    if (!this.running) return;
    if (this.timer !== null) clearTimeout(this.timer);
    this.waitMs = ms;
    this.timer = setTimeout(() => this.tick(), ms);
  }

  private tick(): void {
    this.timer = null;
    const engine = this.engine;
    const frames = engine.frames;
    const flowing = frames !== this.framesAtTick;
    this.framesAtTick = frames;
    if (flowing) return this.arm(LiveTimers.EVERY_MS);
    const now = captureClockMs();
    engine.tracker.expire(now - LiveTimers.LAG_MS);
    // FINs awaiting reception are due at their packets' times, none later than the newest frame
    if (now - LiveTimers.LAG_MS <= engine.lastTs) return this.arm(LiveTimers.EVERY_MS);
    const due = engine.tracker.nextDue();
    if (due === Infinity) return; // nothing to wake for until frames come
    // at most a day: setTimeout's limit is some 24 days, and a wait this long is idle anyway
    this.arm(Math.min(86_400_000, Math.max(LiveTimers.EVERY_MS, Math.ceil(due + LiveTimers.LAG_MS - now))));
  }
}

/**
 * TCPSCOPE_CAPTURE=in-process captures on the main thread as before the capture process existed
 * (to compare the two: bench/load.mjs). The capture process is the default.
 */
function inProcessWanted(): boolean {
  return process.env.TCPSCOPE_CAPTURE === 'in-process' || !captureProcessAvailable();
}

/**
 * Opens live capture feeding `session`: in a capture process of its own, whose faults are printed
 * and flag the connections open across them, or on this thread (inProcessWanted). Throws the
 * one-line CliError of a capture that cannot open.
 */
export async function openCapture(given: LiveOptions, session: { engine: Engine }, onFrame = session.engine.onFrame): Promise<LiveCapture | SupervisedCapture> {
  const opts = { ...given, snapLength: given.snapLength ?? WATCH_SNAPLEN };
  const iface = opts.iface ?? 'lo';
  if (inProcessWanted()) {
    const opened = openLive(opts, onFrame);
    if (!opened.ok) throw new CliError(liveErrorMessage(iface, opened.error, listInterfaces));
    return opened.capture;
  }
  const tracker = session.engine.tracker;
  const onHole = (hole: CaptureHole, fault: CaptureFault | null) => {
    // Connections open on either edge of the hole may have lost packets in it.
    const flagged = tracker.markCaptureGap();
    if (fault) note(`capture fault: ${fault.message} — ${holeAdvice(hole, fault)}; ${flagged} open connections flagged (captureGap)`);
    else note(`capturing again after a hole of ${((hole.toMs! - hole.fromMs) / 1000).toFixed(2)} s; ${flagged} open connections flagged (captureGap)`);
  };
  const opened = await startLiveProcess(opts, { onFrame, onHole });
  if (!opened.ok) throw new CliError(liveErrorMessage(iface, opened.error, listInterfaces));
  return opened.capture;
}

/** Stops the capture and, for a capture process, waits until it has exited. */
export async function stopCapture(capture: LiveCapture | SupervisedCapture): Promise<void> {
  capture.stop();
  if ('stopped' in capture) await capture.stopped;
}

export async function runLive(o: LiveCommandOptions): Promise<number> {
  const token = resolveToken(o);
  const session = createSession(o);
  if (o.jsonl) writeJsonLines(session.bus);

  const sel = { pids: o.pids ?? [], commands: o.commands ?? [] };
  const following = sel.pids.length + sel.commands.length > 0;
  let ports = o.ports;
  if (following) {
    const r = resolveProcessPorts(sel);
    if (!r.ok) throw new CliError(r.message);
    ports = [...new Set([...o.ports, ...r.ports])].sort((a, b) => a - b);
    note(`following ${r.names}: ports ${ports.join(', ')}`);
  }
  // Watching needs the headers only; a file written with -w keeps whole packets unless told otherwise, as tcpdump -w does.
  const liveOpts = { iface: o.iface, ports, hosts: o.hosts, filter: o.filter, bufferSize: o.bufferSize, snapLength: o.snapLength ?? (o.write ? SNAPLEN : WATCH_SNAPLEN) };
  const file = o.write ? OwnerCommentWriter.open(o.write, o.iface, o.filter ?? null, session.engine.tracker) : null;
  const engineFrame = session.engine.onFrame;
  const timers = new LiveTimers(session.engine);
  const onFrame = timers.wrap(
    file
      ? (f: Frame) => {
          engineFrame(f);
          file.onFrame(f);
        }
      : engineFrame,
  );
  // Following a process re-opens the capture with each new port, which the capture process
  // cannot do in place yet: that capture stays on this thread.
  let capture: LiveCapture | SupervisedCapture;
  if (following) {
    const opened = FollowingCapture.open(liveOpts, onFrame, sel, (added) => note(`now also capturing port ${added.join(', ')}`));
    if (!opened.ok) throw new CliError(liveErrorMessage(o.iface, opened.error, listInterfaces));
    capture = opened.capture;
  } else {
    capture = await openCapture(liveOpts, session, onFrame);
  }

  const sockets = o.sockets === false ? null : watchSockets(session, ports, diagnoseThresholds(o), following);
  if (sockets && capture instanceof FollowingCapture) sockets.watch.onScan((ix) => capture.follow(ix));
  let server: RunningServer | null = null;
  try {
    if (o.server) server = await startServer(session, o, () => liveSource(capture), token, sockets ? { sockets: sockets.source } : {});
  } catch (e) {
    await stopCapture(capture);
    await sockets?.watch.close();
    file?.close();
    throw e;
  }
  // The capture clock, not Date.now(): packet stamps come from it, so a stepped wall clock cannot
  // expire TIME_WAIT early or late.
  timers.start();
  note(`capturing on ${capture.iface} (filter: ${capture.filter})${server ? `; serving ${server.url} (dashboard, /api, /ws)` : ''} — Ctrl-C to stop`);

  await untilSignal();
  timers.stop();
  await stopCapture(capture);
  if (file) {
    file.close();
    note(`wrote ${file.writer.packets} packets to ${o.write} (${file.commented} with their process in a comment)`);
  }
  await sockets?.watch.close();
  await server?.close();
  return EXIT_OK;
}

function holeAdvice(hole: CaptureHole, fault: CaptureFault): string {
  switch (fault.kind) {
    case 'overrun':
      return `${hole.frames} packets lost`;
    case 'kernel-dropped':
      return 'the capture process was held up longer than the ring lasts; a larger --buffer or a smaller --snaplen holds more';
    case 'stalled':
      return 'packets are being lost until it answers (it is restarted if it does not)';
    default:
      return 'restarting it; packets until then are lost';
  }
}

export function liveSource(capture: LiveCapture | SupervisedCapture, demo = false): LiveSourceInfo {
  const s = capture.stats();
  return {
    kind: 'live',
    iface: capture.iface,
    filter: capture.filter,
    linkType: capture.linkType,
    frames: s.frames,
    bytes: s.bytes,
    dropped: s.dropped,
    bufferSize: capture.bufferSize,
    snapLength: capture.snapLength,
    ...('status' in capture ? { captureProcess: capture.status() } : {}),
    ...(demo ? { demo: true } : {}),
  };
}
