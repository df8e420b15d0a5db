// The pile-ups on real traffic, the kernel's own counts as truth: a SYN flood (spoofed SYNs from a
// raw socket to a listener, their SYN+ACKs routed into a veth pair where no one answers, so each
// stays half-open: `ss state syn-recv` and the kernel's SyncookiesSent account for every SYN), a
// client opening and closing thousands of connections until its TIME_WAIT sockets pile up
// (`ss state time-wait`), a server holding CLOSE_WAIT and a refused port next to a live one.
// `tcpscope live -w` diagnoses them as they happen, and `tcpscope analyze` finds them again in the
// file it wrote, from the packets alone.
import { execFileSync } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIAGNOSIS_KINDS } from '../../src/sockets/diagnose';
import { buildOnce, getJson, runCli, startCli, type RunningCli } from '../cli/support';
import { needs, root, tool } from '../support/skip';
import { tempDir } from '../support/temp';
import { waitFor } from '../support/wait';
import { HOLDING_SERVER, startProc, word, type Proc } from './procs';
import { freePort } from '../support/ports';

const TAG = Math.floor(Math.random() * 1e6).toString(36);
const NS = `tsflood${TAG}`;
const VETH = `tsf${TAG}`;
const R = () => 1 + Math.floor(Math.random() * 250);
/** The listener's address, on the veth end here; the flood's sources, routed into the veth. */
const NET = `10.${R()}`;
const LISTEN_IP = `${NET}.0.1`;
let SPOOF = `10.${R()}`;
while (SPOOF === NET) SPOOF = `10.${R()}`;
const HOST = `127.79.${R()}.${R()}`;
const SYNS = 3000;
const CONNECTIONS = 2000;

/** Answers, and closes once its client has: the client closes first and keeps the TIME_WAIT. */
const ANSWERING_SERVER = `
const net = require('net');
const srv = net.createServer((s) => { s.on('data', () => s.write('ok')); s.on('end', () => s.end()); s.on('error', () => {}); });
srv.listen({ host: process.argv[1], port: 0, backlog: 1024 }, () => console.log('ready ' + srv.address().port));
`;

/** Opens N connections, CONCURRENCY at a time: each sends a byte, closes once answered. */
const CLOSING_CLIENT = `
const net = require('net');
const [host, port, n, conc] = process.argv.slice(1).map((x, i) => (i ? Number(x) : x));
let started = 0, done = 0, failed = 0;
const one = () => {
  if (started >= n) return;
  started++;
  const c = net.connect({ host, port }, () => c.write('x'));
  c.on('data', () => c.end());
  c.on('error', () => { failed++; });
  c.on('close', () => { done++; if (done === n) { console.log('done ' + failed); process.exit(0); } else one(); });
};
for (let i = 0; i < conc; i++) one();
`;

const sh = (cmd: string, args: string[]) => execFileSync(cmd, args, { encoding: 'utf8' });
const nstat = (name: string): number => {
  const t = sh('nstat', ['-az', name]);
  return Number(new RegExp(`${name}\\s+(\\d+)`).exec(t)?.[1] ?? NaN);
};
const ssCount = (state: string, filter: string): number => sh('ss', ['-Htan', 'state', state, filter]).split('\n').filter((l) => l.trim() !== '').length;

function cleanNet(): void {
  for (const [cmd, args] of [
    ['ip', ['link', 'del', VETH]],
    ['ip', ['netns', 'del', NS]],
  ] as const) {
    try {
      execFileSync(cmd, args, { stdio: 'ignore' });
    } catch {
      // not there
    }
  }
}


