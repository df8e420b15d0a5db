import { describe, expect, it } from 'vitest';
import type { StateEvent } from '../../src/events/types';
import { feed } from '../support/segments';
import { conv, handshake, kinds, path, recorded, run } from './helpers';

const MSL = 30_000;

describe('sender rows (what sending a segment does to its sender)', () => {
  it('CLOSED sends SYN → SYN_SENT', () => {
    const c = conv();
    const { events } = run([c.c('S')]);
    expect(path(events, 'client')).toEqual(['CLOSED', 'SYN_SENT']);
  });

  it('LISTEN sends SYN+ACK (ack x+1) → SYN_RECEIVED', () => {
    const c = conv();
    const { events } = run([c.c('S'), c.s('SA')]);
    expect(path(events, 'server')).toEqual(['LISTEN', 'SYN_RECEIVED']);
  });

  it('SYN_SENT sends SYN+ACK (simultaneous open) → SYN_RECEIVED', () => {
    const c = conv();
    const { events } = run([c.c('S'), c.s('S'), c.c('SA', { seq: 1000 }), c.s('SA', { seq: 5000 })]);
    expect(path(events, 'client')).toEqual(['CLOSED', 'SYN_SENT', 'SYN_RECEIVED', 'ESTABLISHED']);
  });

  it('ESTABLISHED sends FIN → FIN_WAIT_1', () => {
    const c = conv();
    const { events } = run([...handshake(c), c.c('FA')]);
    expect(path(events, 'client')).toEqual(['CLOSED', 'SYN_SENT', 'ESTABLISHED', 'FIN_WAIT_1']);
  });

  it('CLOSE_WAIT sends FIN → LAST_ACK', () => {
    const c = conv();
    const { events } = run([...handshake(c), c.c('FA'), c.s('A'), c.s('FA')]);
    expect(path(events, 'server').slice(-3)).toEqual(['ESTABLISHED', 'CLOSE_WAIT', 'LAST_ACK']);
  });

  it('any state sends RST → CLOSED', () => {
    const c = conv();
    const { events } = run([...handshake(c), c.c('RA')]);
    expect(path(events, 'client').slice(-2)).toEqual(['ESTABLISHED', 'CLOSED']);
    expect(path(events, 'server').slice(-2)).toEqual(['ESTABLISHED', 'CLOSED']);
  });
});

