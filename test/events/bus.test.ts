// The event bus carries the tracker's events as records read in place: every listener reads the
// same values the event's object has, the object is built only for a listener that asks (once per
// event, the same for all of them), sequence numbers run on, and a throwing listener is counted
// and skipped.
import { describe, expect, it } from 'vitest';
import { EventBus } from '../../src/events/bus';
import type { EventRecord, TcpEvent } from '../../src/events/types';
import { Tracker } from '../../src/track/tracker';
import { feed } from '../support/segments';
import { conv, handshake } from '../track/helpers';

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
  it('hands every listener the tracker’s events in place, with the values of their objects, numbered in order', () => {
    const { tracker, bus, objects } = wired();
    const seen: { seq: number; fields: Record<string, unknown>; partial: boolean | null }[] = [];
    bus.subscribe((seq, e) => {
      const f = e.connection();
      seen.push({ seq, fields: fieldsOf(e), partial: f === null ? null : (f.flags & 1) !== 0 });
    });
    feed(tracker, traffic());
    expect(objects.length).toBeGreaterThan(20);
    expect(seen.map((s) => s.seq)).toEqual(objects.map((_, i) => i + 1));
    expect(seen.map((s) => s.fields)).toEqual(objects.map(objectFields));
    expect(new Set(objects.map((e) => e.type))).toEqual(new Set(['state', 'handshake', 'teardown', 'reset', 'refused', 'connection']));
    // a connection event's connection is read from the store, as its object has it
    seen.forEach((s, i) => {
      const e = objects[i];
      expect(s.partial).toBe(e.type === 'connection' ? e.connection!.partial : null);
    });
    expect(bus.lastSeq).toBe(objects.length);
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
