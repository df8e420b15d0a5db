import { Engine } from '../ingest/engine';
import { EventBus } from '../events/bus';
import { isLoopback } from '../server/address';
import { createApp } from '../server/app';
import type { SourceInfo } from '../capture/source';
import type { ServerDeps } from '../server/deps';
import { listen, type RunningServer } from '../server/listen';
import type { TrackerOptions } from '../track/api';
import { CliError, EXIT_USAGE, listenErrorMessage } from './errors';
import type { CommonOptions, ServeOptions } from './options';
import { guardStdout } from './stdout';
import { trackerOptions } from './tracker-options';
import { VERSION } from './version';

/** The engine and the event bus every serving mode starts from, with the common options applied. */
export function createSession(common: CommonOptions, extra: Partial<TrackerOptions> = {}): { engine: Engine; bus: EventBus } {
  const engine = new Engine(trackerOptions(common, extra));
  const bus = new EventBus();
  // read in place: an event's object is built only for a listener that asks for it (--jsonl)
  engine.tracker.onEventRecord(bus.publishRecord);
  return { engine, bus };
}

/** The token from --token or TCPSCOPE_TOKEN, and the rule that off-loopback listening needs one. */
export function resolveToken(serve: ServeOptions): string | undefined {
  const token = serve.token ?? (process.env.TCPSCOPE_TOKEN || undefined);
  if (serve.server && !token && !isLoopback(serve.listen.host)) {
    throw new CliError(
      `--listen ${serve.listen.host} is reachable from other machines — protect it with --token TOKEN or TCPSCOPE_TOKEN=TOKEN (or listen on 127.0.0.1)`,
      EXIT_USAGE,
    );
  }
  return token;
}

export async function startServer(
  session: { engine: Engine; bus: EventBus },
  serve: ServeOptions,
  source: () => SourceInfo,
  token: string | undefined,
  extra: Partial<ServerDeps> = {},
): Promise<RunningServer> {
  const app = createApp({ engine: session.engine, bus: session.bus, version: VERSION, source, token, ...extra });
  const r = await listen(app, serve.listen.host, serve.listen.port);
  if (!r.ok) {
    app.locals.services.ws.close();
    throw new CliError(listenErrorMessage(serve.listen.host, serve.listen.port, r.code, r.message));
  }
  return r.running;
}

/** `--jsonl`: every event as one JSON line on stdout. */
export function writeJsonLines(bus: EventBus): void {
  guardStdout();
  bus.subscribe((_seq, e) => {
    process.stdout.write(JSON.stringify(e.event()) + '\n');
  });
}

/** Resolves on the first SIGINT or SIGTERM (Ctrl-C, docker stop). */
export function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const on = (sig: NodeJS.Signals) => {
      process.off('SIGINT', on);
      process.off('SIGTERM', on);
      resolve(sig);
    };
    process.on('SIGINT', on);
    process.on('SIGTERM', on);
  });
}

export function note(line: string): void {
  process.stderr.write(`tcpscope: ${line}\n`);
}
