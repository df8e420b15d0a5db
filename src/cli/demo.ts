import { captureClockMs } from '../capture/live';
import { DemoTraffic } from '../demo/traffic';
import { EXIT_OK } from './errors';
import { liveSource, LIVE_EXPIRE_EVERY_MS, openCapture, stopCapture } from './live';
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

  let capture;
  try {
    capture = await openCapture({ iface: 'lo', ports: watched }, session);
  } catch (e) {
    await traffic.stop();
    throw e;
  }
  let server;
  try {
    server = await startServer(session, o, () => liveSource(capture, true), token);
  } catch (e) {
    await stopCapture(capture);
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
  await stopCapture(capture);
  await server.close();
  return EXIT_OK;
}
