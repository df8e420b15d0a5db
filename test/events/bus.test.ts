// The event bus carries the tracker's events as records read in place: every listener reads the
// same values the event's object has, the object is built only for a listener that asks (once per
// event, the same for all of them), sequence numbers run on, and a throwing listener is counted
// and skipped.
import { describe, expect, it, vi } from 'vitest';
import { EventBus } from '../../src/events/bus';
import type { EventRecord, TcpEvent } from '../../src/events/types';
import { Tracker } from '../../src/track/tracker';
import { feed } from '../support/segments';
import { EventCursor, FL, N } from '../../src/track/record';
import { conv, handshake } from '../track/helpers';

const T0 = 1_000_000;

/** The fields of a record, in the object's shape (without a connection event's connection). */
function fieldsOf(r: EventRecord): Record<string, unknown> {
  const o: Record<string, unknown> = { type: r.type, connectionId: r.connectionId, ts: r.ts };
  for (const k of ['side', 'from', 'to', 'phase', 'kind', 'rttMs', 'synToSynAckMs', 'synAckToAckMs', 'detail'] as const) {
    if (r[k] !== undefined) o[k] = r[k];
  }
  if (r.type === 'state') o.cause = r.hasCause ? { flags: r.causeFlags, seq: r.causeSeq, ack: r.causeAck, len: r.causeLen } : null;
  return o;
}

function objectFields(e: TcpEvent): Record<string, unknown> {
  const o: Record<string, unknown> = { ...e };
  delete o.connection;
  return o;
}

/** A tracker feeding a bus as live does, and the same events as objects from an onEvent sink. */
function wired(): { tracker: Tracker; bus: EventBus; objects: TcpEvent[] } {
  const tracker = new Tracker();
  const objects: TcpEvent[] = [];
  tracker.onEvent((e) => objects.push(e));
  const bus = new EventBus();
  tracker.onEventRecord(bus.publishRecord);
  return { tracker, bus, objects };
}

const traffic = () => {
  const c = conv();
  const d = conv(7000, 9000, '10.0.0.1:40001');
  const r = conv(1, 2, '10.0.0.1:40002');
  return [...handshake(c), c.c('PA', { len: 10 }), c.s('A'), ...handshake(d), c.c('FA'), c.s('FA'), c.c('A'), d.c('R'), r.c('S'), r.s('RA')];
};

