// The CLI's failures as users meet them: one line on stderr that says what failed and how to fix
// it, exit code 1 for runtime failures and 2 for usage errors, never a stack trace.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, buildOnce, captureWithTcpdump, REPO, runCli, TestTraffic } from './support';
import { met, needs, root, tool } from '../support/skip';
import { runChild } from '../support/tools';
import { WATCH_SNAPLEN } from '../../src/capture/snaplen';

let dir = '';
let capture = '';

function expectOneLine(stderr: string): string {
  const lines = stderr.trim().split('\n');
  expect(lines, stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^tcpscope: /);
  expect(stderr).not.toMatch(/\n\s+at /); // no stack trace
  return lines[0];
}

beforeAll(async () => {
  await buildOnce();
  dir = mkdtempSync(path.join(os.tmpdir(), 'tcpscope-cli-'));
  capture = path.join(dir, 'good.pcap');
  if (met(root(), tool('tcpdump'))) {
    const t = await new TestTraffic().start();
    await captureWithTcpdump(capture, [t.ports.v4, t.ports.refused], async () => {
      await t.clientFirst();
      await t.clientFirst();
      await t.clientFirst();
    });
    await t.stop();
  }
});

afterAll(() => {
  if (dir) execFileSync('rm', ['-rf', dir]);
});

describe('usage errors exit 2', () => {
  it.each([
    [['live', '--bogus'], /unknown option '--bogus'/],
    [['live', '--msl', 'soon'], /--msl.*seconds/],
    [['live', '--max-connections', '0'], /--max-connections/],
    [['live', '-p', '70000'], /port 1\.\.65535/],
    [['live', '--host', 'example'], /IPv4 or IPv6/],
    [['live', '--snaplen', '10'], /snap length in bytes.*64 to 65535/],
    [['live', '-s', 'all'], /snap length in bytes/],
    [['live', '--listen', 'nowhere:port'], /--listen/],
    [['replay', 'x.pcap', '--speed', 'fast'], /'max', 'realtime'/],
    [['analyze', 'x.pcap', '--format', 'csv'], /--format.*table, jsonl, zeek|Allowed choices/],
    [['analyze'], /missing required argument 'file'/],
    [['frobnicate'], /unknown command 'frobnicate'/],
  ])('tcpscope %j', async (args, pattern) => {
    const r = await runCli(args as string[]);
    expect(r.code, r.stderr).toBe(2);
    const line = expectOneLine(r.stderr);
    expect(line).toMatch(pattern as RegExp);
    expect(r.stdout).toBe('');
  });

  it('listening beyond loopback without a token is refused before anything starts', async () => {
    const r = await runCli(['replay', capture || 'x.pcap', '--listen', '0.0.0.0:0', '--exit'], { env: { TCPSCOPE_TOKEN: '' } });
    expect(r.code).toBe(2);
    expect(expectOneLine(r.stderr)).toMatch(/--token TOKEN or TCPSCOPE_TOKEN/);
  });

  it('a bare `tcpscope` shows the help and exits 2', async () => {
    const r = await runCli([]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/Usage: tcpscope/);
  });
});

