// Each way opening a live capture can fail, provoked for real: an unprivileged user, an interface
// that does not exist, a filter libpcap rejects, and a machine whose libpcap is gone. The first and
// last need a process of their own, so tcpscope's code runs there transpiled to plain JavaScript.
import { readdirSync, realpathSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LIVE_ERROR_CODES } from '../../src/capture/errors';
import { listInterfaces, openLive } from '../../src/capture/live';
import { DeclaredCodes } from '../support/codes';
import { buildForChild, REPO, runChild } from '../support/tools';
import { tempDir } from '../support/temp';
import { needs, root, tool } from '../support/skip';

const codes = new DeclaredCodes('LIVE_ERROR_CODES', LIVE_ERROR_CODES);

const SETCAP = 'sudo setcap cap_net_raw,cap_net_admin=eip "$(which node)"';

// Opens a capture with LIVE_OPTS and prints the outcome and listInterfaces() as one JSON line.
// With --expose-gc it first collects garbage, which must not bring the process down after a
// failed open.
const CHILD = `
const live = require(process.env.LIVE_JS);
const r = live.openLive(JSON.parse(process.env.LIVE_OPTS), () => {});
if (r.ok) r.capture.stop();
if (global.gc) for (let i = 0; i < 10; i++) global.gc();
setTimeout(() => {
  if (global.gc) global.gc();
  console.log(JSON.stringify({ ok: r.ok, error: r.ok ? null : r.error, interfaces: live.listInterfaces() }));
}, 50);
`;

interface ChildOutcome {
  ok: boolean;
  error: { code: string; message: string } | null;
  interfaces: string[];
}

let childDir = '';
let liveJs = '';
const scratchDirs: string[] = [];

beforeAll(() => {
  childDir = buildForChild(['src/capture/live.ts']);
  liveJs = path.join(childDir, 'src/capture/live.js');
});

afterAll(() => {
  for (const d of [childDir, ...scratchDirs]) if (d) rmSync(d, { recursive: true, force: true });
});

function parseOutcome(r: { code: number | null; stdout: string; stderr: string }): ChildOutcome {
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as ChildOutcome;
}

function childEnv(opts: object): NodeJS.ProcessEnv {
  return { ...process.env, LIVE_JS: liveJs, LIVE_OPTS: JSON.stringify(opts) };
}

describe('permission denied', needs(root(), tool('setpriv')), () => {
  it('an unprivileged user gets permission-denied with the way to fix it', async () => {
    const r = await runChild(
      'setpriv',
      ['--reuid=nobody', '--regid=nogroup', '--clear-groups', '--inh-caps=-all', process.execPath, '-e', CHILD],
      { env: childEnv({ iface: 'lo', ports: [9] }), cwd: '/' },
    );
    const out = parseOutcome(r);
    expect(out.ok).toBe(false);
    expect(codes.see(out.error!.code)).toBe('permission-denied');
    expect(out.error!.message).toMatch(/^cannot capture on lo: permission denied/);
    expect(out.error!.message).toContain('run as root');
    expect(out.error!.message).toContain(SETCAP);
    expect(out.error!.message).not.toContain('\n');
    // Listing interfaces needs no privilege.
    expect(out.interfaces).toContain('lo');
  });

  it('root whose capabilities were taken away is told so instead of to become root', async () => {
    // Dropping them from the bounding set before exec leaves uid 0 without them.
    const r = await runChild(
      'setpriv',
      ['--bounding-set=-net_raw,-net_admin', '--inh-caps=-all', process.execPath, '-e', CHILD],
      { env: childEnv({ iface: 'lo', ports: [9] }) },
    );
    const out = parseOutcome(r);
    expect(codes.see(out.error!.code)).toBe('permission-denied');
    expect(out.error!.message).toMatch(/^cannot capture on lo: permission denied/);
    expect(out.error!.message).toContain('running as root without CAP_NET_RAW/CAP_NET_ADMIN');
    expect(out.error!.message).not.toContain('run as root');
  });
});

describe('unknown interface', () => {
  it('names the interface and lists every one that exists', () => {
    const r = openLive({ iface: 'nosuch0' }, () => {});
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(codes.see(r.error.code)).toBe('unknown-interface');
    expect(r.error.message).toMatch(/^cannot capture on nosuch0: no such interface — available: /);
    // The kernel's own list is the truth; libpcap adds pseudo-devices such as 'any'.
    for (const name of readdirSync('/sys/class/net')) expect(r.error.message).toContain(name);
    for (const name of listInterfaces()) expect(r.error.message).toContain(name);
    expect(listInterfaces()).toEqual(expect.arrayContaining(['lo', 'any']));
  });
});

