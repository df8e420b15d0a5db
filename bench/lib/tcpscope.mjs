// Runs the built CLI (`node bin/tcpscope.js …`) as a user would and finds the URL it serves.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { TARGET } from './build.mjs';

export function startTcpscope(args, { nodeArgs = [], env = {}, stdout = 'ignore', root = TARGET } = {}) {
  const spawnedAt = performance.now();
  const child = spawn(process.execPath, [...nodeArgs, path.join(root, 'bin/tcpscope.js'), ...args], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', stdout, 'pipe'],
  });
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  let stopping = false;
  const exited = new Promise((r) => child.on('close', (code) => r(code)));
  // A tcpscope that ends on its own while being measured is a finding: say why, loudly.
  exited.then((code) => !stopping && process.stderr.write(`tcpscope exited early (${code}): ${err.slice(-2000)}\n`));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`tcpscope did not start: ${err}`)), 20_000);
    const look = () => {
      const m = /serving (http:\/\/\S+?\/)/.exec(err);
      if (!m) return;
      clearTimeout(timer);
      child.stderr.off('data', look);
      resolve({
        pid: child.pid,
        url: m[1],
        // from the spawn to the line that says it serves
        startupWallMs: performance.now() - spawnedAt,
        stderr: () => err,
        async stop() {
          stopping = true;
          child.kill('SIGINT');
          return exited;
        },
      });
    };
    child.stderr.on('data', look);
    child.once('close', (code) => reject(new Error(`tcpscope exited (${code}): ${err}`)));
  });
}

export async function getJson(url) {
  const t0 = performance.now();
  const r = await fetch(url);
  const body = await r.json();
  return { status: r.status, body, ms: performance.now() - t0 };
}