describe('receiver rows (ACK part first, then SYN/FIN, then RST)', () => {
  it('SYN_SENT receives SYN+ACK with ack x+1 → ESTABLISHED', () => {
    const c = conv();
    const { events } = run([c.c('S'), c.s('SA')]);
    const last = events.filter((e): e is StateEvent => e.type === 'state').at(-1)!;
    expect(last).toMatchObject({ side: 'client', from: 'SYN_SENT', to: 'ESTABLISHED', cause: { flags: 'SA', ack: 1001 } });
  });

  it('SYN_SENT receives a SYN+ACK that does not ack x+1 → no transition, bad-handshake-ack', () => {
    const c = conv();
    const { t, events } = run([c.c('S'), c.s('SA', { ack: 1234 })]);
    expect(path(events, 'client')).toEqual(['CLOSED', 'SYN_SENT']);
    expect(kinds(events, 'anomaly')).toContain('bad-handshake-ack');
    expect(t.list()[0].client.state).toBe('SYN_SENT');
  });

  it('SYN_SENT receives SYN (simultaneous open) → SYN_RECEIVED', () => {
    const c = conv();
    const { events } = run([c.c('S'), c.s('S')]);
    expect(path(events, 'client')).toEqual(['CLOSED', 'SYN_SENT', 'SYN_RECEIVED']);
  });

  it('SYN_RECEIVED receives ACK of y+1 → ESTABLISHED; any other handshake ACK is an anomaly', () => {
    const c = conv();
    const ok = run([...handshake(c)]);
    expect(path(ok.events, 'server')).toEqual(['LISTEN', 'SYN_RECEIVED', 'ESTABLISHED']);
    const c2 = conv();
    const bad = run([c2.c('S'), c2.s('SA'), c2.c('A', { ack: 7777 })]);
    expect(path(bad.events, 'server')).toEqual(['LISTEN', 'SYN_RECEIVED']);
    expect(kinds(bad.events, 'anomaly')).toContain('bad-handshake-ack');
  });

  it('ESTABLISHED receives FIN → CLOSE_WAIT', () => {
    const c = conv();
    const { events } = run([...handshake(c), c.c('FA'), c.s('A')]);
    expect(path(events, 'server').slice(-2)).toEqual(['ESTABLISHED', 'CLOSE_WAIT']);
  });

  it('FIN_WAIT_1 receives ACK ≥ f+1 → FIN_WAIT_2, and an ACK below it changes nothing', () => {
    const c = conv();
    const { events } = run([...handshake(c), c.c('FA'), c.s('A', { ack: 1001 }), c.s('A')]);
    expect(path(events, 'client').slice(-3)).toEqual(['ESTABLISHED', 'FIN_WAIT_1', 'FIN_WAIT_2']);
    const toF2 = events.find((e) => e.type === 'state' && e.to === 'FIN_WAIT_2') as StateEvent;
    expect(toF2.cause?.ack).toBe(1002);
  });

  it('FIN_WAIT_1 receives FIN while its own FIN is unacked (simultaneous close) → CLOSING', () => {
    const c = conv();
    const { events } = run([...handshake(c), c.c('FA'), c.s('FA', { ack: 1001 })]);
    expect(path(events, 'client').slice(-3)).toEqual(['ESTABLISHED', 'FIN_WAIT_1', 'CLOSING']);
  });

  it('FIN_WAIT_2 receives FIN → TIME_WAIT', () => {
    const c = conv();
    const { events } = run([...handshake(c), c.c('FA'), c.s('A'), c.s('FA'), c.c('A')]);
    expect(path(events, 'client').slice(-3)).toEqual(['FIN_WAIT_1', 'FIN_WAIT_2', 'TIME_WAIT']);
  });

  it('CLOSING receives ACK ≥ f+1 → TIME_WAIT', () => {
    const c = conv();
    const { events } = run([...handshake(c), c.c('FA'), c.s('FA', { ack: 1001 }), c.s('A', { seq: 5002 }), c.c('A')]);
    expect(path(events, 'client').slice(-2)).toEqual(['CLOSING', 'TIME_WAIT']);
  });

  it('LAST_ACK receives ACK ≥ f+1 → CLOSED', () => {
    const c = conv();
    const { events } = run([...handshake(c), c.c('FA'), c.s('FA'), c.c('A')]);
    expect(path(events, 'server').slice(-2)).toEqual(['LAST_ACK', 'CLOSED']);
  });

  it('SYN_SENT receives RST+ACK answering its SYN (refused) → CLOSED; the server never listened', () => {
    const c = conv();
    const { t, events } = run([c.c('S'), c.s('RA', { seq: 0, ack: 1001 })]);
    expect(path(events, 'client')).toEqual(['CLOSED', 'SYN_SENT', 'CLOSED']);
    expect(path(events, 'server')).toEqual([]);
    expect(events.some((e) => e.type === 'refused')).toBe(true);
    const v = t.list()[0];
    expect(v).toMatchObject({ status: 'closed', closeKind: 'refused', connState: 'REJ', history: 'Sr' });
    expect(v.server.state).toBe('CLOSED');
    expect(t.stats().refused).toBe(1);
  });

  it('SYN_SENT ignores a RST that does not acknowledge its SYN', () => {
    const c = conv();
    const { events } = run([c.c('S'), c.s('RA', { seq: 0, ack: 999 })]);
    expect(path(events, 'client')).toEqual(['CLOSED', 'SYN_SENT']);
    expect(kinds(events, 'anomaly')).toContain('rst-out-of-window');
  });

  it('TIME_WAIT → CLOSED after 2×MSL, driven by expire()', () => {
    const c = conv();
    const { t, events, last } = run([...handshake(c), c.c('FA'), c.s('FA'), c.c('A')], { mslMs: MSL });
    t.expire(last + 2 * MSL - 1);
    expect(t.list()[0].client.state).toBe('TIME_WAIT');
    t.expire(last + 2 * MSL);
    const ev = events.at(-1) as StateEvent;
    expect(ev).toMatchObject({ type: 'state', side: 'client', from: 'TIME_WAIT', to: 'CLOSED', cause: null });
    expect(ev.ts).toBe(last + 2 * MSL);
  });
});

