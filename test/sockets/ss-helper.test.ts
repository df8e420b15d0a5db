// The shell that runs `ss` for the scanning thread: the same rows as ss run directly, a failed run
// told apart from an empty one, the lowest priority, and nothing left behind once closed; the
// scanning thread (as the CLI runs it, from dist/) reads through it from its second scan on, and
// starts it again when it ends.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { needs, root } from '../support/skip';
import { openScanner } from '../../src/sockets/scan-thread';
import { parseSs, runSs, SsHelper } from '../../src/sockets/ss';

const REPO = path.resolve(__dirname, '../..');
const WORKER = path.join(REPO, 'dist', 'sockets', 'scan-worker.js');

const servers: net.Server[] = [];
afterAll(() => {
  for (const s of servers) s.close();
});

async function listen(): Promise<number> {
  const s = net.createServer();
  servers.push(s);
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return (s.address() as net.AddressInfo).port;
}

/** Children of this process whose command is `comm`. */
function children(comm: string): number[] {
  const out: number[] = [];
  for (const e of execFileSync('ps', ['-o', 'pid=,comm=', '--ppid', String(process.pid)], { encoding: 'utf8' }).trim().split('\n')) {
    const [pid, c] = e.trim().split(/\s+/);
    if (c === comm) out.push(Number(pid));
  }
  return out;
}

const alive = (pid: number) => existsSync(`/proc/${pid}`) && !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'latin1'));

describe('ss through a helper shell', needs(root()), () => {
  it('reads what ss run directly reads, tells a failed run apart, runs at nice 19 and leaves nothing behind', async () => {
    const port = await listen();
    const before = new Set(children('sh'));
    const h = SsHelper.start();
    const args = ['-Htne', 'state', 'listening', '(', `sport = :${port}`, ')'];
    const got = await h.run(args);
    expect(got.text).not.toBeNull();
    const rows = parseSs(got.text!, 'LISTEN');
    expect(rows).toEqual(runSs(args, null, 'LISTEN', false));
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ localIp: '127.0.0.1', localPort: port, state: 'LISTEN' });
    // nothing matches: an empty reading, not a failure
    const none = await h.run(['-Htne', 'state', 'listening', '(', 'sport = :1', ')']);
    expect(none.text).not.toBeNull();
    expect(parseSs(none.text!, 'LISTEN')).toEqual([]);
    // a run ss refuses: null, and the next one still works
    expect((await h.run(['-Htne', 'state', 'no-such-state'])).text).toBeNull();
    expect(parseSs((await h.run(args)).text!, 'LISTEN')).toHaveLength(1);
    const [pid] = children('sh').filter((p) => !before.has(p));
    expect(pid).toBeGreaterThan(0);
    // field 19 of /proc/PID/stat: the nice value its ss children inherit
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    expect(Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16])).toBe(19);
    await h.close();
    expect(alive(pid)).toBe(false);
    expect(h.alive).toBe(false);
    expect((await h.run(args)).text).toBeNull();
  });

  it.skipIf(!existsSync(WORKER))('is what the scanning thread reads through after its first scan, and goes with it', async () => {
    const port = await listen();
    const before = new Set(children('sh'));
    const scanner = openScanner(WORKER);
    expect(scanner.mode).toBe('thread');
    const ask = { tcpInfo: false, ports: [port], connected: true };
    const first = await scanner.scan(ask);
    expect(children('sh').filter((p) => !before.has(p))).toEqual([]);
    const second = await scanner.scan(ask);
    const [helper] = children('sh').filter((p) => !before.has(p));
    expect(helper).toBeGreaterThan(0);
    for (const s of [first, second]) {
      expect(s.ssRuns).toBe(2);
      expect(s.sockets.filter((x) => x.state === 'LISTEN' && x.localPort === port)).toHaveLength(1);
    }
    // the first scan forks ss itself; the second reads both runs through the helper
    expect(first.ssViaHelper).toBe(0);
    expect(second.ssViaHelper).toBe(2);
    expect(second.ssHelperRestarts).toBe(0);
    // the listener's owner (this process) is named through either
    expect(second.sockets.find((x) => x.localPort === port)?.owners.map((o) => o.pid)).toContain(process.pid);
    await scanner.close();
    expect(alive(helper)).toBe(false);
  });

  it.skipIf(!existsSync(WORKER))('is started again when it ends, and says so', async () => {
    const port = await listen();
    const before = new Set(children('sh'));
    const scanner = openScanner(WORKER);
    const ask = { tcpInfo: false, ports: [port], connected: true };
    await scanner.scan(ask);
    await scanner.scan(ask);
    const [first] = children('sh').filter((p) => !before.has(p));
    expect(first).toBeGreaterThan(0);
    process.kill(first, 'SIGKILL');
    // a scan made before the thread has seen the shell end runs ss itself; the next starts another
    let restarts = 0;
    let last = null;
    for (let i = 0; i < 5 && restarts === 0; i++) {
      await new Promise((r) => setTimeout(r, 50));
      last = await scanner.scan(ask);
      restarts += last.ssHelperRestarts;
      expect(last.sockets.filter((x) => x.state === 'LISTEN' && x.localPort === port)).toHaveLength(1);
    }
    expect(restarts).toBe(1);
    expect(last?.ssViaHelper).toBe(2);
    const [second] = children('sh').filter((p) => !before.has(p) && p !== first);
    expect(second).toBeGreaterThan(0);
    expect(alive(first)).toBe(false);
    await scanner.close();
    expect(alive(second)).toBe(false);
  });
});