describe('pile-ups on real traffic', needs(root(), tool('ip'), tool('ss'), tool('nstat'), tool('python3')), () => {
  const procs: Proc[] = [];
  let cli: RunningCli | null = null;
  const file = path.join(tempDir(), 'pileups.pcapng');
  let floodPort = 0;
  let twPort = 0;
  let holdPort = 0;
  let refusedPort = 0;
  let holder: Proc;
  const kernel = { synRecv: 0, cookies: 0, timeWait: 0 };
  const onExit = () => cleanNet();

  beforeAll(async () => {
    await buildOnce();
    process.once('exit', onExit);
    cleanNet();
    sh('ip', ['netns', 'add', NS]);
    sh('ip', ['link', 'add', VETH, 'type', 'veth', 'peer', 'name', `${VETH}p`, 'netns', NS]);
    sh('ip', ['addr', 'add', `${LISTEN_IP}/24`, 'dev', VETH]);
    sh('ip', ['link', 'set', VETH, 'up']);
    // SYN+ACKs to the spoofed sources leave through the veth towards a neighbour that never answers
    sh('ip', ['route', 'add', `${SPOOF}.0.0/16`, 'via', `${NET}.0.2`, 'dev', VETH]);

    const flood = startProc('python3', ['-c', 'import socket,sys,time\ns=socket.socket(); s.bind((sys.argv[1],0)); s.listen(128); print("ready", s.getsockname()[1], flush=True); time.sleep(3600)', LISTEN_IP]);
    procs.push(flood);
    floodPort = word(await flood.line('ready'), 1);
    const tw = startProc(process.execPath, ['-e', ANSWERING_SERVER, HOST]);
    procs.push(tw);
    twPort = word(await tw.line('ready'), 1);
    holder = startProc(process.execPath, ['-e', HOLDING_SERVER, HOST, '0', '16']);
    procs.push(holder);
    holdPort = word(await holder.line('ready'), 1);
    refusedPort = await freePort(HOST);

    cli = await startCli(
      ['live', ...[floodPort, twPort, holdPort, refusedPort].flatMap((p) => ['-p', String(p)]), '-w', file, '--buffer', '128',
        '--syn-flood', '100', '--time-wait-pileup', '0.05', '--close-wait-after', '1', '--listen', '127.0.0.1:0'],
      { timeoutMs: 30_000 },
    );
    await new Promise((r) => setTimeout(r, 500));

    // the SYN flood: every SYN is either held half-open (up to the backlog) or answered with a cookie
    const cookies0 = nstat('TcpExtSyncookiesSent');
    const f = startProc('python3', [path.join(__dirname, 'flood.py'), LISTEN_IP, String(floodPort), String(SYNS), SPOOF]);
    procs.push(f);
    await f.line('sent', 60_000);
    await new Promise((r) => setTimeout(r, 300));
    kernel.synRecv = ssCount('syn-recv', `( sport = :${floodPort} )`);
    kernel.cookies = nstat('TcpExtSyncookiesSent') - cookies0;

    // the TIME_WAIT pile-up
    const c = startProc(process.execPath, ['-e', CLOSING_CLIENT, HOST, String(twPort), String(CONNECTIONS), '20']);
    procs.push(c);
    expect(word(await c.line('done', 120_000), 1)).toBe(0);
    kernel.timeWait = ssCount('time-wait', `( dport = :${twPort} )`);

    // a connection its server never closes, and a refused attempt
    const s = net.connect({ host: HOST, port: holdPort });
    await new Promise((r) => s.once('connect', r));
    s.end();
    // a file's clock is its packets': the refused attempt, later, is what shows the CLOSE_WAIT held
    await new Promise((res) => setTimeout(res, 1500));
    const r = net.connect({ host: HOST, port: refusedPort });
    await new Promise((res) => r.once('error', res));
  }, 240_000);

  afterAll(async () => {
    for (const p of procs) p.stop();
    await cli?.stop();
    cleanNet();
    process.off('exit', onExit);
  });

  /** The diagnoses served now, each of a kind the list declares. */
  const diagnoses = async () => {
    const list = (await getJson(`${cli!.url}api/diagnoses`)).body.diagnoses as any[];
    for (const d of list) expect(DIAGNOSIS_KINDS).toContain(d.kind);
    return list;
  };

  it('the kernel saw the flood it was sent', () => {
    expect(kernel.synRecv).toBeGreaterThan(0);
    expect(kernel.synRecv + kernel.cookies).toBe(SYNS);
    expect(kernel.timeWait).toBe(CONNECTIONS);
  });

  it('live diagnoses the SYN flood, with every SYN half-open and the kernel\'s SYN cookies', async () => {
    const d = await waitFor('the syn-flood diagnosis', async () => (await diagnoses()).find((x) => x.kind === 'syn-flood' && x.listener.port === floodPort), 15_000, 200);
    expect(d.evidence.halfOpen).toBe(SYNS);
    // flood.py's sources: SPOOF.(i >> 8).(i & 255 or 1)
    const sources = new Set(Array.from({ length: SYNS }, (_, i) => `${(i >> 8) & 255}.${i & 255 || 1}`));
    expect(d.evidence.sources).toBe(sources.size);
    expect(d.evidence.syncookiesSentRise).toBeGreaterThanOrEqual(kernel.cookies);
    expect(d.text).toContain(`${SYNS} half-open connections to ${LISTEN_IP}:${floodPort}`);
  });

  it('live diagnoses the TIME_WAIT pile-up with the kernel\'s count', async () => {
    let last: any = null;
    const d = await waitFor(
      'the time-wait-pileup diagnosis with the kernel\'s count',
      async () => {
        last = (await diagnoses()).find((x) => x.kind === 'time-wait-pileup');
        return last?.evidence.timeWait === kernel.timeWait ? last : null;
      },
      20_000,
      200,
    ).catch((e) => {
      throw new Error(`${e.message}; last: ${JSON.stringify(last?.evidence)}`);
    });
    expect(d.text).toContain(`${kernel.timeWait} connections from 127.0.0.1 to ${HOST}:${twPort} wait in TIME_WAIT`);
  });

  it('analyze finds the same in the file live -w wrote, from the packets alone', async () => {
    expect(await cli!.stop()).toBe(0);
    const r = await runCli(['analyze', file, '--syn-flood', '100', '--time-wait-pileup', '0.05', '--close-wait-after', '1'], { timeoutMs: 60_000 });
    expect(r.code).toBe(0);
    const lines = r.stdout.slice(r.stdout.indexOf('diagnoses:')).split('\n');
    expect(lines.find((l) => l.includes('ERROR') && l.includes(`${SYNS} connection attempts to ${LISTEN_IP}:${floodPort}`))).toBeDefined();
    expect(lines.find((l) => l.includes(`${CONNECTIONS} connections from 127.0.0.1 to ${HOST}:${twPort} were in TIME_WAIT on the client at once, of 28232 ephemeral ports; new connections to it were about to find no free port`))).toBeDefined();
    expect(lines.find((l) => l.includes(`nothing listened on ${HOST}:${refusedPort}: 1 attempt refused`) && l.includes('accepted connections in the same capture'))).toBeDefined();
    expect(lines.find((l) => l.includes(`${HOST}:${holdPort} (the server) had not closed its side when the capture ended`))).toBeDefined();
  });
});
