// The benches' helper processes, each in a process of its own so that its CPU and its clock are
// not the measured process's: the traffic generator (traffic-child.mjs) and the WebSocket client
// that reads the event stream like the dashboard (ws-observer.mjs).
import { fork } from 'node:child_process';
import path from 'node:path';
import { ROOT } from './build.mjs';

/**
 * Starts the generator; resolves once its server listens, with its port. Commands may overlap
 * (short connections beside bulk transfers): each answer is matched to its command by number.
 */
export async function startTraffic() {
  const child = fork(path.join(ROOT, 'bench/lib/traffic-child.mjs'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const port = await new Promise((r) => child.once('message', (m) => r(m.ready)));
  const pending = new Map();
  let ids = 0;
  child.on('message', (m) => {
    if (!m.done) return;
    pending.get(m.id)?.(m.result);
    pending.delete(m.id);
  });
  return {
    port,
    /** Runs one command ({ cmd: 'short' | 'bulk' | 'hold' | 'release', ...options }); resolves with its result. */
    run: (cmd) =>
      new Promise((r) => {
        pending.set(++ids, r);
        child.send({ ...cmd, id: ids });
      }),
    /** Closes the server and ends the process. */
    exit: () => child.send({ cmd: 'exit' }),
    /** Ends the process at once (connections it holds are reset). */
    stop: () => child.kill(),
  };
}

/** Connects a WebSocket client to `wsUrl`; resolves once it is connected. report() asks for its figures. */
export async function startWsObserver(wsUrl) {
  const child = fork(path.join(ROOT, 'bench/lib/ws-observer.mjs'), [wsUrl], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  await new Promise((r, j) => child.once('message', (m) => (m.ready ? r() : j(new Error(m.error)))));
  return {
    report: () =>
      new Promise((r) => {
        child.once('message', (m) => r(m.report));
        child.send('report');
      }),
  };
}
