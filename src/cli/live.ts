import { captureClockMs, listInterfaces, openLive, type LiveCapture } from '../capture/live';
import type { LiveSourceInfo } from '../server/deps';
import type { RunningServer } from '../server/listen';
import { CliError, EXIT_OK, liveErrorMessage } from './errors';
import type { CommonOptions, ServeOptions } from './options';
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
  jsonl: boolean;
  /** Read the machine's socket tables: owners, listeners, kernel cross-check. */
  sockets?: boolean;
  /** Seconds in CLOSE_WAIT after which an endpoint is diagnosed as held. */
  closeWaitAfter?: number;
  /** Capture the ports of these processes' sockets (--pid, --command), following new listening ports. */
  pids?: number[];
  commands?: string[];
}

/** How often timers (TIME_WAIT expiry, idle timeouts) advance in live mode: the wall clock is the only clock here. */
export const LIVE_EXPIRE_EVERY_MS = 250;

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
  const liveOpts = { iface: o.iface, ports, hosts: o.hosts, filter: o.filter, bufferSize: o.bufferSize };
  const opened = following
    ? FollowingCapture.open(liveOpts, session.engine.onFrame, sel, (added) => note(`now also capturing port ${added.join(', ')}`))
    : openLive(liveOpts, session.engine.onFrame);
  if (!opened.ok) throw new CliError(liveErrorMessage(o.iface, opened.error, listInterfaces));
  const capture = opened.capture;

  const sockets = o.sockets === false ? null : watchSockets(session, ports, o.closeWaitAfter, following);
  if (sockets && capture instanceof FollowingCapture) sockets.watch.onScan((ix) => capture.follow(ix));
  let server: RunningServer | null = null;
  try {
    if (o.server) server = await startServer(session, o, () => liveSource(capture), token, sockets ? { sockets: sockets.source } : {});
  } catch (e) {
    capture.stop();
    await sockets?.watch.close();
    throw e;
  }
  // The capture clock, not Date.now(): packet stamps come from it, so a stepped wall clock cannot
  // expire TIME_WAIT early or late.
  const timer = setInterval(() => session.engine.tracker.expire(captureClockMs()), LIVE_EXPIRE_EVERY_MS);
  note(`capturing on ${capture.iface} (filter: ${capture.filter})${server ? `; serving ${server.url} (dashboard, /api, /ws)` : ''} — Ctrl-C to stop`);

  await untilSignal();
  clearInterval(timer);
  capture.stop();
  await sockets?.watch.close();
  await server?.close();
  return EXIT_OK;
}

export function liveSource(capture: LiveCapture, demo = false): LiveSourceInfo {
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
    ...(demo ? { demo: true } : {}),
  };
}
