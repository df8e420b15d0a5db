// The diagnoses read from the tracker's store (as the socket watch reads them, IPv4 endpoints as
// numbers) equal those read from the connection views (every endpoint as text).
import { describe, expect, it } from 'vitest';
import { diagnose, DEFAULT_DIAGNOSE, DIAGNOSED, type DiagnoseInput } from '../../src/sockets/diagnose';
import { SocketIndex } from '../../src/sockets/attribute';
import type { ScannedSocket } from '../../src/sockets/scan';
import { scanResult } from './scan-result';
import { Engine } from '../../src/ingest/engine';
import { ConnFields } from '../../src/track/record';
import { ViewSource } from '../../src/track/view-source';
import { makeSegment } from '../support/segments';

const ep = (ip: string, port: number) => (ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`);

/** Refused, half-open, SYN_SENT and TIME_WAIT connections over IPv4 and IPv6, several ports and addresses. */
function build(): Engine {
  const e = new Engine();
  const t = e.tracker;
  const ids: string[] = [];
  t.onEvent((ev) => {
    if (ev.type === 'connection' && ev.phase === 'opened') ids.push(ev.connectionId);
  });
  let ts = 1000;
  let port = 40000;
  const seg = (src: string, dst: string, flags: string, seq: number, ack = 0) => t.process(makeSegment({ src, dst, flags, seq, ack }), ts++);
  for (const [client, server] of [
    ['10.0.0.1', '10.9.9.9'],
    ['10.0.0.2', '10.9.9.8'],
    ['fd00::1', 'fd00::9'],
    ['fd00::2', 'fd00::8'],
  ]) {
    for (const sp of [80, 81]) {
      for (let k = 0; k < 3; k++) {
        // refused
        const c1 = ep(client, port++);
        seg(c1, ep(server, sp + 1000), 'S', 10);
        seg(ep(server, sp + 1000), c1, 'RA', 0, 11);
        // half-open: the server answered, no final ACK
        const c2 = ep(client, port++);
        seg(c2, ep(server, sp), 'S', 20);
        seg(ep(server, sp), c2, 'SA', 70, 21);
        // SYN_SENT: no answer (to the listener whose accept queue is full)
        seg(ep(client, port++), ep(server, 9000), 'S', 30);
        // TIME_WAIT on the client
        const c4 = ep(client, port++);
        const s4 = ep(server, sp + 2000);
        seg(c4, s4, 'S', 100);
        seg(s4, c4, 'SA', 500, 101);
        seg(c4, s4, 'A', 101, 501);
        seg(c4, s4, 'FA', 101, 501);
        seg(s4, c4, 'FA', 501, 102);
        seg(c4, s4, 'A', 102, 502);
      }
    }
  }
  const process = { pid: 7, command: 'curl', cmdline: 'curl x', user: 'root', netns: 1, fd: 3, via: 'socket' as const };
  for (const id of ids) t.annotate(id, 'client', { process });
  return e;
}

function listener(ip: string, port: number, rxQueue: number): ScannedSocket {
  const family = ip.includes(':') ? 6 : 4;
  return { family, localIp: ip, localPort: port, remoteIp: family === 6 ? '::' : '0.0.0.0', remotePort: 0, state: 'LISTEN', txQueue: 128, rxQueue, uid: 0, inode: port, netns: 1, owners: [{ pid: 1, fd: 3 }], backlog: 128, info: null } as ScannedSocket;
}

function index(): SocketIndex {
  return new SocketIndex(
    scanResult([listener('0.0.0.0', 9000, 128), listener('::', 9000, 128), listener('0.0.0.0', 1080, 0)]),
    ['10.0.0.1', '10.0.0.2', 'fd00::1', 'fd00::2'],
  );
}

describe('diagnose from the store', () => {
  it('gives the same diagnoses from the tracker records as from the views, IPv4 and IPv6', () => {
    const e = build();
    const base = { now: 2000, index: index(), closeWaitSince: { client: new Map(), server: new Map() }, counterRise: { ListenOverflows: 2 }, disagreements: [] };
    const fields = new ConnFields();
    const fromStore: DiagnoseInput = {
      ...base,
      connections: (visit) =>
        e.tracker.eachRecord((r) => {
          r.fill(fields);
          visit(fields);
        }),
    };
    const source = new ViewSource();
    const views = e.tracker.list();
    const fromViews: DiagnoseInput = {
      ...base,
      connections: (visit) => {
        for (const c of views) {
          source.of(c).fill(fields);
          visit(fields);
        }
      },
    };
    // the store path reads IPv4 endpoints as numbers, the views' path as text
    let v4 = 0;
    fromStore.connections((c) => (v4 += c.ip4[0] >= 0 ? 1 : 0));
    expect(v4).toBe(views.length / 2);
    fromViews.connections((c) => expect(c.ip4[0]).toBe(-1));

    const o = { ...DEFAULT_DIAGNOSE, synFlood: 3, ephemeralPorts: 8, timeWaitShare: 0.25 };
    const a = diagnose(fromStore, o);
    const b = diagnose(fromViews, o);
    expect(a).toEqual(b);
    // the walk the socket watch makes: only the connections a diagnosis can name
    const only: DiagnoseInput = {
      ...fromStore,
      connections: (visit) =>
        e.tracker.eachRecordOf(DIAGNOSED, (r) => {
          r.fill(fields, false);
          visit(fields);
        }),
    };
    expect(diagnose(only, o)).toEqual(a);
    const kinds = (d: typeof a) => d.map((x) => `${x.kind} ${x.listener ? ep(x.listener.ip, x.listener.port) : ''}`).sort();
    expect(kinds(a)).toMatchInlineSnapshot(`
      [
        "accept-queue-full 0.0.0.0:9000",
        "accept-queue-full [::]:9000",
        "refused 10.9.9.8:1080",
        "refused 10.9.9.8:1081",
        "refused 10.9.9.9:1080",
        "refused 10.9.9.9:1081",
        "refused [fd00::8]:1080",
        "refused [fd00::8]:1081",
        "refused [fd00::9]:1080",
        "refused [fd00::9]:1081",
        "syn-flood 10.9.9.8:80",
        "syn-flood 10.9.9.8:81",
        "syn-flood 10.9.9.8:9000",
        "syn-flood 10.9.9.9:80",
        "syn-flood 10.9.9.9:81",
        "syn-flood 10.9.9.9:9000",
        "syn-flood [fd00::8]:80",
        "syn-flood [fd00::8]:81",
        "syn-flood [fd00::8]:9000",
        "syn-flood [fd00::9]:80",
        "syn-flood [fd00::9]:81",
        "syn-flood [fd00::9]:9000",
        "time-wait-pileup ",
        "time-wait-pileup ",
        "time-wait-pileup ",
        "time-wait-pileup ",
        "time-wait-pileup ",
        "time-wait-pileup ",
        "time-wait-pileup ",
        "time-wait-pileup ",
      ]
    `);
  });
});
