import { describe, expect, it } from 'vitest';
import type { AnomalyEvent } from '../../src/events/types';
import { conv, handshake, kinds, run } from './helpers';

const anomalies = (events: ReturnType<typeof run>['events']) =>
  events.filter((e): e is AnomalyEvent => e.type === 'anomaly').map((e) => `${e.side}:${e.kind}`);

describe('anomalies', () => {
  it('an ordinary connection has none', () => {
    const c = conv();
    const specs = [...handshake(c)];
    for (let i = 0; i < 20; i++) specs.push(c.c('PA', { len: 100 }), c.s('PA', { len: 50 }), c.c('A'));
    specs.push(c.c('FA'), c.s('FA'), c.c('A'));
    const { t, events } = run(specs);
    expect(anomalies(events)).toEqual([]);
    expect(t.list()[0].anomalies).toBe(0);
  });

  it('retransmission: data at or below what was already sent', () => {
    const c = conv();
    const { t, events } = run([...handshake(c), c.c('PA', { len: 100 }), c.c('PA', { len: 100, seq: 1001 }), c.s('A')]);
    expect(anomalies(events)).toEqual(['client:retransmission']);
    expect(t.list()[0].history).toBe('ShADTa');
  });

  it('gap and then out-of-order: a segment beyond the next expected seq, then the one that fills the hole', () => {
    const c = conv();
    const { t, events } = run([
      ...handshake(c),
      c.c('PA', { len: 100, seq: 1101 }), // 1001..1100 not seen yet
      c.c('PA', { len: 100, seq: 1001 }), // arrives late
      c.s('A', { ack: 1201 }),
    ]);
    expect(anomalies(events)).toEqual(['client:gap', 'client:out-of-order']);
    // nothing was missing in the end, as Zeek's missed_bytes would say
    expect(t.list()[0].missedBytes).toBe(0);
  });

  it('gap never filled: the bytes the ACK covers but the capture lacks are missed bytes', () => {
    const c = conv();
    const { t, events } = run([
      ...handshake(c),
      c.c('PA', { len: 100 }),
      c.c('PA', { len: 100, seq: 1201 }), // 1101..1200 lost by the capture
      c.s('A', { ack: 1301 }),
      c.c('FA', { seq: 1301 }),
      c.s('FA', { ack: 1302 }),
      c.c('A', { seq: 1302 }),
    ]);
    expect(kinds(events, 'anomaly')).toEqual(['gap']);
    const v = t.list()[0];
    expect(v.missedBytes).toBe(100);
    expect(v.history).toBe('ShADaGFf'); // 'G': a gap in the originator's stream, seen when the ACK passes it
  });

  it('dup-ack: the same pure ACK again while data is outstanding', () => {
    const c = conv();
    const { events } = run([
      ...handshake(c),
      c.s('PA', { len: 100 }),
      c.s('PA', { len: 100 }),
      c.c('A', { ack: 5101 }),
      c.c('A', { ack: 5101 }),
      c.c('A', { ack: 5101 }),
    ]);
    expect(anomalies(events)).toEqual(['client:dup-ack', 'client:dup-ack']);
  });

  it('zero-window', () => {
    const c = conv();
    const { t, events } = run([...handshake(c), c.s('PA', { len: 100 }), c.c('A', { win: 0 })]);
    expect(anomalies(events)).toEqual(['client:zero-window']);
    expect(t.list()[0].history).toBe('ShAdW');
  });

  it('keep-alive: one byte (or none) at next seq − 1', () => {
    const c = conv();
    const { events } = run([...handshake(c), c.c('A', { seq: 1000, hold: true }), c.c('PA', { seq: 1000, len: 1, hold: true })]);
    expect(anomalies(events)).toEqual(['client:keep-alive', 'client:keep-alive']);
  });

  it('bad-ack: an ACK of data never sent is an anomaly, not a transition', () => {
    const c = conv();
    const { t, events } = run([...handshake(c), c.c('FA'), c.s('A', { ack: 999_999 })]);
    expect(anomalies(events)).toEqual(['server:bad-ack']);
    expect(t.list()[0].client.state).toBe('FIN_WAIT_1');
  });

  it('syn-fin and syn-rst make no transitions', () => {
    const c = conv();
    const a = run([c.c('SF')]);
    expect(anomalies(a.events)).toEqual(['client:syn-fin']);
    expect(a.events.filter((e) => e.type === 'state')).toEqual([]);
    expect(a.t.list()[0].history).toBe('Q');
    const c2 = conv();
    const b = run([c2.c('SR')]);
    expect(anomalies(b.events)).toEqual(['client:syn-rst']);
    expect(b.events.filter((e) => e.type === 'state')).toEqual([]);
  });

  it('a segment with no SYN, RST or ACK is invalid', () => {
    const c = conv(1000, 5000, '10.0.0.1:40000', '10.0.0.2:22');
    const { events } = run([c.c('F')]);
    expect(kinds(events, 'anomaly')).toEqual(['invalid-flags']);
  });

  it('anomaly counters appear in stats', () => {
    const c = conv();
    const { t } = run([...handshake(c), c.c('PA', { len: 10 }), c.c('PA', { len: 10, seq: 1001 }), c.c('A', { win: 0 })]);
    expect(t.stats().anomalies).toMatchObject({ retransmission: 1, 'zero-window': 1 });
  });
});
