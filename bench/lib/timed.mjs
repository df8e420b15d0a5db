// Runs a command as a user would and measures it from outside with GNU time (wait4's rusage):
// wall seconds, user + system CPU seconds, peak RSS of the process.
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * argv[0] 'node' means this Node. `stdout`: 'null' (discarded, shown as `> /dev/null`), 'pipe'
 * (kept and returned), or a path. `input`: a command whose stdout feeds this one (`a | b`), run by
 * bash so the pipe is the kernel's.
 */
export function timed(argv, { cwd, stdout = 'null', input = null, env } = {}) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tcpscope-timed-'));
  const out = path.join(dir, 'time');
  const cmd = argv.map((a) => (a === 'node' ? process.execPath : a));
  let p;
  const outFd = stdout === 'null' ? openSync('/dev/null', 'w') : stdout === 'pipe' ? 'pipe' : openSync(stdout, 'w');
  try {
    if (input) {
      const q = (a) => `'${String(a).replace(/'/g, `'\\''`)}'`;
      const src = input.map((a) => (a === 'node' ? process.execPath : a)).map(q).join(' ');
      const line = `${src} | /usr/bin/time -f '%e %U %S %M' -o ${q(out)} ${cmd.map(q).join(' ')}`;
      p = spawnSync('bash', ['-o', 'pipefail', '-c', line], { cwd, env, stdio: ['ignore', outFd, 'pipe'], encoding: 'utf8', maxBuffer: 1 << 30 });
    } else {
      p = spawnSync('/usr/bin/time', ['-f', '%e %U %S %M', '-o', out, ...cmd], { cwd, env, stdio: ['ignore', outFd, 'pipe'], encoding: 'utf8', maxBuffer: 1 << 30 });
    }
  } finally {
    if (typeof outFd === 'number') closeSync(outFd);
  }
  let t = null;
  try {
    const last = readFileSync(out, 'utf8').trim().split('\n').pop().split(' ').map(Number);
    t = { seconds: last[0], cpuSeconds: last[1] + last[2], maxRssMiB: last[3] / 1024 };
  } catch {
    // no figures: the command did not start
  }
  rmSync(dir, { recursive: true, force: true });
  return { status: p.status, stdout: p.stdout ?? '', stderr: p.stderr ?? '', ...t };
}

/** The command as a user types it, from the repository root. */
export function shown(argv, { stdout = 'null', input = null } = {}) {
  const s = (a) => a.split(' ').map((x) => (/[\s'"*?]/.test(x) ? `'${x}'` : x)).join(' ');
  const cmd = argv.map(s).join(' ');
  return (input ? input.map(s).join(' ') + ' | ' : '') + cmd + (stdout === 'null' ? ' > /dev/null' : '');
}