describe('RST in each state', () => {
  // Drives the client (or server) into a state, then the peer sends an in-window or out-of-window RST.
  const setups: Record<string, { specs: () => { c: ReturnType<typeof conv>; list: ReturnType<typeof handshake> }; rstFrom: 'c' | 's'; victim: 'client' | 'server' }> = {
    SYN_RECEIVED: { specs: () => { const c = conv(); return { c, list: [c.c('S'), c.s('SA')] }; }, rstFrom: 'c', victim: 'server' },
    ESTABLISHED: { specs: () => { const c = conv(); return { c, list: handshake(c) }; }, rstFrom: 's', victim: 'client' },
    FIN_WAIT_1: { specs: () => { const c = conv(); return { c, list: [...handshake(c), c.c('FA')] }; }, rstFrom: 's', victim: 'client' },
    FIN_WAIT_2: { specs: () => { const c = conv(); return { c, list: [...handshake(c), c.c('FA'), c.s('A')] }; }, rstFrom: 's', victim: 'client' },
    CLOSE_WAIT: { specs: () => { const c = conv(); return { c, list: [...handshake(c), c.c('FA'), c.s('A')] }; }, rstFrom: 'c', victim: 'server' },
    CLOSING: { specs: () => { const c = conv(); return { c, list: [...handshake(c), c.c('FA'), c.s('FA', { ack: 1001 })] }; }, rstFrom: 's', victim: 'client' },
    LAST_ACK: { specs: () => { const c = conv(); return { c, list: [...handshake(c), c.c('FA'), c.s('FA')] }; }, rstFrom: 'c', victim: 'server' },
    TIME_WAIT: { specs: () => { const c = conv(); return { c, list: [...handshake(c), c.c('FA'), c.s('FA')] }; }, rstFrom: 's', victim: 'client' },
  };

  for (const [state, setup] of Object.entries(setups)) {
    it(`${state} + RST in window → CLOSED`, () => {
      const { c, list } = setup.specs();
      const { t, events } = run([...list, setup.rstFrom === 'c' ? c.c('R') : c.s('R')]);
      const p = path(events, setup.victim);
      expect(p.slice(-2)).toEqual([state, 'CLOSED']);
      expect(t.list()[0].status).toBe('closed');
    });

    it(`${state} + RST out of window → anomaly, no transition`, () => {
      const { c, list } = setup.specs();
      const far = (c.next[setup.rstFrom === 'c' ? 0 : 1] + 10_000_000) >>> 0;
      const { t, events } = run([...list, setup.rstFrom === 'c' ? c.c('R', { seq: far }) : c.s('R', { seq: far })]);
      expect(path(events, setup.victim).at(-1)).toBe(state);
      expect(kinds(events, 'anomaly')).toContain('rst-out-of-window');
      const v = t.list()[0];
      expect(v[setup.victim].state).toBe(state);
    });
  }

  it('LISTEN ignores a RST (the client gave up before the SYN+ACK)', () => {
    const c = conv();
    const { t, events } = run([c.c('S'), c.c('R')]);
    expect(path(events, 'client')).toEqual(['CLOSED', 'SYN_SENT', 'CLOSED']);
    expect(path(events, 'server')).toEqual([]);
    expect(t.list()[0]).toMatchObject({ status: 'closed', closeKind: 'rst', connState: 'RSTOS0', history: 'SR' });
  });
});

describe("the kernel's own sequences on loopback", () => {
  it('client closes first, Linux three-segment close (FIN+ACK, FIN+ACK, ACK)', () => {
    const c = conv();
    const { t, events } = run([...handshake(c), c.c('PA', { len: 5 }), c.s('A'), c.s('PA', { len: 7 }), c.c('A'), c.c('FA'), c.s('FA'), c.c('A')]);
    expect(path(events, 'client')).toEqual(['CLOSED', 'SYN_SENT', 'ESTABLISHED', 'FIN_WAIT_1', 'FIN_WAIT_2', 'TIME_WAIT']);
    expect(path(events, 'server')).toEqual(['LISTEN', 'SYN_RECEIVED', 'ESTABLISHED', 'CLOSE_WAIT', 'LAST_ACK', 'CLOSED']);
    expect(t.list()[0]).toMatchObject({ closedBy: 'client', closeKind: 'fin', connState: 'SF', history: 'ShADadFf' });
  });

  it('client closes first, four segments (FIN, ACK, FIN, ACK)', () => {
    const c = conv();
    const { events } = run([...handshake(c), c.c('FA'), c.s('A'), c.s('FA'), c.c('A')]);
    expect(path(events, 'client')).toEqual(['CLOSED', 'SYN_SENT', 'ESTABLISHED', 'FIN_WAIT_1', 'FIN_WAIT_2', 'TIME_WAIT']);
    expect(path(events, 'server')).toEqual(['LISTEN', 'SYN_RECEIVED', 'ESTABLISHED', 'CLOSE_WAIT', 'LAST_ACK', 'CLOSED']);
  });

  it('server closes first: the mirror image', () => {
    const c = conv();
    const { t, events } = run([...handshake(c), c.s('FA'), c.c('FA'), c.s('A')]);
    expect(path(events, 'client')).toEqual(['CLOSED', 'SYN_SENT', 'ESTABLISHED', 'CLOSE_WAIT', 'LAST_ACK', 'CLOSED']);
    expect(path(events, 'server')).toEqual(['LISTEN', 'SYN_RECEIVED', 'ESTABLISHED', 'FIN_WAIT_1', 'FIN_WAIT_2', 'TIME_WAIT']);
    expect(t.list()[0]).toMatchObject({ closedBy: 'server', closeKind: 'fin' });
  });

  it('RST abort: … ESTABLISHED CLOSED on both sides', () => {
    const c = conv();
    const { t, events } = run([...handshake(c), c.c('PA', { len: 3 }), c.s('RA')]);
    expect(path(events, 'client').slice(-2)).toEqual(['ESTABLISHED', 'CLOSED']);
    expect(path(events, 'server').slice(-2)).toEqual(['ESTABLISHED', 'CLOSED']);
    expect(t.list()[0]).toMatchObject({ closedBy: 'server', closeKind: 'rst', connState: 'RSTR' });
    expect(events.filter((e) => e.type === 'reset')).toEqual([expect.objectContaining({ side: 'server' })]);
  });

  it('refused: client CLOSED SYN_SENT CLOSED, server stays CLOSED with no events', () => {
    const c = conv();
    const { t, events } = run([c.c('S'), c.s('RA', { seq: 0 })]);
    expect(path(events, 'client')).toEqual(['CLOSED', 'SYN_SENT', 'CLOSED']);
    expect(events.filter((e) => e.type === 'state' && e.side === 'server')).toEqual([]);
    expect(t.list()[0].server.state).toBe('CLOSED');
  });
});

