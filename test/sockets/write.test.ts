// `tcpscope live -w FILE`: what it writes opens in tshark with the packets tcpdump captured beside
// it (count and bytes), carries each packet's process in a comment, and replays with the owners of
// the real processes that made the traffic.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildOnce, runCli, startCli, type RunningCli } from '../cli/support';
import { startTool, tcpdumpSpec, type RunningTool } from '../support/captures';
import { needs, root, tool } from '../support/skip';
import { tempDir } from '../support/temp';
import { startProc, word, type Proc } from './procs';

/** Echoes what it gets and closes when its peer does. */
const ECHO_SERVER = `
const net = require('net');
const srv = net.createServer((s) => { s.on('data', (d) => s.write(d)); s.on('end', () => s.end()); });
srv.listen({ host: process.argv[1], port: 0 }, () => console.log('ready ' + srv.address().port));
`;

/** Talks for about four seconds (a line every 100 ms; a new process is named at the next full fd scan, at most 2 s apart), then closes and exits. */
const TALKER = `
const net = require('net');
const c = net.connect({ host: process.argv[1], port: Number(process.argv[2]) }, () => {
  console.log('ready ' + c.localPort);
  let n = 0;
  const t = setInterval(() => { c.write('ping ' + n + '\\n'); if (++n === 40) { clearInterval(t); c.end(); } }, 100);
});
c.on('data', () => {});
c.on('close', () => { console.log('done'); process.exit(0); });
`;

const HOST = `127.78.${1 + Math.floor(Math.random() * 254)}.${1 + Math.floor(Math.random() * 254)}`;

const tshark = (file: string, field: string) =>
  execFileSync('tshark', ['-r', file, '-T', 'fields', '-e', field], { encoding: 'utf8', maxBuffer: 64 << 20 }).split('\n').slice(0, -1);

describe('tcpscope live -w', needs(root(), tool('tshark'), tool('tcpdump')), () => {
  const procs: Proc[] = [];
  let cli: RunningCli | null = null;
  let ref: RunningTool | null = null;
  const dir = tempDir();
  const out = path.join(dir, 'live.pcapng');
  const truth = path.join(dir, 'tcpdump.pcap');
  let server: Proc;
  let client: Proc;
  let port = 0;
  let cport = 0;

  beforeAll(async () => {
    await buildOnce();
    server = startProc(process.execPath, ['-e', ECHO_SERVER, HOST]);
    procs.push(server);
    port = word(await server.line('ready'), 1);
    const spec = tcpdumpSpec('tcpdump', truth, { nano: true });
    ref = startTool('tcpdump', spec.cmd, spec.args(`tcp port ${port}`));
    cli = await startCli(['live', '-p', String(port), '-w', out, '--listen', '127.0.0.1:0']);
    // tcpdump is listening once it says so
    for (let i = 0; i < 100 && !/listening on/.test(ref.stderr()); i++) await new Promise((r) => setTimeout(r, 50));
    client = startProc(process.execPath, ['-e', TALKER, HOST, String(port)]);
    procs.push(client);
    cport = word(await client.line('ready'), 1);
    await client.line('done', 20_000);
    await new Promise((r) => setTimeout(r, 500));
    expect(await cli.stop()).toBe(0);
    await ref.stop();
  }, 90_000);

  afterAll(async () => {
    for (const p of procs) p.stop();
    await cli?.stop();
    await ref?.stop();
  });

  it('opens in tshark with the packets tcpdump captured beside it', () => {
    const ours = tshark(out, 'frame.len').map(Number);
    const theirs = tshark(truth, 'frame.len').map(Number);
    expect(ours.length).toBeGreaterThan(40);
    expect(ours.length).toBe(theirs.length);
    expect(ours.reduce((a, b) => a + b, 0)).toBe(theirs.reduce((a, b) => a + b, 0));
    // the same packets in the same order
    const seq = (f: string) => tshark(f, 'tcp.seq_raw').join(',');
    expect(seq(out)).toBe(seq(truth));
    expect(cli!.stderr()).toMatch(new RegExp(`wrote ${ours.length} packets to`));
  });

  it('carries the process of each packet in a comment tshark shows', () => {
    const comments = tshark(out, 'frame.comment').filter((c) => c !== '');
    expect(comments.some((c) => c.includes(`PID: ${client.pid}`))).toBe(true);
    expect(comments.some((c) => c.includes(`PID: ${server.pid}`))).toBe(true);
  });

  it('replays with the owners of the processes that made the traffic', async () => {
    const r = await runCli(['analyze', '--format', 'jsonl', out]);
    expect(r.code).toBe(0);
    const rows = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    const c = rows.find((x) => x.client.port === cport && x.server.port === port);
    expect(c.connState).toBe('SF');
    expect(c.client.process).toMatchObject({ pid: client.pid, command: 'node', via: 'comment', user: 'root' });
    expect(c.client.process.cmdline).toContain('ping');
    expect(c.server.process).toMatchObject({ pid: server.pid, command: 'node', via: 'comment' });
  });
});
