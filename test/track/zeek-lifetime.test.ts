/**
 * Zeek's connection lifetime (src/track/zeek/lifetime.ts): which records Zeek writes for a 5-tuple,
 * and when, with Zeek's default timers (init-bare.zeek). The traces behind Zeek's own baselines
 * (zeek-traces.test.ts) are the truth for whole captures; these cases pin each timer and the reuse
 * rule one at a time, with the packets' times chosen around each timer's value.
 */
import { describe, expect, it } from 'vitest';
import { Segment } from '../../src/decode/segment';
import { FlowTable } from '../../src/track/flowtable';
import { ConnStore } from '../../src/track/store';
import { Tracker } from '../../src/track/tracker';
import type { ZeekRecord } from '../../src/track/zeek';
import { makeSegment, type SegSpec } from '../support/segments';
import { conv, handshake } from './helpers';

const web = (isnC = 1000, client = '10.0.0.1:40000') => conv(isnC, 5000, client, '10.0.0.2:80');

/** Feeds [ms since start, segment] pairs, then ends the input; returns the records in write order. */
function records(timeline: Array<[number, SegSpec]>, lifetime = true): { recs: ZeekRecord[]; t: Tracker } {
  const recs: ZeekRecord[] = [];
  const t = new Tracker(lifetime ? { zeekRecords: (r) => recs.push(r) } : {});
  const seg = new Segment();
  const t0 = 1_700_000_000_000;
  for (const [ms, spec] of timeline) t.process(makeSegment(spec, seg), t0 + ms);
  t.removeAll();
  return { recs, t };
}

const brief = (r: ZeekRecord) => `${r.connState} ${r.history}`;