describe('invalid BPF', () => {
  async function libpcapSays(filter: string): Promise<string> {
    // tcpdump compiles with the same libpcap and prints its message as 'tcpdump: MESSAGE'.
    const r = await runChild('tcpdump', ['-i', 'lo', '-d', filter]);
    expect(r.code).not.toBe(0);
    return r.stderr.trim().replace(/^tcpdump: /, '');
  }

  it.each([['port 80 and and'], ['port 99999'], ['tcp[99999999999]'], ['ether proto nonsense']])(
    'carries libpcap\'s own message for %s',
    needs(root(), tool('tcpdump')),
    async (expr) => {
      const r = openLive({ iface: 'lo', filter: expr }, () => {});
      expect(r.ok).toBe(false);
      if (r.ok) return;
      const filter = `tcp and (${expr})`;
      expect(codes.see(r.error.code)).toBe('bad-filter');
      expect(r.error.message).toContain(`invalid capture filter "${filter}": `);
      expect(r.error.message).toContain(await libpcapSays(filter));
    },
  );

  it.each([
    [{ ports: [70000] }, /invalid port 70000/],
    [{ ports: [1.5] }, /invalid port 1.5/],
    [{ hosts: ['127.0.0.1 or udp'] }, /invalid host "127.0.0.1 or udp"/],
    [{ hosts: ['(::1)'] }, /invalid host/],
    [{ filter: 'port 1) or (udp' }, /unbalanced parentheses/],
    [{ filter: 'port 1\u0000' }, /control characters/],
  ])('rejects %j before it reaches libpcap', (opts, message) => {
    const r = openLive({ iface: 'lo', ...opts }, () => {});
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(codes.see(r.error.code)).toBe('bad-filter');
    expect(r.error.message).toMatch(message);
  });

  it('a process that failed to open survives garbage collection', needs(root()), async () => {
    const r = await runChild(process.execPath, ['--expose-gc', '-e', CHILD], {
      env: childEnv({ iface: 'lo', filter: 'port 80 and and' }),
    });
    expect(r.signal).toBeNull();
    const out = parseOutcome(r);
    expect(codes.see(out.error!.code)).toBe('bad-filter');
  });
});

describe('libpcap missing', needs(root()), () => {
  it('maps the loader failure to libpcap-missing with an install hint, and listInterfaces() is empty', async () => {
    // Where the dynamic loader finds libpcap for the binding.
    const ldd = await runChild('ldd', [path.join(REPO, 'node_modules/cap/build/Release/cap.node')]);
    const m = /libpcap\.so\S*\s+=>\s+(\S+)/.exec(ldd.stdout);
    expect(m, ldd.stdout).not.toBeNull();
    const lib = realpathSync(m![1]);
    const libDir = path.dirname(lib);
    const scratch = tempDir('tcpscope-nolib-');
    scratchDirs.push(scratch);
    // In a private mount namespace, hide every libpcap.so* in that directory: an overlay whose
    // upper layer holds whiteouts makes the files absent; where overlayfs is unavailable, /dev/null
    // over the library makes it unloadable. Neither is visible outside the namespace.
    const script = `
      set -e
      mount -t tmpfs tmpfs "$SCRATCH"
      mkdir "$SCRATCH/upper" "$SCRATCH/work"
      for f in "$LIBDIR"/libpcap.so*; do mknod "$SCRATCH/upper/$(basename "$f")" c 0 0; done
      if ! mount -t overlay overlay -o "lowerdir=$LIBDIR,upperdir=$SCRATCH/upper,workdir=$SCRATCH/work" "$LIBDIR" 2>/dev/null; then
        mount --bind /dev/null "$LIB"
      fi
      exec "$NODE" -e "$CHILD"
    `;
    const r = await runChild('unshare', ['-m', 'sh', '-c', script], {
      env: {
        ...childEnv({ iface: 'lo' }),
        SCRATCH: scratch,
        LIBDIR: libDir,
        LIB: lib,
        NODE: process.execPath,
        CHILD,
      },
    });
    const out = parseOutcome(r);
    expect(out.ok).toBe(false);
    expect(codes.see(out.error!.code)).toBe('libpcap-missing');
    expect(out.error!.message).toContain('libpcap.so');
    expect(out.error!.message).toContain('apt-get install libpcap0.8');
    expect(out.error!.message).toContain('npm rebuild cap');
    expect(out.error!.message).not.toContain('\n');
    expect(out.interfaces).toEqual([]);
    // Outside the namespace the library is untouched.
    expect(listInterfaces()).toContain('lo');
  });
});

describe('a capture libpcap opens but cannot hold to what was asked', () => {
  it('an invalid snap length is capture-failed', () => {
    const r = openLive({ iface: 'lo', snapLength: 10 }, () => {});
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(codes.see(r.error.code)).toBe('capture-failed');
    expect(r.error.message).toMatch(/^invalid snap length 10: /);
  });
});

describe('LIVE_ERROR_CODES', needs(root(), tool('setpriv'), tool('tcpdump')), () => {
  it('holds the codes provoked above, every one of them', () => {
    expect(codes.unseen()).toEqual([]);
  });
});