describe('EventBus', () => {
  it('hands every listener the tracker’s events in place, numbered in order: a handshake, a close by FINs and a refused connection', () => {
    const tracker = new Tracker();
    const bus = new EventBus();
    tracker.onEventRecord(bus.publishRecord);
    const seen: string[] = [];
    const times: (number | undefined)[][] = [];
    const conns: string[] = [];
    bus.subscribe((seq, e) => {
      const cause = e.hasCause ? `${e.causeFlags} ${e.causeSeq} ${e.causeAck} ${e.causeLen}` : '-';
      const what = [e.side, e.from && `${e.from}>${e.to}`, e.phase, e.kind].filter((x) => x !== undefined).join(' ');
      seen.push(`${seq} ${e.connectionId} +${e.ts - T0} ${e.type} ${what} / ${cause}`);
      if (e.type === 'handshake') times.push([e.rttMs, e.synToSynAckMs, e.synAckToAckMs]);
      const f = e.connection();
      if (f !== null) conns.push(`${e.phase} port ${f.num[N.port0]} ${(f.flags & FL.CLOSED) !== 0 ? 'closed' : 'open'}${(f.flags & FL.PARTIAL) !== 0 ? ' partial' : ''}`);
    });
    const c = conv();
    const r = conv(1, 2, '10.0.0.1:40002');
    feed(tracker, [...handshake(c), c.c('FA'), c.s('FA'), c.c('A'), r.c('S'), r.s('RA')], T0);
    // one segment a millisecond; each event's cause is the segment that made it (flags, seq, ack, len)
    expect(seen).toEqual([
      '1 1 +0 connection opened / S 1000 0 0',
      '2 1 +0 state client CLOSED>SYN_SENT / S 1000 0 0',
      '3 1 +0 handshake syn / S 1000 0 0',
      '4 1 +1 state server LISTEN>SYN_RECEIVED / SA 5000 1001 0',
      '5 1 +1 state client SYN_SENT>ESTABLISHED / SA 5000 1001 0',
      '6 1 +1 handshake syn-ack / SA 5000 1001 0',
      '7 1 +2 state server SYN_RECEIVED>ESTABLISHED / A 1001 5001 0',
      '8 1 +2 handshake established / A 1001 5001 0',
      '9 1 +3 state client ESTABLISHED>FIN_WAIT_1 / FA 1001 5001 0',
      '10 1 +3 teardown client fin fin / FA 1001 5001 0',
      '11 1 +3 state server ESTABLISHED>CLOSE_WAIT / FA 1001 5001 0',
      '12 1 +4 state server CLOSE_WAIT>LAST_ACK / FA 5001 1002 0',
      '13 1 +4 teardown server fin fin / FA 5001 1002 0',
      '14 1 +4 state client FIN_WAIT_1>FIN_WAIT_2 / FA 5001 1002 0',
      '15 1 +4 state client FIN_WAIT_2>TIME_WAIT / FA 5001 1002 0',
      '16 1 +5 state server LAST_ACK>CLOSED / A 1002 5002 0',
      '17 1 +5 teardown closed fin / A 1002 5002 0',
      '18 1 +5 connection closed / A 1002 5002 0',
      '19 2 +6 connection opened / S 1 0 0',
      '20 2 +6 state client CLOSED>SYN_SENT / S 1 0 0',
      '21 2 +6 handshake syn / S 1 0 0',
      '22 2 +7 state client SYN_SENT>CLOSED / RA 2 2 0',
      '23 2 +7 refused  / RA 2 2 0',
      '24 2 +7 teardown closed rst / RA 2 2 0',
      '25 2 +7 connection closed / RA 2 2 0',
    ]);
    // rttMs, synToSynAckMs, synAckToAckMs: none at the SYN, SYN→SYN-ACK at the SYN-ACK, all three once established
    expect(times).toEqual([
      [undefined, undefined, undefined],
      [undefined, 1, undefined],
      [2, 1, 1],
      [undefined, undefined, undefined],
    ]);
    // a connection event's connection is read from the store
    expect(conns).toEqual(['opened port 40000 open', 'closed port 40000 closed', 'opened port 40002 open', 'closed port 40002 closed']);
    expect(bus.lastSeq).toBe(25);
  });

  it('builds an event’s object only for a listener that asks, once for all of them, equal to onEvent’s', () => {
    const { tracker, bus, objects } = wired();
    const a: TcpEvent[] = [];
    const b: TcpEvent[] = [];
    bus.subscribe(() => {});
    bus.subscribe((_seq, e) => a.push(e.event()));
    bus.subscribe((_seq, e) => b.push(e.event()));
    feed(tracker, traffic());
    expect(a).toEqual(objects);
    a.forEach((e, i) => expect(b[i]).toBe(e));
    const closed = a.find((e) => e.type === 'connection' && e.phase === 'closed');
    expect(closed).toMatchObject({ connection: { status: 'closed', client: { ip: '10.0.0.1', port: 40000 } } });
  });

  it('builds no object for listeners that do not ask, and one an event for listeners that do', () => {
    const build = vi.spyOn(EventCursor.prototype, 'build');
    try {
      const quiet = new Tracker();
      const qbus = new EventBus();
      quiet.onEventRecord(qbus.publishRecord);
      qbus.subscribe((_seq, e) => void e.type);
      feed(quiet, traffic());
      expect(qbus.lastSeq).toBe(38);
      expect(build).not.toHaveBeenCalled();

      const asking = new Tracker();
      const abus = new EventBus();
      asking.onEventRecord(abus.publishRecord);
      abus.subscribe((_seq, e) => void e.event());
      abus.subscribe((_seq, e) => void e.event());
      feed(asking, traffic());
      expect(abus.lastSeq).toBe(38);
      expect(build).toHaveBeenCalledTimes(38);
    } finally {
      build.mockRestore();
    }
  });

  it('reads an event given as an object the same way, and gives that object back', () => {
    const bus = new EventBus();
    const got: { seq: number; fields: Record<string, unknown>; same: boolean }[] = [];
    const events: TcpEvent[] = [
      { type: 'anomaly', connectionId: 'x"y', ts: 1.5, kind: 'gap', side: 'server', detail: 'd' },
      { type: 'state', connectionId: '7', ts: 2, side: 'client', from: 'SYN_SENT', to: 'ESTABLISHED', cause: { flags: 'SA', seq: 4294967295, ack: 1, len: 0 } },
      { type: 'handshake', connectionId: '7', ts: 3, phase: 'established', rttMs: 0.25, synToSynAckMs: 0.125 },
      { type: 'teardown', connectionId: '7', ts: 4, phase: 'closed', kind: 'rst' },
    ];
    bus.subscribe((seq, e) => got.push({ seq, fields: fieldsOf(e), same: events.includes(e.event()) }));
    for (const e of events) bus.publish(e);
    expect(got.map((g) => g.seq)).toEqual([1, 2, 3, 4]);
    expect(got.map((g) => g.fields)).toEqual(events.map(objectFields));
    expect(got.every((g) => g.same)).toBe(true);
  });

  it('counts and skips a listener that throws; the others and the numbering go on', () => {
    const { tracker, bus, objects } = wired();
    const after: number[] = [];
    bus.subscribe(() => {
      throw new Error('a bug in a consumer');
    });
    bus.subscribe((seq) => after.push(seq));
    feed(tracker, traffic());
    expect(bus.listenerErrors).toBe(objects.length);
    expect(after).toEqual(objects.map((_, i) => i + 1));
  });
});
