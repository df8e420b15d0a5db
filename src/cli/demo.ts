import { DemoTraffic, type CaseRun } from '../demo/traffic';
import type { ConnectionView } from '../track/connection';
import { EXIT_OK } from './errors';
import { liveSource, LiveTimers, openCapture, stopCapture } from './live';
import type { CommonOptions, ServeOptions } from './options';
import { createSession, note, resolveToken, startServer, untilSignal } from './session';
import { watchSockets } from './sockets';

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
  const watched = traffic.allPorts();

  // timers on packet time, as in `live`
  const timers = new LiveTimers(session.engine);
  let capture;
  try {
    capture = await openCapture({ iface: 'lo', filter: demoFilter(traffic) }, session, timers.wrap(session.engine.onFrame));
  } catch (e) {
    await traffic.stop();
    throw e;
  }
  // The kernel's side too, as `live` shows it: owners in the process column, the demo's listeners,
  // the diagnoses.
  const sockets = watchSockets(session, watched);
  let server;
  try {
    const cases = traffic.cases.map(({ name, title, says, port }) => ({ name, title, says, port }));
    server = await startServer(session, o, () => ({ ...liveSource(capture, true), demoCases: cases }), token, { sockets: sockets.source });
  } catch (e) {
    await stopCapture(capture);
    await sockets.watch.close();
    await traffic.stop();
    throw e;
  }
  timers.start();

  const url = token ? `${server.url}?token=${encodeURIComponent(token)}` : server.url;
  process.stdout.write(
    `tcpscope demo: open ${url}\n` +
      `  loopback traffic every ${o.every} s on ports ${watched.join(', ')}: client-first and server-first closes, a half-close,\n` +
      `  a reset, a refused attempt, a simultaneous close${ports.v6 !== null ? ' and IPv6 on ::1' : ''} — captured live on lo\n` +
      `  each case has a server port of its own: pick it under "Demo" above the table, open a connection and tick "Learn"\n` +
      `  try: curl -s ${token ? "-H 'Authorization: Bearer ...' " : ''}${server.url}api/stats    Ctrl-C to stop\n`,
  );
  traffic.onCase = (run) => narrate(run, traffic.rounds, session.engine.tracker.list(), url);
  traffic.loop(o.every * 1000);

  await untilSignal();
  note('demo stopping');
  timers.stop();
  await traffic.stop();
  await stopCapture(capture);
  await sockets.watch.close();
  await server.close();
  return EXIT_OK;
}

/** The connection a case just made: its client port when known, else the newest one to its server port. */
function connectionOf(run: CaseRun, all: ConnectionView[]): ConnectionView | undefined {
  let best: ConnectionView | undefined;
  for (const c of all) {
    if (c.server.port !== run.case.port) continue;
    if (run.clientPort !== null && c.client.port !== run.clientPort) continue;
    if (!best || c.startedAt >= best.startedAt) best = c;
  }
  return best;
}

/**
 * Says on stdout which case just ran, with a link that opens its ladder; the first round also says
 * what to look for. For the simultaneous close, returns whether the FINs crossed on the wire.
 */
function narrate(run: CaseRun, round: number, all: ConnectionView[], url: string): boolean {
  const c = connectionOf(run, all);
  const link = c ? `${url}#conn=${encodeURIComponent(c.id)}` : '(not captured yet)';
  const name = run.case.title.padEnd(19);
  const ends = c ? `${endpointText(c.client)} → ${endpointText(c.server)}` : `→ ${run.case.host}:${run.case.port}`;
  let line = `round ${round + 1} · ${name} ${ends}  ${link}\n`;
  let crossed = true;
  if (run.case.name === 'simultaneous-close') {
    crossed = c?.closedBy === 'both';
    const verdict = crossed
      ? 'the FINs crossed: both ends went FIN_WAIT_1 → CLOSING → TIME_WAIT'
      : `the FINs did not cross (try ${run.attempt}): one arrived before the other end had sent its own, an ordinary close`;
    line = `round ${round + 1} · ${name} ${ends}  ${verdict}  ${link}\n`;
  }
  if (round === 0 && run.attempt === 1) line += `    ${run.case.says}\n`;
  process.stdout.write(line);
  return crossed;
}

function endpointText(e: { ip: string; port: number }): string {
  return e.ip.includes(':') ? `[${e.ip}]:${e.port}` : `${e.ip}:${e.port}`;
}

/**
 * The capture filter: each case's server address and port together, and the same address at the
 * other end too (the demo's clients connect from the address they connect to), so that another
 * program's connection that happens to use one of those port numbers on another address stays out,
 * and so do packets from other loopback addresses (127.0.0.9, say) sent to one of the demo's ports.
 */
function demoFilter(traffic: DemoTraffic): string {
  const byHost = new Map<string, number[]>();
  for (const c of traffic.cases) byHost.set(c.host, [...(byHost.get(c.host) ?? []), c.port]);
  const parts: string[] = [];
  for (const [host, ports] of byHost) {
    parts.push(`(src host ${host} and dst host ${host} and (${ports.map((p) => `port ${p}`).join(' or ')}))`);
  }
  return parts.join(' or ');
}