describe('simultaneous open and close, half-close', () => {
  it('simultaneous open: both sides CLOSED SYN_SENT SYN_RECEIVED ESTABLISHED', () => {
    const c = conv();
    const { t, events } = run([c.c('S'), c.s('S'), c.c('SA', { seq: 1000 }), c.s('SA', { seq: 5000 })]);
    expect(path(events, 'client')).toEqual(['CLOSED', 'SYN_SENT', 'SYN_RECEIVED', 'ESTABLISHED']);
    expect(path(events, 'server')).toEqual(['CLOSED', 'SYN_SENT', 'SYN_RECEIVED', 'ESTABLISHED']);
    expect(t.list()).toHaveLength(1);
    expect(kinds(events, 'anomaly')).toEqual([]);
    expect(kinds(events, 'handshake')).toContain('established');
  });

  it('simultaneous close: both FIN_WAIT_1 CLOSING TIME_WAIT, closed by both', () => {
    const c = conv();
    const { t, events } = run([
      ...handshake(c),
      c.c('FA'), // client's FIN
      c.s('FA', { ack: 1001 }), // server's FIN, sent before the client's arrived
      c.c('A', { seq: 1002 }),
      c.s('A', { seq: 5002 }),
    ]);
    expect(path(events, 'client').slice(2)).toEqual(['ESTABLISHED', 'FIN_WAIT_1', 'CLOSING', 'TIME_WAIT']);
    expect(path(events, 'server').slice(2)).toEqual(['ESTABLISHED', 'FIN_WAIT_1', 'CLOSING', 'TIME_WAIT']);
    expect(t.list()[0]).toMatchObject({ status: 'closed', closedBy: 'both' });
  });

  it('half-close: data keeps flowing towards the side that sent FIN', () => {
    const c = conv();
    const { t, events } = run([
      ...handshake(c),
      c.c('FA'),
      c.s('PA', { len: 100 }),
      c.c('A'),
      c.s('PA', { len: 100 }),
      c.c('A'),
    ]);
    const v = t.list()[0];
    expect(v.client.state).toBe('FIN_WAIT_2');
    expect(v.server.state).toBe('CLOSE_WAIT');
    expect(v.counts.server.bytes).toBe(200);
    expect(v.status).toBe('open');
    expect(kinds(events, 'anomaly')).toEqual([]);
    feed(t, [c.s('FA'), c.c('A')], 2_000_000);
    expect(t.list()[0]).toMatchObject({ status: 'closed', client: { state: 'TIME_WAIT' }, server: { state: 'CLOSED' } });
  });

  it('a FIN is received no later than the receiver acknowledges it, even if expire() settles it', () => {
    const c = conv();
    const { t, events, last } = run([...handshake(c), c.c('FA')]);
    expect(t.list()[0].server.state).toBe('ESTABLISHED'); // not received yet
    t.expire(last); // a replay ends with expire(last packet's time)
    expect(path(events, 'server').slice(-2)).toEqual(['ESTABLISHED', 'CLOSE_WAIT']);
    const cw = events.find((e) => e.type === 'state' && e.to === 'CLOSE_WAIT')!;
    expect(cw.ts).toBe(last);
  });
});

