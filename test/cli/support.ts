// Helpers for tests that run the built CLI (`node bin/tcpscope.js`) as a user would, and make real
// loopback traffic and captures for it.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { DemoTraffic, halfClose, refusedAttempt, request, reset } from '../../src/demo/traffic';
import { WaitAborted, waitFor } from '../support/wait';

export const REPO = path.resolve(__dirname, '..', '..');
export const BIN = path.join(REPO, 'bin', 'tcpscope.js');

function newestMtime(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return t;
}

/**
 * Compiles src/ into dist/ when a source is newer than the build. Test files run in parallel, so a
 * lock directory keeps two builds from writing dist/ at once.
 */
export async function buildOnce(): Promise<void> {
  const lock = path.join(REPO, 'dist', '.build-lock');
  mkdirSync(path.dirname(lock), { recursive: true });
  for (let i = 0; ; i++) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      // A lock left by a test run that was killed mid-build is stale after two minutes.
      const held = statSync(lock, { throwIfNoEntry: false });
      if (held && Date.now() - held.mtimeMs > 120_000) {
        try {
          rmdirSync(lock);
        } catch {
          // another waiter removed it first
        }
      }
      if (i > 1500) throw new Error('another build held dist/.build-lock for too long');
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  try {
    const cli = path.join(REPO, 'dist', 'cli.js');
    if (!existsSync(cli) || newestMtime(path.join(REPO, 'src')) > statSync(cli).mtimeMs) {
      try {
        execFileSync(process.execPath, [path.join(REPO, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'], {
          cwd: REPO,
          stdio: 'pipe',
        });
      } catch (e) {
        // tsc still emits on type errors elsewhere in the tree; only a missing output is fatal.
        if (!existsSync(cli)) throw e;
      }
    }
  } finally {
    rmdirSync(lock);
  }
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI to completion. */
export function runCli(args: string[], opts: { input?: Buffer | string; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: REPO, env: { ...process.env, ...opts.env }, stdio: 'pipe' });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`tcpscope ${args.join(' ')} did not finish in time; stderr: ${stderr}`));
    }, opts.timeoutMs ?? 30_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.on('error', () => undefined);
    if (opts.input !== undefined) child.stdin.end(opts.input);
    else child.stdin.end();
  });
}

export interface RunningCli {
  child: ChildProcess;
  /** Base URL of the API, e.g. http://127.0.0.1:41234/ */
  url: string;
  stdout(): string;
  stderr(): string;
  /** SIGINT and wait for the exit code. */
  stop(): Promise<number | null>;
}

/** Starts a serving command (live, replay, demo) and resolves once it prints the URL it serves. */
export function startCli(args: string[], opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<RunningCli> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: REPO, env: { ...process.env, ...opts.env }, stdio: 'pipe' });
    let out = '';
    let err = '';
    let settled = false;
    const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
    const fail = (why: string) => {
      if (settled) return;
      settled = true;
      child.kill('SIGKILL');
      reject(new Error(`${why}\nstderr: ${err}\nstdout: ${out.slice(0, 2000)}`));
    };
    const timer = setTimeout(() => fail(`tcpscope ${args.join(' ')} did not start serving`), opts.timeoutMs ?? 20_000);
    const check = () => {
      const m = /(?:serving|open) (http:\/\/\S+?\/)/.exec(err + out);
      if (m && !settled) {
        settled = true;
        clearTimeout(timer);
        resolve({
          child,
          url: m[1].replace(/\?.*$/, ''),
          stdout: () => out,
          stderr: () => err,
          stop: async () => {
            if (child.exitCode === null && child.signalCode === null) child.kill('SIGINT');
            return exited;
          },
        });
      }
    };
    child.stdout!.on('data', (d) => {
      out += d;
      check();
    });
    child.stderr!.on('data', (d) => {
      err += d;
      check();
    });
    child.on('close', (code) => fail(`tcpscope exited early with code ${code}`));
  });
}

export async function getJson(url: string, init?: RequestInit): Promise<{ status: number; body: any }> {
  const r = await fetch(url, init);
  const text = await r.text();
  let body: any = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON (metrics, html)
  }
  return { status: r.status, body };
}

/** What one round of the test traffic made: each connection's client port by how it ended. */
export interface Round {
  clientFirst: number;
  serverFirst: number;
  halfClose: number;
  reset: number;
  ipv6: number | null;
}

/**
 * A line server on 127.0.0.1 and ::1 (port 0) plus a port nothing listens on; `round()` makes one
 * connection of each kind, one after another, each finished before the next starts.
 */
export class TestTraffic {
  private readonly demo = new DemoTraffic();
  ports = { v4: 0, v6: null as number | null, refused: 0 };

  async start(): Promise<this> {
    this.ports = await this.demo.start();
    return this;
  }

  /** `-p` arguments narrowing a capture to this traffic. */
  portArgs(): string[] {
    const ps = [this.ports.v4, this.ports.refused, ...(this.ports.v6 !== null ? [this.ports.v6] : [])];
    return ps.flatMap((p) => ['-p', String(p)]);
  }

  async round(): Promise<Round> {
    const { v4, v6, refused } = this.ports;
    const clientFirst = await request('127.0.0.1', v4, 'GET');
    const serverFirst = await request('127.0.0.1', v4, 'BYE');
    const half = await halfClose('127.0.0.1', v4);
    const rst = await reset('127.0.0.1', v4);
    await refusedAttempt('127.0.0.1', refused);
    const ipv6 = v6 !== null ? await request('::1', v6, 'GET') : null;
    return { clientFirst, serverFirst, halfClose: half, reset: rst, ipv6 };
  }

  clientFirst(): Promise<number> {
    return request('127.0.0.1', this.ports.v4, 'GET');
  }

  stop(): Promise<void> {
    return this.demo.stop();
  }
}

/** Runs tcpdump on lo narrowed to `ports` until `body` resolves; returns the capture's path. */
export async function captureWithTcpdump(file: string, ports: number[], body: () => Promise<void>): Promise<void> {
  const filter = `tcp and (${ports.map((p) => `port ${p}`).join(' or ')})`;
  // Immediate mode makes libpcap use fixed ring slots sized by the snap length (64 KiB each on lo):
  // with tcpdump's default 2 MiB buffer a burst overflows it. Headers are all the tests need.
  const args = ['-i', 'lo', '-n', '-U', '--immediate-mode', '-s', '512', '-B', '65536', '-Z', 'root', '-w', file, filter];
  const child = spawn('tcpdump', args, {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  const exited = new Promise<void>((r) => child.on('close', () => r()));
  child.stderr.on('data', (d) => (stderr += d));
  await waitFor('tcpdump to listen', () => {
    if (child.exitCode !== null) throw new WaitAborted(`tcpdump exited: ${stderr}`);
    return stderr.includes('listening on');
  });
  try {
    await body();
    // Let the last segments reach the file before stopping.
    await new Promise((r) => setTimeout(r, 300));
  } finally {
    child.kill('SIGINT');
    await exited;
  }
  const dropped = /(\d+) packets? dropped by kernel/.exec(stderr);
  if (dropped && Number(dropped[1]) > 0) throw new Error(`tcpdump lost ${dropped[1]} packets; the capture is incomplete`);
}
