import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Segment } from '../../src/decode/segment';
import type { StateEvent, TcpEvent } from '../../src/events/types';
import { Tracker } from '../../src/track/tracker';
import { Conversation, feed, makeSegment, type SegSpec } from '../support/segments';
import { path } from './helpers';

const ENDPOINTS = ['10.0.0.1:40000', '10.0.0.2:80', '10.0.0.1:40001', '[2001:db8::1]:5000', '[2001:db8::2]:443'];
const FLAGS = ['S', 'SA', 'A', 'PA', 'FA', 'R', 'RA', 'F', 'SF', 'SR', 'FRA', ''];

/** A segment between two of a few endpoints, with sequence numbers near a few bases (and the wrap). */
const arbSegment = fc.record({
  pair: fc.constantFrom([0, 1], [1, 0], [2, 1], [1, 2], [3, 4], [4, 3]),
  flags: fc.constantFrom(...FLAGS),
  seqBase: fc.constantFrom(1000, 5000, 0xfffffff0, 0),
  seqOff: fc.integer({ min: 0, max: 3000 }),
  ackBase: fc.constantFrom(1000, 5000, 0xfffffff0, 0),
  ackOff: fc.integer({ min: 0, max: 3000 }),
  len: fc.constantFrom(0, 0, 1, 10, 1460),
  win: fc.constantFrom(0, 1000, 65535),
  dt: fc.integer({ min: 0, max: 200_000 }),
});

function checkInvariants(t: Tracker, events: TcpEvent[]): void {
  const s = t.stats();
  const sum = (r: Record<string, number>) => Object.values(r).reduce((a, b) => a + b, 0);
  expect(sum(s.byClientState)).toBe(s.tracked);
  expect(sum(s.byServerState)).toBe(s.tracked);
  expect(sum(s.byConnState)).toBe(s.tracked);
  expect(s.open + s.closed).toBe(s.tracked);
  const views = t.list();
  expect(views).toHaveLength(s.tracked);
  // each side's state events form a chain ending in the state the view shows
  const last = new Map<string, string>();
  for (const e of events) {
    if (e.type !== 'state') continue;
    const k = `${e.connectionId}/${e.side}`;
    const prev = last.get(k);
    if (prev !== undefined) expect((e as StateEvent).from).toBe(prev);
    expect(e.from).not.toBe(e.to);
    last.set(k, e.to);
  }
  for (const v of views) {
    for (const side of ['client', 'server'] as const) {
      const k = `${v.id}/${side}`;
      if (last.has(k)) expect(v[side].state).toBe(last.get(k));
    }
    expect(v.status === 'closed').toBe(v.endedAt !== null);
    const d = t.detail(v.id)!;
    expect(d.segments.length + d.segmentsOmitted).toBe(v.counts.client.packets + v.counts.server.packets);
    for (const e of d.events) if (e.type === 'state' && e.cause !== null) expect(Number.isFinite(e.ts)).toBe(true);
  }
}

describe('properties', () => {
  it('any sequence of segments keeps the tracker consistent, and expiry releases everything', () => {
    fc.assert(
      fc.property(fc.array(arbSegment, { maxLength: 60 }), fc.boolean(), (list, small) => {
        const t = new Tracker(small ? { maxConnections: 2, ladderHead: 4, ladderTail: 4, maxEventsPerConn: 3 } : {});
        const events: TcpEvent[] = [];
        t.onEvent((e) => events.push(e));
        const seg = new Segment();
        let ts = 1_000_000;
        for (const x of list) {
          ts += x.dt;
          makeSegment(
            {
              src: ENDPOINTS[x.pair[0]],
              dst: ENDPOINTS[x.pair[1]],
              flags: x.flags === '' ? 0 : x.flags,
              seq: (x.seqBase + x.seqOff) >>> 0,
              ack: (x.ackBase + x.ackOff) >>> 0,
              len: x.len,
              win: x.win,
            },
            seg,
          );
          t.process(seg, ts);
          if (x.dt > 190_000) t.expire(ts);
        }
        checkInvariants(t, events);
        t.expire(ts + 10 * 24 * 3600_000);
        checkInvariants(t, events);
        expect(t.stats().tracked).toBe(0);
        expect(t.memoryInUse()).toEqual({ ladderBlocks: 0, pinnedBlocks: 0, eventBlocks: 0 });
      }),
      { numRuns: 300 },
    );
  });

  it('retransmitted segments anywhere never move a state twice', () => {
    const base = (): SegSpec[] => {
      const c = new Conversation('10.0.0.1:40000', '10.0.0.2:80', 0xfffffff0, 77);
      return [
        c.c('S'), c.s('SA'), c.c('A'), c.c('PA', { len: 10 }), c.s('A'), c.s('PA', { len: 20 }), c.c('A'),
        c.c('FA'), c.s('A'), c.s('FA'), c.c('A'),
      ];
    };
    const expected = {
      client: ['CLOSED', 'SYN_SENT', 'ESTABLISHED', 'FIN_WAIT_1', 'FIN_WAIT_2', 'TIME_WAIT'],
      server: ['LISTEN', 'SYN_RECEIVED', 'ESTABLISHED', 'CLOSE_WAIT', 'LAST_ACK', 'CLOSED'],
    };
    fc.assert(
      fc.property(fc.array(fc.nat({ max: 10 }), { maxLength: 8 }), (dups) => {
        const specs = base();
        const out: SegSpec[] = [];
        specs.forEach((sp, i) => {
          out.push(sp);
          for (const d of dups) if (d === i) out.push(sp); // sent again right away
        });
        const t = new Tracker();
        const events: TcpEvent[] = [];
        t.onEvent((e) => events.push(e));
        feed(t, out);
        expect(path(events, 'client')).toEqual(expected.client);
        expect(path(events, 'server')).toEqual(expected.server);
        expect(t.list()).toHaveLength(1);
        expect(t.list()[0].connState).toBe('SF');
      }),
      { numRuns: 200 },
    );
  });
});
