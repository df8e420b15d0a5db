import { captureClockMs, listInterfaces, openLive } from '../capture/live';
import { DemoTraffic } from '../demo/traffic';
import { CliError, EXIT_OK, liveErrorMessage } from './errors';
import { liveSource, LIVE_EXPIRE_EVERY_MS } from './live';
import type { CommonOptions, ServeOptions } from './options';
import { createSession, note, resolveToken, startServer, untilSignal } from './session';

export interface DemoCommandOptions extends CommonOptions, ServeOptions {
  /** Seconds between rounds of demo traffic. */
  every: number;
}

/**
 * The first thing a new user runs: loopback traffic of every kind, captured live and served on the
 * dashboard. Capture needs root (or CAP_NET_RAW); without it the demo says how to get it and stops.
 */
export async function runDemo(o: DemoCommandOptions): Promise<number> {
  const token = resolveToken(o);
  const session = createSession(o);
  const traffic = new DemoTraffic();
  const ports = await traffic.start();
  const watched = [ports.v4, ports.refused, ...(ports.v6 !== null ? [ports.v6] : [])];

  const opened = openLive({ iface: 'lo', ports: watched }, session.engine.onFrame);
  if (!opened.ok) {
    await traffic.stop();
    throw new CliError(liveErrorMessage('lo', opened.error, listInterfaces));
  }
  const capture = opened.capture;
  let server;
  try {
    server = await startServer(session, o, () => liveSource(capture, true), token);
  } catch (e) {
    capture.stop();
    await traffic.stop();
    throw e;
  }
  const timer = setInterval(() => session.engine.tracker.expire(captureClockMs()), LIVE_EXPIRE_EVERY_MS);
  traffic.loop(o.every * 1000);

  const url = token ? `${server.url}?token=${encodeURIComponent(token)}` : server.url;
  process.stdout.write(
    `tcpscope demo: open ${url}\n` +
      `  loopback traffic every ${o.every} s on ports ${watched.join(', ')}: client-first and server-first closes, a half-close,\n` +
      `  a reset, a refused attempt${ports.v6 !== null ? ' and IPv6 on ::1' : ''} — captured live on lo (filter: ${capture.filter})\n` +
      `  try: curl -s ${token ? "-H 'Authorization: Bearer ...' " : ''}${server.url}api/stats    Ctrl-C to stop\n`,
  );

  await untilSignal();
  note('demo stopping');
  clearInterval(timer);
  await traffic.stop();
  capture.stop();
  await server.close();
  return EXIT_OK;
}