describe("Zeek's records", () => {
  it('a SYN without answer, then a FIN minutes later: two records, S0 then SH (attempt timer, 5 s)', () => {
    const c = web();
    const { recs } = records([[0, c.c('S')], [120_000, c.c('FA', { seq: 1001 })]]);
    expect(recs.map(brief)).toEqual(['S0 S', 'SH F']);
    expect(recs[1].startedAt - recs[0].startedAt).toBe(120_000);
  });

  it('the attempt timer waits its 5 s: a FIN 4 s after the SYN joins the attempt', () => {
    const c = web();
    const { recs } = records([[0, c.c('S')], [4_000, c.c('FA', { seq: 1001 })]]);
    expect(recs.map(brief)).toEqual(['SH SF']);
  });

  it('a closed connection lingers 5 s (tcp_close_delay): a late ACK within it joins, after it starts a record', () => {
    const c = web();
    const close = [...handshake(c), c.c('FA'), c.s('FA'), c.c('A')];
    const within = records([...close.map((s, i): [number, SegSpec] => [i, s]), [4_000, c.s('A', { seq: 5001 })]]).recs;
    expect(within.map(brief)).toEqual(['SF ShAFfa']);
    const after = records([...close.map((s, i): [number, SegSpec] => [i, s]), [6_000, c.s('A', { seq: 5001 })]]).recs;
    expect(after.map(brief)).toEqual(['SF ShAFf', 'OTH ^a']);
  });

  it('a SYN after a RST is a new record even with the same ISN (IsReuse on a closed connection)', () => {
    const c = web();
    const { recs } = records([[0, c.c('S')], [1, c.s('RA', { seq: 0 })], [500, c.c('S')], [501, c.s('RA', { seq: 0 })]]);
    expect(recs.map(brief)).toEqual(['REJ Sr', 'REJ Sr']);
  });

  it('an idle connection ends after 5 min without packets (tcp_inactivity_timeout)', () => {
    const c = web();
    const open = handshake(c).map((s, i): [number, SegSpec] => [i, s]);
    expect(records([...open, [299_000, c.c('PA', { len: 5 })]]).recs.map(brief)).toEqual(['S1 ShAD']);
    expect(records([...open, [301_000, c.c('PA', { len: 5 })]]).recs.map(brief)).toEqual(['S1 ShA', 'OTH D']);
  });

  it("records are written in Zeek's removal order, each with its own times and counts", () => {
    const a = web(1000, '10.0.0.1:40000');
    const b = web(7000, '10.0.0.1:40001');
    const { recs } = records([
      [0, a.c('S')], // attempt: removed at 5 s
      [1_000, b.c('S')],
      [1_001, b.s('SA')],
      [1_002, b.c('A')],
      [1_003, b.c('PA', { len: 10 })],
      [1_004, b.c('FA')],
      [1_005, b.s('FA')],
      [1_006, b.c('A')], // closed: removed 5 s after
      [10_000, a.c('S', { seq: 99 })], // after both timers: a new record
    ]);
    expect(recs.map((r) => `${r.orig.port} ${brief(r)}`)).toEqual(['40000 S0 S', '40001 SF ShADFf', '40000 S0 S']);
    const sf = recs[1];
    // Zeek stops the clock once both sides closed: the last ACK is counted, not timed
    expect(sf.lastAt - sf.startedAt).toBe(5);
    expect([sf.orig.packets, sf.resp.packets, sf.orig.bytes, sf.resp.bytes]).toEqual([5, 2, 10, 0]);
    expect(sf.orig.ipBytes).toBe(5 * 40 + 10);
  });

  it('a SYN with a new ISN on a connection still open ends its record at once (IsReuse), before the new one', () => {
    const a = web(1000, '10.0.0.1:40000');
    const a2 = web(90_000, '10.0.0.1:40000');
    const other = web(7000, '10.0.0.1:40009');
    const { recs } = records([
      ...handshake(a).map((x, i): [number, SegSpec] => [i, x]),
      [3, a.c('PA', { len: 10 })],
      [10_000, a2.c('S')], // the tracker starts a connection of its own for it
      [20_000, other.c('S')], // moves time on: the new attempt's timer fires (5 s)
    ]);
    expect(recs.map((r) => `${r.orig.port} ${brief(r)}`)).toEqual(['40000 S1 ShAD', '40000 S0 S', '40009 S0 S']);
  });

  it('IsReuse ends the right record when another 4-tuple with the same flow hash began one in between', () => {
    // two clients of 10.0.0.2:80 whose 4-tuples hash alike in the flow table
    const flows = new FlowTable(new ConnStore(16, 16));
    const seg = new Segment();
    const seen = new Map<number, string>();
    let pair: [string, string] | null = null;
    for (let i = 0; pair === null; i++) {
      const client = `10.0.${1 + (i >> 16)}.${1 + ((i >> 8) & 0xff) % 254}:${20000 + (i & 0xffff) % 40000}`;
      const h = flows.key(makeSegment({ src: client, dst: '10.0.0.2:80', flags: 'S', seq: 1 }, seg));
      const other = seen.get(h);
      if (other !== undefined && other !== client) pair = [other, client];
      else seen.set(h, client);
    }
    const a = web(1000, pair[0]);
    const a2 = web(90_000, pair[0]);
    const b = web(7000, pair[1]);
    const at = (ms: number, x: SegSpec): [number, SegSpec] => [ms, x];
    const tick = web(3000, '10.0.0.9:1234');
    const { recs } = records([
      ...handshake(a).map((x, i) => at(i, x)),
      at(10, b.c('S')), // the other 4-tuple's attempt: removed at 5.01 s
      at(900, a.c('FA')), at(901, a.s('FA')), at(902, a.c('A')), // closed: Zeek would remove it at 5.902 s
      at(1_000, a2.c('S')), // a new ISN on the first 4-tuple: IsReuse removes its record now
      at(5_500, tick.c('S')), // moves time on past the attempt, not yet to the close delay
    ]);
    expect(recs.slice(0, 2).map((r) => `${r.orig.ip}:${r.orig.port} ${brief(r)}`)).toEqual([`${pair[0]} SF ShAFf`, `${pair[1]} S0 S`]);
  });

  it("without records asked for, the tracker's view keeps one connection per TCP lifetime", () => {
    const c = web();
    const timeline: Array<[number, SegSpec]> = [[0, c.c('S')], [120_000, c.c('FA', { seq: 1001 })]];
    const { t } = records(timeline, false);
    // (removeAll emptied it: read the view before the end instead)
    const t2 = new Tracker();
    const seg = new Segment();
    for (const [ms, spec] of timeline) t2.process(makeSegment(spec, seg), ms);
    expect(t2.list().map((v) => `${v.connState} ${v.history}`)).toEqual(['SH SF']);
    expect(t.stats().connectionsTotal).toBe(1);
  });
});
