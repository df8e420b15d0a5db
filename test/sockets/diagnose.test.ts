// The diagnoses that need many connections (a SYN flood, a TIME_WAIT pile-up) and the kernel
// disagreement, from connection views as the tracker hands them out.
import { describe, expect, it } from 'vitest';
import { diagnose, DEFAULT_DIAGNOSE, DIAGNOSIS_KINDS, type DiagnoseInput } from '../../src/sockets/diagnose';
import type { ConnectionView } from '../../src/track/connection';
import { Engine } from '../../src/ingest/engine';
import { ConnFields } from '../../src/track/record';
import { ViewSource } from '../../src/track/view-source';
import { makeSegment } from '../support/segments';

// each view read as its fields, as the socket watch reads the tracker's table
const fields = new ConnFields();
const source = new ViewSource();
const input = (connections: ConnectionView[], extra: Partial<DiagnoseInput> = {}): DiagnoseInput => ({
  now: Date.now(),
  connections: (visit) => {
    for (const c of connections) {
      source.of(c).fill(fields);
      visit(fields);
    }
  },
  index: null,
  closeWaitSince: { client: new Map(), server: new Map() },
  counterRise: {},
  disagreements: [],
  ...extra,
});

describe('diagnose', () => {
  it('reports half-open connections to one port past the threshold as a SYN flood, with SYN cookies', () => {
    const e = new Engine();
    for (let i = 0; i < 12; i++) {
      e.tracker.process(makeSegment({ src: `10.0.0.${i}:${40000 + i}`, dst: '10.9.9.9:80', flags: 'S', seq: 1 }), 1000 + i);
      e.tracker.process(makeSegment({ src: '10.9.9.9:80', dst: `10.0.0.${i}:${40000 + i}`, flags: 'SA', seq: 7, ack: 2 }), 1000.5 + i);
    }
    const d = diagnose(input(e.tracker.list(), { counterRise: { SyncookiesSent: 3 } }), { ...DEFAULT_DIAGNOSE, synFlood: 10 });
    expect(d).toHaveLength(1);
    expect(d[0]).toMatchObject({ kind: 'syn-flood', listener: { ip: '10.9.9.9', port: 80 }, evidence: { halfOpen: 12, sources: 12, syncookiesSentRise: 3 } });
    expect(d[0].text).toContain('12 half-open connections to 10.9.9.9:80 from 12 addresses');
    expect(diagnose(input(e.tracker.list()), { ...DEFAULT_DIAGNOSE, synFlood: 13 })).toEqual([]);
  });

  it('reports a local client with most of its ephemeral ports to one server in TIME_WAIT', () => {
    const e = new Engine();
    const ids: string[] = [];
    e.tracker.onEvent((ev) => {
      if (ev.type === 'connection' && ev.phase === 'opened') ids.push(ev.connectionId);
    });
    const seq = (flags: string, from: 'c' | 's', p: number, s: number, a: number) =>
      from === 'c'
        ? makeSegment({ src: `127.0.0.1:${p}`, dst: '127.0.0.2:8080', flags, seq: s, ack: a })
        : makeSegment({ src: '127.0.0.2:8080', dst: `127.0.0.1:${p}`, flags, seq: s, ack: a });
    for (let p = 50000; p < 50010; p++) {
      const t = p;
      e.tracker.process(seq('S', 'c', p, 100, 0), t);
      e.tracker.process(seq('SA', 's', p, 500, 101), t);
      e.tracker.process(seq('A', 'c', p, 101, 501), t);
      e.tracker.process(seq('FA', 'c', p, 101, 501), t);
      e.tracker.process(seq('FA', 's', p, 501, 102), t);
      e.tracker.process(seq('A', 'c', p, 102, 502), t);
    }
    for (const id of ids) e.tracker.annotate(id, 'client', { process: { pid: 7, command: 'curl', cmdline: 'curl x', user: 'root', netns: 1, fd: 3, via: 'socket' } });
    const conns = e.tracker.list();
    expect(conns.every((c) => c.client.state === 'TIME_WAIT')).toBe(true);
    const [d] = diagnose(input(conns), { ...DEFAULT_DIAGNOSE, ephemeralPorts: 16, timeWaitShare: 0.5 });
    expect(d).toMatchObject({ kind: 'time-wait-pileup', evidence: { timeWait: 10, ephemeralPorts: 16 } });
    expect(d.text).toContain('10 connections from 127.0.0.1 to 127.0.0.2:8080 wait in TIME_WAIT, of 16 ephemeral ports');
    expect(d.text).toContain('`curl x` (pid 7, root)');
    // a client that is not local is not ours to run out of ports
    for (const id of ids) e.tracker.annotate(id, 'client', { process: null, processReason: 'not-local' });
    expect(diagnose(input(e.tracker.list()), { ...DEFAULT_DIAGNOSE, ephemeralPorts: 16 })).toEqual([]);
  });

  it('says the kernel disagreed, and that packets were lost or filtered', () => {
    const [d] = diagnose(input([], { disagreements: [{ connectionId: '4', side: 'server', inferred: 'ESTABLISHED', kernel: 'GONE', at: 1 }] }));
    expect(d.kind).toBe('kernel-disagreement');
    expect(DIAGNOSIS_KINDS).toContain(d.kind);
    expect(d.text).toContain('the server of connection 4 is ESTABLISHED by its packets, GONE in the kernel');
    expect(d.connections).toEqual(['4']);
  });
});
