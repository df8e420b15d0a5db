// The diagnoses analyze gives from the packets alone, on connections fed to the tracker.
import { describe, expect, it } from 'vitest';
import { Engine } from '../../src/ingest/engine';
import { DIAGNOSIS_KINDS } from '../../src/sockets/diagnose';
import { FileDiagnoser } from '../../src/sockets/diagnose-file';
import { makeSegment } from '../support/segments';

/** One connection the client (at `client`) closes first, from `port`, ending at `t`. */
function closed(e: Engine, port: number, t: number, isn = 100, client = '127.0.0.1'): void {
  const c = (flags: string, s: number, a: number) => makeSegment({ src: `${client}:${port}`, dst: '127.0.0.2:8080', flags, seq: s + isn - 100, ack: a });
  const s = (flags: string, q: number, a: number) => makeSegment({ src: '127.0.0.2:8080', dst: `${client}:${port}`, flags, seq: q, ack: a + isn - 100 });
  e.lastTs = t;
  e.tracker.process(c('S', 100, 0), t);
  e.tracker.process(s('SA', 500, 101), t);
  e.tracker.process(c('A', 101, 501), t);
  e.tracker.process(c('FA', 101, 501), t);
  e.tracker.process(s('FA', 501, 102), t);
  e.tracker.process(c('A', 102, 502), t);
}

describe('FileDiagnoser', () => {
  it('counts client ports in TIME_WAIT at once, a port used again ending its TIME_WAIT', () => {
    const e = new Engine({ timeouts: { synSent: 1e9, synReceived: 1e9, established: 1e9, finWait: 1e9, closeWait: 1e9, lastAck: 1e9, closedRetention: 0 } });
    const d = new FileDiagnoser(e.tracker, () => e.lastTs, 60_000, { ephemeralPorts: 16, timeWaitShare: 0.5 });
    // 10 ports within a second, then the first 5 again (reused while in TIME_WAIT), then 3 more after TIME_WAIT has ended for all
    for (let i = 0; i < 10; i++) closed(e, 50000 + i, 1_000 + i);
    for (let i = 0; i < 5; i++) closed(e, 50000 + i, 2_000 + i, 100_000);
    for (let i = 0; i < 3; i++) closed(e, 51000 + i, 200_000 + i);
    e.tracker.removeAll();
    const [tw] = d.diagnoses();
    expect(tw).toMatchObject({ kind: 'time-wait-pileup', evidence: { timeWaitPeak: 10, portsReusedInTimeWait: 5, ephemeralPorts: 16 } });
    expect(DIAGNOSIS_KINDS).toContain(tw.kind);
    expect(tw.text).toContain('10 connections from 127.0.0.1 to 127.0.0.2:8080 were in TIME_WAIT on the client at once, of 16 ephemeral ports; 5 connections already took a port still in TIME_WAIT');
    const none = new Engine();
    const quiet = new FileDiagnoser(none.tracker, () => none.lastTs, 60_000, { ephemeralPorts: 16, timeWaitShare: 0.7 });
    for (let i = 0; i < 10; i++) closed(none, 50000 + i, 1_000 + i);
    none.tracker.removeAll();
    expect(quiet.diagnoses()).toEqual([]);
  });

  it("names a diagnosis's newest 20 connections, newest first", () => {
    const e = new Engine({ timeouts: { synSent: 1e9, synReceived: 1e9, established: 1e9, finWait: 1e9, closeWait: 1e9, lastAck: 1e9, closedRetention: 0 } });
    const d = new FileDiagnoser(e.tracker, () => e.lastTs, 60_000, { ephemeralPorts: 16, timeWaitShare: 0.5 });
    const ids: string[] = [];
    e.tracker.onRemove((c) => ids.push(c.id));
    // fewer than 20 first, then past 20 by a few rounds of the newest ones
    for (let i = 0; i < 12; i++) closed(e, 50000 + i, 1_000 + i);
    e.tracker.removeAll();
    expect(d.diagnoses()[0].connections).toEqual([...ids].reverse());
    for (let i = 12; i < 57; i++) closed(e, 50000 + i, 1_000 + i);
    e.tracker.removeAll();
    expect(ids).toHaveLength(57);
    expect(d.diagnoses()[0].connections).toEqual(ids.slice(-20).reverse());
  });

  it('keeps the TIME_WAIT count of each client apart when their connections come in turns', () => {
    const e = new Engine({ timeouts: { synSent: 1e9, synReceived: 1e9, established: 1e9, finWait: 1e9, closeWait: 1e9, lastAck: 1e9, closedRetention: 0 } });
    const d = new FileDiagnoser(e.tracker, () => e.lastTs, 60_000, { ephemeralPorts: 16, timeWaitShare: 0.25 });
    const ids = new Map<string, string[]>();
    e.tracker.onRemove((c) => {
      if (!ids.has(c.client.ip)) ids.set(c.client.ip, []);
      ids.get(c.client.ip)!.push(c.id);
    });
    // A, B, A, B, …: 10 ports from A and 6 from B (A's last 4 in a row), then A takes 3 of its ports
    // again and B 2 of its, still in turns, while all are in TIME_WAIT
    for (let i = 0; i < 10; i++) {
      closed(e, 50000 + i, 1_000 + 2 * i, 100, '127.0.0.1');
      if (i < 6) closed(e, 50000 + i, 1_001 + 2 * i, 100, '127.0.0.3');
    }
    for (let i = 0; i < 3; i++) {
      closed(e, 50000 + i, 2_000 + 2 * i, 100_000, '127.0.0.1');
      if (i < 2) closed(e, 50000 + i, 2_001 + 2 * i, 100_000, '127.0.0.3');
    }
    e.tracker.removeAll();
    const tw = d.diagnoses().filter((x) => x.kind === 'time-wait-pileup');
    expect(tw).toHaveLength(2);
    const of = (client: string) => tw.find((x) => x.text.includes(`from ${client} to 127.0.0.2:8080`))!;
    expect(of('127.0.0.1')).toMatchObject({ evidence: { timeWaitPeak: 10, portsReusedInTimeWait: 3 } });
    expect(of('127.0.0.3')).toMatchObject({ evidence: { timeWaitPeak: 6, portsReusedInTimeWait: 2 } });
    expect(ids.get('127.0.0.1')).toHaveLength(13);
    expect(ids.get('127.0.0.3')).toHaveLength(8);
    expect(of('127.0.0.1').connections).toEqual([...ids.get('127.0.0.1')!].reverse());
    expect(of('127.0.0.3').connections).toEqual([...ids.get('127.0.0.3')!].reverse());
  });
});
