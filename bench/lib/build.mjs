// Builds dist/ when a source is newer than it, under the same lock directory the tests use.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { sleep } from './proc.mjs';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
/**
 * The checkout whose tcpscope is measured: this one, or TCPSCOPE_ROOT (e.g. an older commit
 * exported with `git archive` and built there, for before/after figures).
 */
export const TARGET = process.env.TCPSCOPE_ROOT ? path.resolve(process.env.TCPSCOPE_ROOT) : ROOT;

function newest(dir) {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

export async function buildOnce() {
  if (TARGET !== ROOT) return;
  const lock = path.join(ROOT, 'dist', '.build-lock');
  mkdirSync(path.dirname(lock), { recursive: true });
  for (let i = 0; ; i++) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      if (i > 1500) throw new Error('dist/.build-lock held too long');
      await sleep(100);
    }
  }
  try {
    const cli = path.join(ROOT, 'dist', 'cli.js');
    if (!existsSync(cli) || newest(path.join(ROOT, 'src')) > statSync(cli).mtimeMs) {
      try {
        execFileSync(process.execPath, [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: ROOT, stdio: 'pipe' });
      } catch (e) {
        if (!existsSync(cli)) throw e;
      }
    }
  } finally {
    rmdirSync(lock);
  }
}

/**
 * Another revision of this repository, exported with `git archive` into .bench-data/rev-REV and
 * built there (with this checkout's node_modules), once; returns its directory.
 */
export function buildRevision(rev) {
  const dir = path.join(ROOT, '.bench-data', `rev-${rev}`);
  if (existsSync(path.join(dir, 'dist', 'cli.js'))) return dir;
  mkdirSync(dir, { recursive: true });
  execFileSync('bash', ['-c', `git -C "${ROOT}" archive "${rev}" | tar -x -C "${dir}"`], { stdio: 'pipe' });
  execFileSync('ln', ['-sfn', path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules')]);
  execFileSync(process.execPath, [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: dir, stdio: 'pipe' });
  return dir;
}
