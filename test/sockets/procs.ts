// Real processes with known pids and command lines for the socket tests: a server that accepts and
// never closes, a client that connects and holds its connection, a prefork server (two processes
// on one listening socket), each started as its own program.
import { type ChildProcess, execFileSync, spawn, type SpawnOptions } from 'node:child_process';
import { createInterface } from 'node:readline';

/** Listens on HOST:PORT (0: any free port) with BACKLOG, prints its port; accepts unless told not to, and never closes. */
export const HOLDING_SERVER = `
const net = require('net');
const [host, port, backlog] = process.argv.slice(1);
const held = [];
const srv = net.createServer({ pauseOnConnect: true }, (s) => { held.push(s); console.log('accepted ' + s.remotePort); });
srv.listen({ host, port: Number(port), backlog: Number(backlog) }, () => console.log('ready ' + srv.address().port));
// SIGUSR1: listen on one more port
process.on('SIGUSR1', () => {
  const more = net.createServer({ pauseOnConnect: true }, (s) => { held.push(s); console.log('accepted ' + s.remotePort); });
  more.listen({ host, port: 0 }, () => console.log('also ' + more.address().port));
});
`;

/** Listens and never calls accept(): a raw socket a Python process holds, so the kernel queue fills. */
export const NEVER_ACCEPTS = `
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.bind((sys.argv[1], 0))
s.listen(int(sys.argv[2]))
print('ready', s.getsockname()[1], flush=True)
time.sleep(3600)
`;

/** Connects to HOST:PORT, prints its own port, holds the connection open. */
export const HOLDING_CLIENT = `
const net = require('net');
const [host, port] = process.argv.slice(1);
const c = net.connect({ host, port: Number(port) }, () => console.log('ready ' + c.localPort));
c.on('error', (e) => console.log('error ' + e.code));
process.on('SIGUSR2', () => c.write('hello'));
setInterval(() => {}, 1 << 30);
`;

/** A prefork server: one listening socket, then fork(); both processes accept and report which connection each took. */
export const PREFORK_SERVER = `
import os, socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.bind(('127.0.0.1', 0))
s.listen(64)
print('ready', s.getsockname()[1], flush=True)
child = os.fork()
# one write(2) per line: two processes share the pipe, and print() may split a line in pieces
say = lambda *words: os.write(1, (' '.join(map(str, words)) + '\\n').encode())
say('forked', child if child else os.getpid())
held = []
while True:
    c, peer = s.accept()
    held.append(c)
    say('accepted', os.getpid(), peer[1])
`;

export interface Proc {
  child: ChildProcess;
  pid: number;
  /** Lines printed so far. */
  lines: string[];
  /** Resolves with the first line starting with `prefix`. */
  line(prefix: string, timeoutMs?: number): Promise<string>;
  stop(): void;
}

export function startProc(file: string, args: string[], opts: SpawnOptions = {}): Proc {
  const child = spawn(file, args, { ...opts, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  const waiters: { prefix: string; resolve: (l: string) => void }[] = [];
  createInterface({ input: child.stdout! }).on('line', (l) => {
    lines.push(l);
    for (const w of waiters.filter((x) => l.startsWith(x.prefix))) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve(l);
    }
  });
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  return {
    child,
    pid: child.pid!,
    lines,
    line(prefix, timeoutMs = 10_000) {
      const seen = lines.find((l) => l.startsWith(prefix));
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`${file} ${args.join(' ')} did not print '${prefix}' (stderr: ${err})`)), timeoutMs);
        waiters.push({
          prefix,
          resolve: (l) => {
            clearTimeout(t);
            resolve(l);
          },
        });
      });
    },
    stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}

export const word = (line: string, i: number): number => Number(line.split(' ')[i]);

/** A network namespace of its own with lo up, removed by `remove()`. */
export function makeNetns(name: string): { name: string; remove(): void } {
  try {
    execFileSync('ip', ['netns', 'del', name], { stdio: 'ignore' });
  } catch {
    // not there
  }
  execFileSync('ip', ['netns', 'add', name]);
  execFileSync('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
  return {
    name,
    remove() {
      try {
        execFileSync('ip', ['netns', 'del', name], { stdio: 'ignore' });
      } catch {
        // gone already
      }
    },
  };
}
