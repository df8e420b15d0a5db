// The /proc/net/tcp{,6} reader against lines the kernel writes, and against ss on the live tables.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { parseProcTcp } from '../../src/sockets/proc-tcp';
import { parseNetstat, parseStat } from '../../src/sockets/procfs';
import { parseSs } from '../../src/sockets/ss';

const HEADER = '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n';

describe('parseProcTcp', () => {
  it('reads addresses back to front per 32-bit word, state, queues, uid and inode', () => {
    const v4 =
      HEADER +
      '   0: 0100007F:1F90 00000000:0000 0A 00000000:00000003 00:00000000 00000000     0        0 4242 1 0000000000000000 100 0 0 10 0\n' +
      '   1: 0100007F:A3C2 0100007F:1F90 01 0000000A:00000014 00:00000000 00000000  1000        0 4343 1 0000000000000000 20 4 30 10 -1\n' +
      '   2: 0100007F:A3C4 0100007F:1F90 06 00000000:00000000 03:00001770 00000000     0        0 0 3 0000000000000000\n';
    const { sockets, badLines } = parseProcTcp(v4, 4);
    expect(badLines).toBe(0);
    expect(sockets[0]).toEqual({ family: 4, localIp: '127.0.0.1', localPort: 8080, remoteIp: '0.0.0.0', remotePort: 0, state: 'LISTEN', txQueue: 0, rxQueue: 3, uid: 0, inode: 4242 });
    expect(sockets[1]).toMatchObject({ localPort: 0xa3c2, remotePort: 8080, state: 'ESTABLISHED', txQueue: 10, rxQueue: 20, uid: 1000, inode: 4343 });
    expect(sockets[2]).toMatchObject({ state: 'TIME_WAIT', inode: 0 });
    const v6 =
      HEADER +
      '   0: 00000000000000000000000001000000:1F90 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 77 1\n' +
      '   1: 0000000000000000FFFF00000100007F:1F90 0000000000000000FFFF00000100007F:D431 08 00000000:00000005 00:00000000 00000000     0        0 78 1\n' +
      '   2: 000080FE00000000FF0200001E1100FE:0016 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 79 1\n';
    const six = parseProcTcp(v6, 6).sockets;
    expect(six.map((s) => [s.localIp, s.state])).toEqual([
      ['::1', 'LISTEN'],
      ['::ffff:127.0.0.1', 'CLOSE_WAIT'],
      ['fe80::2ff:fe00:111e', 'LISTEN'],
    ]);
  });

  it('skips lines of the wrong shape and counts them, never throws', () => {
    const r = parseProcTcp(HEADER + 'garbage\n   0: 0100007F:1F90 zz 0A\n\n   1: 0100007G:1F90 00000000:0000 0A 0:0 00:0 0 0 0 1 1\n', 4);
    expect(r).toEqual({ sockets: [], badLines: 3 });
    expect(parseProcTcp('', 4)).toEqual({ sockets: [], badLines: 0 });
  });

  it('agrees with ss on a listener and a connection of this process', async () => {
    const srv = net.createServer((s) => s.pause()).listen(0, '127.0.0.1');
    await new Promise((r) => srv.once('listening', r));
    const port = (srv.address() as net.AddressInfo).port;
    const c = net.connect(port, '127.0.0.1');
    await new Promise((r) => c.once('connect', r));
    try {
      // this test's three sockets only (another address may use the same port numbers meanwhile)
      const mine = (s: { localIp: string; localPort: number; remotePort: number }) =>
        s.localIp === '127.0.0.1' && ((s.localPort === port && (s.remotePort === 0 || s.remotePort === c.localPort)) || (s.localPort === c.localPort && s.remotePort === port));
      const rows = parseProcTcp(readFileSync('/proc/net/tcp', 'latin1'), 4).sockets.filter(mine);
      const ss = parseSs(execFileSync('ss', ['-Htane', `( sport = :${port} or dport = :${port} )`], { encoding: 'utf8' })).filter(mine);
      const key = (s: { inode: number; localIp: string; localPort: number; remoteIp: string; remotePort: number; state: string }) =>
        `${s.inode} ${s.localIp}:${s.localPort} ${s.remoteIp}:${s.remotePort} ${s.state}`;
      expect(new Set(rows.map(key))).toEqual(new Set(ss.map(key)));
      expect(rows.map((r) => r.state).sort()).toEqual(['ESTABLISHED', 'ESTABLISHED', 'LISTEN']);
    } finally {
      c.destroy();
      srv.close();
    }
  });
});

describe('procfs readers', () => {
  it('reads the start time after the last parenthesis (a command may contain ") ")', () => {
    const fields = Array.from({ length: 50 }, (_, i) => String(i + 3));
    expect(parseStat(`4242 (evil) (name) ${fields.join(' ')}`)).toEqual({ comm: 'evil) (name', startTime: 22 });
    expect(parseStat('garbage')).toBeNull();
  });

  it('reads TcpExt counters from netstat', () => {
    const t = 'TcpExt: SyncookiesSent ListenOverflows ListenDrops\nTcpExt: 1 2 3\nIpExt: InNoRoutes\nIpExt: 9\n';
    expect(parseNetstat(t)).toEqual({ SyncookiesSent: 1, ListenOverflows: 2, ListenDrops: 3 });
    expect(parseNetstat(readFileSync('/proc/net/netstat', 'latin1'))).toHaveProperty('ListenOverflows');
  });

  it('reads tcp_info lines of ss', () => {
    const rows = parseSs(
      'ESTAB 0 7 127.0.0.1:1 127.0.0.1:2 uid:1000 ino:5 sk:1 <->\n\t cubic wscale:7,7 rto:201 rtt:0.04/0.02 mss:32768 cwnd:10 retrans:0/3 bytes_sent:1\n' +
        'LISTEN 2 511 [::]:80 [::]:* ino:9 sk:2\n' +
        'TIME-WAIT 0 0 [::ffff:127.0.0.1]:3 [fe80::1]%lo:4 timer:(timewait,1ms,0) ino:0 sk:3\n' +
        'garbage line\n',
    );
    expect(rows[0]).toEqual({
      family: 4, localIp: '127.0.0.1', localPort: 1, remoteIp: '127.0.0.1', remotePort: 2, state: 'ESTABLISHED', txQueue: 7, rxQueue: 0, uid: 1000, inode: 5,
      recvQ: 0, sendQ: 7, info: { srttMs: 0.04, rttVarMs: 0.02, retrans: 0, retransTotal: 3, cwnd: 10 },
    });
    expect(rows[1]).toMatchObject({ family: 6, localIp: '::', localPort: 80, state: 'LISTEN', rxQueue: 2, sendQ: 511, txQueue: 0, inode: 9 });
    expect(rows[2]).toMatchObject({ family: 6, localIp: '::ffff:127.0.0.1', remoteIp: 'fe80::1', remotePort: 4, state: 'TIME_WAIT', inode: 0 });
    expect(rows).toHaveLength(3);
    // one state asked for: ss leaves the State column out
    expect(parseSs('0 0 127.0.0.1:5 127.0.0.1:6 timer:(timewait,42sec,0) ino:0 sk:1\n', 'TIME_WAIT')).toMatchObject([{ state: 'TIME_WAIT', localPort: 5, remotePort: 6 }]);
  });
});
