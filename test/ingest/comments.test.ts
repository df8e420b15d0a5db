// Capture files whose packets name their process in a pcapng comment, as ptcpdump writes them
// ("PID: n\nCmd: …\nArgs: …", flagged inbound or outbound) and as RustNet's pcap_enrich.py does
// ("PID:n Process:name"): replay and analyze name the endpoints from them.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseProcessComment, processComments } from '../../src/ingest/comments';
import { buildOnce, runCli } from '../cli/support';
import { rawTcp as tcp, writePcapng, type NgBlockSpec } from '../support/captures';
import { tempDir } from '../support/temp';

const SYN = 0x02;
const ACK = 0x10;
const PSH = 0x08;
const FIN = 0x01;

const CURL = 'PID: 4242\nCmd: /usr/bin/curl\nArgs: curl -s http://10.0.0.2/';
const NGINX = ['PID: 777\nCmd: /usr/sbin/nginx\nArgs: nginx: worker process', 'UserId: 33\nGroupId: 33', 'ParentPID: 1\nParentCmd: /sbin/init\nParentArgs: /sbin/init'];
const OUT = 2;
const IN = 1;

/** One connection 10.0.0.1:40000 → 10.0.0.2:80 as the client host's ptcpdump sees it, and one that RustNet annotated. */
function ptcpdumpFile(): Buffer {
  const c = '10.0.0.1';
  const s = '10.0.0.2';
  let t = 1_700_000_000_000_000n;
  const p = (data: Buffer, comments?: string[], flags?: number): NgBlockSpec => ({ kind: 'epb', iface: 0, units: (t += 1000n), data, comments, flags });
  const req = Buffer.from('GET / HTTP/1.0\r\n\r\n');
  return writePcapng([
    {
      blocks: [
        { kind: 'idb', linkType: 101 },
        // ptcpdump on the client: its own packets outbound, the server's inbound to curl
        p(tcp(c, 40000, s, 80, SYN, 100, 0), [CURL], OUT),
        p(tcp(s, 80, c, 40000, SYN | ACK, 500, 101), [CURL], IN),
        p(tcp(c, 40000, s, 80, ACK, 101, 501), [CURL], OUT),
        p(tcp(c, 40000, s, 80, PSH | ACK, 101, 501, req), [CURL], OUT),
        // the same host's server side, seen on its way out: nginx answers
        p(tcp(s, 80, c, 40000, PSH | ACK, 501, 101 + req.length, Buffer.from('HTTP/1.0 200 OK\r\n\r\n')), NGINX, OUT),
        p(tcp(c, 40000, s, 80, FIN | ACK, 101 + req.length, 520), [CURL], OUT),
        p(tcp(s, 80, c, 40000, FIN | ACK, 520, 102 + req.length), NGINX, OUT),
        p(tcp(c, 40000, s, 80, ACK, 102 + req.length, 521), [CURL], OUT),
        // RustNet's annotation (no direction): the sender
        p(tcp(c, 40001, s, 443, SYN, 7, 0), ['PID:1234 Process:firefox']),
        p(tcp(s, 443, c, 40001, SYN | ACK, 9, 8)),
        p(tcp(c, 40001, s, 443, ACK, 8, 10), ['PID:1234 Process:firefox']),
        // a comment that names no process
        p(tcp(c, 40002, s, 22, SYN, 1, 0), ['retransmission seen by the analyst']),
      ],
    },
  ]);
}

describe('process comments', () => {
  it('reads ptcpdump and RustNet comments, never ParentPID as the pid', () => {
    expect(parseProcessComment(NGINX)).toEqual({ pid: 777, command: 'nginx', cmdline: 'nginx: worker process', user: '33' });
    expect(parseProcessComment(['ParentPID: 1\nParentCmd: /sbin/init'])).toBeNull();
    expect(parseProcessComment(['PID:1234 Process:firefox'])).toEqual({ pid: 1234, command: 'firefox', cmdline: 'firefox', user: null });
    expect(parseProcessComment(['a note'])).toBeNull();
    const mine = processComments({ pid: 9, command: 'node', cmdline: 'node server.js\n--x', user: 'www' });
    expect(mine[0]).toBe('PID: 9\nCmd: node\nArgs: node server.js --x');
    expect(parseProcessComment(mine)).toEqual({ pid: 9, command: 'node', cmdline: 'node server.js --x', user: 'www' });
  });
});

describe('replay and analyze name endpoints from pcapng comments', () => {
  let file = '';
  beforeAll(async () => {
    await buildOnce();
    file = path.join(tempDir(), 'ptcpdump.pcapng');
    writeFileSync(file, ptcpdumpFile());
  }, 120_000);

  it('analyze --format jsonl carries the owners, marked as read from the file', async () => {
    const r = await runCli(['analyze', '--format', 'jsonl', file]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const rows = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    const http = rows.find((x) => x.server.port === 80);
    expect(http.client.process).toEqual({ pid: 4242, command: 'curl', cmdline: 'curl -s http://10.0.0.2/', user: null, netns: null, fd: null, via: 'comment' });
    expect(http.server.process).toMatchObject({ pid: 777, command: 'nginx', user: '33', via: 'comment' });
    const tls = rows.find((x) => x.server.port === 443);
    expect(tls.client.process).toMatchObject({ pid: 1234, command: 'firefox', via: 'comment' });
    expect(tls.server.process).toBeUndefined();
    const ssh = rows.find((x) => x.server.port === 22);
    expect(ssh.client.process).toBeUndefined();
  });

  it('the reader thread carries the comments too', async () => {
    const r = await runCli(['analyze', '--format', 'jsonl', '--read-thread', 'on', file]);
    expect(r.code).toBe(0);
    const rows = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    const http = rows.find((x) => x.server.port === 80);
    expect(http.client.process).toMatchObject({ pid: 4242, via: 'comment' });
    expect(http.server.process).toMatchObject({ pid: 777, via: 'comment' });
    expect(rows.find((x) => x.server.port === 443).client.process).toMatchObject({ pid: 1234 });
  });

  it('the table names them too', async () => {
    const r = await runCli(['analyze', file]);
    expect(r.code).toBe(0);
    const line = r.stdout.split('\n').find((l) => l.includes(':80 '))!;
    expect(line).toContain('client curl (pid 4242)');
    expect(line).toContain('server nginx (pid 777)');
  });

  it('replay serves them on /api/connections', async () => {
    const r = await runCli(['replay', file, '--exit', '--no-server', '--jsonl']);
    expect(r.code).toBe(0);
    const closed = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .filter((e) => e.type === 'connection' && e.phase === 'closed' && e.connection.server.port === 80);
    expect(closed[0].connection.client.process.pid).toBe(4242);
    expect(closed[0].connection.server.process.pid).toBe(777);
  });
});