describe('help and version exit 0', () => {
  it('--version prints the package version', async () => {
    const r = await runCli(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')).version);
  });

  it.each(['live', 'replay', 'analyze', 'demo'])('%s --help lists its options and examples', async (cmd) => {
    const r = await runCli([cmd, '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`Usage: tcpscope ${cmd}`));
    expect(r.stdout).toMatch(/Examples:/);
    expect(r.stdout).toMatch(/--msl <seconds>/);
    expect(r.stdout).toMatch(/--max-connections <n>/);
  });

  it('live --help names the default snap length', async () => {
    const r = await runCli(['live', '--help']);
    expect(r.code).toBe(0);
    // (the help wraps its lines)
    expect(r.stdout).toMatch(new RegExp(`-s, --snaplen <bytes>[^]*\\(default:\\s+${WATCH_SNAPLEN};\\s+0:\\s+whole\\s+packets\\)`));
  });
});

describe('runtime failures exit 1', () => {
  it('a missing file', async () => {
    for (const cmd of [['analyze'], ['replay', '--exit', '--no-server']]) {
      const r = await runCli([cmd[0], path.join(dir, 'nope.pcap'), ...cmd.slice(1)]);
      expect(r.code).toBe(1);
      expect(expectOneLine(r.stderr)).toMatch(/cannot read .*nope\.pcap.*(no such file|ENOENT).*check the path/i);
    }
  });

  it('a file that is not a capture', async () => {
    const f = path.join(dir, 'notes.txt');
    writeFileSync(f, 'these are not packets\n');
    const r = await runCli(['analyze', f]);
    expect(r.code).toBe(1);
    expect(expectOneLine(r.stderr)).toMatch(/cannot read .*notes\.txt.*pcap and pcapng/);
  });

  it('a damaged file: connections before the damage are still reported', needs(root(), tool('tcpdump')), async () => {
    const good = readFileSync(capture);
    // Cut inside the last record: every whole packet before it is read, then the error.
    const cut = path.join(dir, 'cut.pcap');
    writeFileSync(cut, good.subarray(0, good.length - 10));
    const whole = await runCli(['analyze', capture, '--format', 'jsonl']);
    expect(whole.code).toBe(0);
    const r = await runCli(['analyze', cut, '--format', 'jsonl']);
    expect(r.code).toBe(1);
    expect(expectOneLine(r.stderr)).toMatch(/cut\.pcap: truncated capture at byte \d+ \(packet \d+\).*packets before it were processed/);
    const before = whole.stdout.trim().split('\n').map((l) => JSON.parse(l));
    const after = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(after.length).toBe(before.length);
    expect(after.slice(0, -1).map((c) => c.history)).toEqual(before.slice(0, -1).map((c) => c.history));
  });

  it('an unknown interface lists the real ones', needs(root()), async () => {
    const r = await runCli(['live', '-i', 'nosuch0', '--no-server']);
    expect(r.code).toBe(1);
    const line = expectOneLine(r.stderr);
    expect(line).toMatch(/cannot capture on nosuch0: no such interface/);
    expect(line).toMatch(/\blo\b/);
  });

  it('a bad BPF expression carries libpcap’s words and a hint', needs(root()), async () => {
    const r = await runCli(['live', '-f', 'port port port', '--no-server']);
    expect(r.code).toBe(1);
    const line = expectOneLine(r.stderr);
    expect(line).toMatch(/invalid capture filter/);
    expect(line).toMatch(/syntax error/);
    expect(line).toMatch(/man pcap-filter/);
  });

  it('no capture permission says how to get it', needs(root()), async () => {
    // The same CLI run as an unprivileged user: libpcap refuses to open lo.
    const r = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const { spawn } = require('node:child_process') as typeof import('node:child_process');
      const child = spawn('setpriv', ['--reuid=nobody', '--regid=nogroup', '--clear-groups', process.execPath, BIN, 'live', '--no-server'], {
        cwd: REPO,
      });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d));
      child.on('close', (code: number | null) => resolve({ code, stderr }));
    });
    expect(r.code).toBe(1);
    expect(expectOneLine(r.stderr)).toBe(
      'tcpscope: cannot capture on lo: permission denied — run as root or grant CAP_NET_RAW: sudo setcap cap_net_raw,cap_net_admin=eip "$(which node)"',
    );
  });

  it('root without CAP_NET_RAW (as in a container) is told to add the capability, not to be root', needs(root(), tool('setpriv')), async () => {
    // Root with CAP_NET_RAW and CAP_NET_ADMIN taken out of its bounding and inheritable sets, as
    // a container runtime started without them leaves it.
    const drop = ['--bounding-set', '-net_raw,-net_admin', '--inh-caps', '-net_raw,-net_admin'];
    const r = await runChild('setpriv', [...drop, process.execPath, BIN, 'live', '--no-server'], { cwd: REPO });
    expect(r.code).toBe(1);
    expect(expectOneLine(r.stderr)).toBe(
      'tcpscope: cannot capture on lo: permission denied — running as root without CAP_NET_RAW/CAP_NET_ADMIN: give them to the container or session (e.g. docker run --cap-add NET_RAW --cap-add NET_ADMIN)',
    );
  });

  it('a port already in use', needs(root(), tool('tcpdump')), async () => {
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      const r = await runCli(['replay', capture, '--speed', 'max', '--listen', `127.0.0.1:${port}`]);
      expect(r.code).toBe(1);
      expect(expectOneLine(r.stderr)).toMatch(
        new RegExp(`cannot listen on 127\\.0\\.0\\.1:${port}: address already in use — stop the other process or choose another port with --listen`),
      );
    } finally {
      blocker.close();
    }
  });
});
