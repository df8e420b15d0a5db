import type { RunningServer } from '../server/listen';
import { EXIT_FAILURE, EXIT_OK, fileErrorMessage } from './errors';
import { playFile } from './file-driver';
import type { CommonOptions, ReadThreadMode, ServeOptions, Speed } from './options';
import { fileProgress } from './progress';
import { createSession, note, resolveToken, startServer, untilSignal, writeJsonLines } from './session';

/** Longest stretch of tracking between two turns of the event loop while serving (see playFile). */
const REPLAY_SLICE_MS = 8;

export interface ReplayCommandOptions extends CommonOptions, ServeOptions {
  file: string;
  speed: Speed;
  exit: boolean;
  jsonl: boolean;
  readThread?: ReadThreadMode;
}

export async function runReplay(o: ReplayCommandOptions): Promise<number> {
  const token = resolveToken(o);
  const session = createSession(o);
  if (o.jsonl) writeJsonLines(session.bus);
  const abort = new AbortController();
  const progress = fileProgress('replay');
  // Tracking yields every few milliseconds so the API and the stream keep answering during a fast replay.
  const run = playFile(session.engine, o.file, o.speed, {
    onProgress: progress.update,
    signal: abort.signal,
    readThread: o.readThread,
    yieldEveryMs: o.server ? REPLAY_SLICE_MS : undefined,
  });

  let server: RunningServer | null = null;
  try {
    if (o.server) server = await startServer(session, o, () => run.source, token);
  } catch (e) {
    abort.abort();
    await run.done;
    progress.stop();
    throw e;
  }
  if (server) note(`replaying ${o.file === '-' ? 'standard input' : o.file} (speed ${run.source.speed}); serving ${server.url} (dashboard, /api, /ws)`);

  const signal = untilSignal();
  const ended = await Promise.race([run.done.then((r) => ({ r })), signal.then(() => null)]);
  progress.stop();
  if (ended === null) {
    abort.abort();
    await server?.close();
    return EXIT_OK;
  }
  const { r } = ended;
  const stats = session.engine.tracker.stats();
  const failed = r.error !== null;
  if (failed) process.stderr.write(`tcpscope: ${fileErrorMessage(o.file, r.error!, r.frames)}\n`);
  else if (r.frames === 0) note(`${o.file} holds no packets`);
  const summary = `${r.frames} packets, ${stats.connectionsTotal} connections (${stats.open} open)`;
  // Nothing could be read at all (missing file, not a capture): there is nothing to serve.
  if (o.exit || !server || (failed && r.frames === 0)) {
    // A failure is said in its one line; the summary is for runs that went well.
    if (!failed) note(`replay finished: ${summary}`);
    await server?.close();
    return failed ? EXIT_FAILURE : EXIT_OK;
  }
  note(`replay ${failed ? 'stopped' : 'finished'}: ${summary}; still serving ${server.url} — Ctrl-C to quit`);
  await signal;
  await server.close();
  return failed ? EXIT_FAILURE : EXIT_OK;
}