describe('retransmissions never move states twice', () => {
  it('retransmitted SYN (same ISN): same connection, counted', () => {
    const c = conv();
    const { t, events } = run([c.c('S'), c.c('S', { seq: 1000 }), c.c('S', { seq: 1000 }), c.s('SA'), c.c('A')]);
    expect(t.list()).toHaveLength(1);
    expect(t.list()[0].synRetransmits).toBe(2);
    expect(path(events, 'client')).toEqual(['CLOSED', 'SYN_SENT', 'ESTABLISHED']);
    expect(kinds(events, 'anomaly')).toEqual(['syn-retransmission', 'syn-retransmission']);
    expect(t.list()[0].history).toBe('ShA');
  });

  it('retransmitted SYN+ACK and FIN and ACK', () => {
    const c = conv();
    const { t, events } = run([
      c.c('S'),
      c.s('SA'),
      c.s('SA', { seq: 5000 }),
      c.c('A'),
      c.c('A', { hold: true }),
      c.c('FA'),
      c.c('FA', { seq: 1001 }),
      c.s('A'),
      c.s('A', { hold: true }),
      c.s('FA'),
      c.c('A'),
      c.s('FA', { seq: 5001 }),
      c.c('A'),
    ]);
    expect(path(events, 'client')).toEqual(['CLOSED', 'SYN_SENT', 'ESTABLISHED', 'FIN_WAIT_1', 'FIN_WAIT_2', 'TIME_WAIT']);
    expect(path(events, 'server')).toEqual(['LISTEN', 'SYN_RECEIVED', 'ESTABLISHED', 'CLOSE_WAIT', 'LAST_ACK', 'CLOSED']);
    expect(kinds(events, 'anomaly').filter((k) => k === 'retransmission')).toHaveLength(3);
    expect(t.list()[0].status).toBe('closed');
  });
});

describe('sequence numbers wrap at 2^32', () => {
  it('a connection whose numbers cross 0xffffffff closes normally', () => {
    const c = conv(0xffffff00, 0xfffffff0);
    const { t, events } = run([
      ...handshake(c),
      c.c('PA', { len: 1000 }), // crosses the wrap
      c.s('A'),
      c.s('PA', { len: 500 }),
      c.c('A'),
      c.c('FA'),
      c.s('FA'),
      c.c('A'),
    ]);
    expect(c.next[0]).toBeLessThan(0x1000);
    expect(path(events, 'client')).toEqual(['CLOSED', 'SYN_SENT', 'ESTABLISHED', 'FIN_WAIT_1', 'FIN_WAIT_2', 'TIME_WAIT']);
    expect(path(events, 'server')).toEqual(['LISTEN', 'SYN_RECEIVED', 'ESTABLISHED', 'CLOSE_WAIT', 'LAST_ACK', 'CLOSED']);
    expect(kinds(events, 'anomaly')).toEqual([]);
    const d = t.detail(t.list()[0].id)!;
    expect(d.segments.map((s) => s.relSeq)).toEqual([0, 0, 1, 1, 1, 1, 1001, 1001, 501, 1002]);
    expect(d.connState).toBe('SF');
  });

  it('the ACK of a FIN just below the wrap counts (ack = 0)', () => {
    const c = conv(0xfffffffe);
    const { events } = run([...handshake(c), c.c('FA'), c.s('A')]);
    const f2 = events.find((e) => e.type === 'state' && e.to === 'FIN_WAIT_2') as StateEvent;
    expect(f2.cause?.ack).toBe(0);
  });
});

describe('handshake timing', () => {
  it('splits the RTT at the SYN+ACK', () => {
    const c = conv();
    const r = recorded();
    feed(r.t, [c.c('S')], 1000);
    feed(r.t, [c.s('SA')], 1000.25);
    feed(r.t, [c.c('A')], 1003.25);
    const est = r.events.find((e) => e.type === 'handshake' && e.phase === 'established');
    expect(est).toMatchObject({ rttMs: 3.25, synToSynAckMs: 0.25, synAckToAckMs: 3 });
    expect(r.t.list()[0].handshake).toEqual({ synAt: 1000, synAckAt: 1000.25, ackAt: 1003.25, rttMs: 3.25, synToSynAckMs: 0.25, synAckToAckMs: 3 });
  });
});
