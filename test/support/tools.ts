// Helpers for tests that check tcpscope against independent tools (tcpdump, tshark) and that run
// tcpscope code in child processes (another user, another mount namespace).
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { tempDir } from './temp';
import { WaitAborted, waitFor } from './wait';

export const REPO = path.resolve(__dirname, '..', '..');

export interface ChildResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs a program to completion; never rejects (a spawn failure comes back as code null). */
export function runChild(
  file: string,
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<ChildResult> {
  return new Promise((resolve) => {
    execFile(
      file,
      args,
      { cwd: opts.cwd, env: opts.env, timeout: opts.timeoutMs ?? 30_000, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const e = err as (Error & { code?: number | string; signal?: NodeJS.Signals }) | null;
        resolve({
          code: e ? (typeof e.code === 'number' ? e.code : null) : 0,
          signal: e?.signal ?? null,
          stdout: String(stdout),
          stderr: String(stderr) + (e && typeof e.code !== 'number' && !e.signal ? e.message : ''),
        });
      },
    );
  });
}

export interface Tcpdump {
  file: string;
  /** What tcpdump printed so far (its summary, with the kernel drop count, comes at exit). */
  stderr(): string;
  /** Stops tcpdump (SIGINT, so it finishes the file) and waits for it to exit. */
  stop(): Promise<void>;
}

/**
 * Starts `tcpdump -w file` and resolves once it reports it is listening, so nothing sent after
 * that is missed. Packet-buffered (-U) and in immediate mode, so the file grows packet by packet.
 */
export async function startTcpdump(opts: { iface: string; filter: string; file: string }): Promise<Tcpdump> {
  // -Z root: tcpdump would otherwise drop to its own user before creating the file. -B: a 32 MiB
  // kernel buffer (default 2 MiB), so a burst on lo is not dropped while tcpdump waits for a CPU.
  const args = ['-i', opts.iface, '-n', '-U', '--immediate-mode', '-B', '32768', '-Z', 'root'];
  args.push('-w', opts.file, opts.filter);
  const child: ChildProcess = spawn('tcpdump', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  let exited: number | null | undefined;
  const exit = new Promise<void>((resolve) => {
    child.on('exit', (code) => {
      exited = code;
      resolve();
    });
    child.on('error', (e) => {
      stderr += String(e);
      exited = null;
      resolve();
    });
  });
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  await waitFor(
    'tcpdump to start listening', () => {
      if (exited !== undefined) throw new WaitAborted(`tcpdump exited (${exited}): ${stderr.trim()}`);
      return stderr.includes('listening on');
    },
  );
  return {
    file: opts.file,
    stderr: () => stderr,
    async stop() {
      if (exited === undefined) child.kill('SIGINT');
      await exit;
    },
  };
}

/**
 * Number of complete records in a classic pcap file, which may still be growing. Lets a test
 * wait until tcpdump has written what it saw before stopping it.
 */
export function countPcapRecords(file: string): number {
  if (!existsSync(file)) return 0;
  const b = readFileSync(file);
  if (b.length < 24) return 0;
  const magic = b.readUInt32LE(0);
  const le = magic === 0xa1b2c3d4 || magic === 0xa1b23c4d;
  const be = magic === 0xd4c3b2a1 || magic === 0x4d3cb2a1;
  if (!le && !be) throw new Error(`${file}: not a classic pcap file`);
  let off = 24;
  let n = 0;
  while (off + 16 <= b.length) {
    const incl = le ? b.readUInt32LE(off + 8) : b.readUInt32BE(off + 8);
    if (off + 16 + incl > b.length) break;
    off += 16 + incl;
    n++;
  }
  return n;
}

/** Runs `tshark -r file -T fields -e …` and returns one array of field values per packet. */
export async function tsharkFields(file: string, fields: string[], displayFilter?: string): Promise<string[][]> {
  const args = ['-r', file, '-T', 'fields', '-E', 'separator=/t', '-E', 'occurrence=f'];
  for (const f of fields) args.push('-e', f);
  if (displayFilter) args.push('-Y', displayFilter);
  const r = await runChild('tshark', args);
  if (r.code !== 0) throw new Error(`tshark failed (${r.code}): ${r.stderr.trim()}`);
  return r.stdout
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => l.split('\t'));
}

/** An epoch time as tshark prints it ('1700000000.123456000') in seconds and nanoseconds. */
export function parseEpoch(s: string): { sec: number; nsec: number } {
  const [whole, frac = ''] = s.split('.');
  return { sec: Number(whole), nsec: Number((frac + '000000000').slice(0, 9)) };
}

/**
 * Transpiles TypeScript sources (and every file they import by relative path) to CommonJS in a
 * fresh directory laid out like the repository, with node_modules linked, so a child process can
 * `require()` them with plain node. Everything is world-readable, for children run as another user.
 * Returns the directory; `path.join(dir, 'src/capture/live.js')` is then loadable.
 */
export function buildForChild(entries: string[]): string {
  const out = tempDir('tcpscope-child-');
  const done = new Set<string>();
  const queue = entries.map((e) => path.resolve(REPO, e));
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (done.has(file)) continue;
    done.add(file);
    const src = readFileSync(file, 'utf8');
    const js = ts.transpileModule(src, {
      fileName: file,
      compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
    }).outputText;
    const rel = path.relative(REPO, file).replace(/\.ts$/, '.js');
    mkdirSync(path.dirname(path.join(out, rel)), { recursive: true });
    writeFileSync(path.join(out, rel), js);
    for (const imp of ts.preProcessFile(src, true, true).importedFiles) {
      if (!imp.fileName.startsWith('.')) continue;
      const base = path.resolve(path.dirname(file), imp.fileName);
      const found = [`${base}.ts`, path.join(base, 'index.ts')].find((f) => existsSync(f));
      if (found) queue.push(found);
    }
  }
  symlinkSync(path.join(REPO, 'node_modules'), path.join(out, 'node_modules'));
  openUp(out);
  return out;
}

function openUp(dir: string): void {
  chmodSync(dir, 0o755);
  for (const name of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, name.name);
    if (name.isDirectory()) openUp(p);
    else if (name.isFile()) chmodSync(p, 0o644);
  }
}
