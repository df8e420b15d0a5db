import { describe, expect, it } from 'vitest';
import { DEFAULT_TRACKER_OPTIONS } from '../../src/track/options';
import { Tracker } from '../../src/track/tracker';
import type { ConnectionView } from '../../src/track/connection';
import { Conversation, feed } from '../support/segments';
import { CLIENT, SERVER, conv, handshake, kinds, path, recorded, run } from './helpers';

describe('flow table', () => {
  it('both directions of a 4-tuple are one connection, different tuples are not', () => {
    const a = conv(1000, 5000, '10.0.0.1:40000', '10.0.0.2:80');
    const b = conv(2000, 6000, '10.0.0.1:40001', '10.0.0.2:80');
    const c = conv(3000, 7000, '10.0.0.3:40000', '10.0.0.2:80');
    const { t } = run([a.c('S'), b.c('S'), c.c('S'), a.s('SA'), b.s('SA'), c.s('SA'), a.c('A'), b.c('A'), c.c('A')]);
    const l = t.list();
    expect(l).toHaveLength(3);
    expect(l.map((v) => `${v.client.ip}:${v.client.port}`)).toEqual(['10.0.0.1:40000', '10.0.0.1:40001', '10.0.0.3:40000']);
    for (const v of l) expect(v.connState).toBe('S1');
  });

  it('IPv6 connections', () => {
    const c = new Conversation('[2001:db8::1]:40000', '[2001:db8::2]:443');
    const other = new Conversation('[2001:db8::1]:40000', '[2001:db8::3]:443');
    const { t, events } = run([...handshake(c), other.c('S'), c.c('FA'), c.s('FA'), c.c('A')]);
    const v = t.list()[0];
    expect(v).toMatchObject({ family: 6, client: { ip: '2001:db8::1', port: 40000 }, server: { ip: '2001:db8::2', port: 443 } });
    expect(v.connState).toBe('SF');
    expect(path(events, 'client', v.id)).toEqual(['CLOSED', 'SYN_SENT', 'ESTABLISHED', 'FIN_WAIT_1', 'FIN_WAIT_2', 'TIME_WAIT']);
    expect(t.list()).toHaveLength(2);
  });

  it('an IPv4 and an IPv6 flow with the same ports stay apart', () => {
    const v4 = new Conversation('0.0.0.1:1', '0.0.0.2:2');
    const v6 = new Conversation('[::1]:1', '[::2]:2');
    const { t } = run([v4.c('S'), v6.c('S'), v4.s('SA'), v6.s('SA')]);
    expect(t.list().map((v) => v.family)).toEqual([4, 6]);
  });

  it('many connections in one table (hash chains and growth)', () => {
    const t = new Tracker();
    const specs = [];
    for (let i = 0; i < 5000; i++) {
      const c = new Conversation(`10.${i >> 8}.${i & 255}.1:${1024 + (i % 50000)}`, '10.255.0.1:80', i * 7, i * 11);
      specs.push(...handshake(c), c.c('FA'), c.s('FA'), c.c('A'));
    }
    feed(t, specs);
    const s = t.stats();
    expect(s.tracked).toBe(5000);
    expect(s.byConnState.SF).toBe(5000);
    expect(s.byClientState.TIME_WAIT).toBe(5000);
    expect(s.byServerState.CLOSED).toBe(5000);
  });
});

describe('roles', () => {
  it('the sender of the first SYN is the client', () => {
    const c = conv(1000, 5000, '10.0.0.2:80', '10.0.0.1:40000'); // client on a low port
    const { t } = run([c.c('S'), c.s('SA'), c.c('A')]);
    expect(t.list()[0]).toMatchObject({ client: { port: 80 }, server: { port: 40000 }, partial: false, rolesGuessed: false });
  });

  it('a SYN+ACK seen first still gives the right roles', () => {
    const c = conv(1001); // the client's SYN (ISN 1000) was missed
    const { t, events } = run([c.s('SA', { ack: 1001 }), c.c('A'), c.c('PA', { len: 10 }), c.s('A')]);
    const v = t.list()[0];
    expect(v).toMatchObject({ client: { port: 40000, state: 'ESTABLISHED' }, server: { port: 8080, state: 'ESTABLISHED' } });
    expect(v.partial).toBe(false);
    expect(v.rolesGuessed).toBe(false);
    expect(path(events, 'client')).toEqual(['SYN_SENT', 'ESTABLISHED']);
    expect(path(events, 'server')).toEqual(['LISTEN', 'SYN_RECEIVED', 'ESTABLISHED']);
    expect(v.handshake.synAt).toBeNull();
    expect(v.handshake.synAckToAckMs).toBe(1);
    expect(kinds(events, 'anomaly')).toEqual([]);
  });

  it('the SYN seen after its SYN+ACK (reordered capture) belongs to the same connection', () => {
    const c = conv();
    const { t } = run([c.s('SA', { ack: 1001 }), c.c('S', { seq: 1000 }), c.c('A', { seq: 1001 })]);
    expect(t.list()).toHaveLength(1);
    expect(t.list()[0].handshake.synAt).not.toBeNull();
  });

  it('mid-stream pickup: partial, roles guessed from a well-known port', () => {
    const c = conv(1000, 5000, '10.0.0.9:51000', '10.0.0.1:443');
    const { t, events } = run([c.s('PA', { len: 100 }), c.c('A'), c.c('PA', { len: 20 })]);
    const v = t.list()[0];
    expect(v).toMatchObject({ partial: true, rolesGuessed: true, client: { port: 51000 }, server: { port: 443 } });
    expect(v.client.state).toBe('ESTABLISHED');
    expect(v.server.state).toBe('ESTABLISHED');
    expect(events.filter((e) => e.type === 'state')).toEqual([]);
    expect(v.connState).toBe('OTH');
  });

  it('mid-stream pickup without a well-known port: the lower port is the server', () => {
    const c = conv(1000, 5000, '10.0.0.9:50000', '10.0.0.1:3000');
    const { t } = run([c.c('A'), c.s('A')]);
    expect(t.list()[0]).toMatchObject({ client: { port: 50000 }, server: { port: 3000 }, rolesGuessed: true });
    const r = conv(1000, 5000, '10.0.0.1:3000', '10.0.0.9:50000');
    const { t: t2 } = run([r.c('A')]); // the first packet comes from the lower port
    expect(t2.list()[0]).toMatchObject({ client: { port: 50000 }, server: { port: 3000 } });
  });

  it('mid-stream pickup then a FIN: states follow from there', () => {
    const c = conv(1000, 5000, '10.0.0.9:51000', '10.0.0.1:443');
    const { t, events } = run([c.c('PA', { len: 10 }), c.s('A'), c.s('FA'), c.c('FA'), c.s('A')]);
    expect(path(events, 'server')).toEqual(['ESTABLISHED', 'FIN_WAIT_1', 'FIN_WAIT_2', 'TIME_WAIT']);
    expect(path(events, 'client')).toEqual(['ESTABLISHED', 'CLOSE_WAIT', 'LAST_ACK', 'CLOSED']);
    expect(t.list()[0].status).toBe('closed');
  });
});

describe('port reuse', () => {
  it('a new SYN after TIME_WAIT starts a new connection with a new id; TIME_WAIT gives way', () => {
    const c = conv();
    const c2 = conv(900_000, 77_000);
    const { t, events } = run([...handshake(c), c.c('FA'), c.s('FA'), c.c('A'), ...handshake(c2), c2.c('FA'), c2.s('FA'), c2.c('A')]);
    const l = t.list();
    expect(l).toHaveLength(2);
    expect(l[0].id).not.toBe(l[1].id);
    expect(l[0].client.state).toBe('CLOSED');
    expect(path(events, 'client', l[0].id).slice(-2)).toEqual(['TIME_WAIT', 'CLOSED']);
    expect(path(events, 'client', l[1].id)).toEqual(['CLOSED', 'SYN_SENT', 'ESTABLISHED', 'FIN_WAIT_1', 'FIN_WAIT_2', 'TIME_WAIT']);
    expect(t.stats().connectionsTotal).toBe(2);
  });

  it('a new SYN after a refused attempt is a new connection; the same ISN is not', () => {
    const c = conv();
    const { t } = run([c.c('S'), c.s('RA', { seq: 0 }), c.c('S', { seq: 1000 }), c.c('S', { seq: 424242 })]);
    const l = t.list();
    expect(l).toHaveLength(2);
    expect(l[0].synRetransmits).toBe(1);
    expect(l[1].client.state).toBe('SYN_SENT');
  });

  it('ids stay unique across many reuses of one tuple', () => {
    const t = new Tracker();
    const ids = new Set<string>();
    for (let i = 0; i < 50; i++) {
      const c = conv(i * 100_000 + 1);
      feed(t, [...handshake(c), c.c('RA')], 1_000 + i * 10);
    }
    for (const v of t.list()) ids.add(v.id);
    expect(ids.size).toBe(50);
  });

  it('a SYN with a new ISN on an open connection supersedes it', () => {
    const c = conv();
    const c2 = conv(123_456);
    const { t, events } = run([...handshake(c), c2.c('S')]);
    const [old, fresh] = t.list();
    expect(old).toMatchObject({ status: 'closed', closeKind: 'timeout', client: { state: 'CLOSED' }, server: { state: 'CLOSED' } });
    expect(fresh.client.state).toBe('SYN_SENT');
    expect(events.filter((e) => e.type === 'connection').map((e) => e.connectionId + (e as { phase: string }).phase)).toEqual([
      `${old.id}opened`,
      `${old.id}closed`,
      `${fresh.id}opened`,
    ]);
  });
});

describe('timers', () => {
  const o = DEFAULT_TRACKER_OPTIONS.timeouts;

  it('idle timeouts per state, like conntrack', () => {
    const cases: Array<[string, (c: Conversation) => ReturnType<Conversation['c']>[], number]> = [
      ['SYN sent', (c) => [c.c('S')], o.synSent],
      ['SYN+ACK sent', (c) => [c.c('S'), c.s('SA')], o.synReceived],
      ['established', (c) => handshake(c), o.established],
      ['FIN_WAIT', (c) => [...handshake(c), c.c('FA')], o.finWait],
      ['CLOSE_WAIT', (c) => [...handshake(c), c.c('FA'), c.s('A')], o.closeWait],
      ['LAST_ACK', (c) => [...handshake(c), c.c('FA'), c.s('A'), c.s('FA')], o.lastAck],
    ];
    for (const [name, specs, timeout] of cases) {
      const c = conv();
      const { t, events, last } = run(specs(c));
      t.expire(last + timeout - 1);
      expect(t.list()[0].status, name).toBe('open');
      t.expire(last + timeout);
      const v = t.list()[0];
      expect(v.status, name).toBe('closed');
      expect(v.closeKind, name).toBe('timeout');
      expect(v.endedAt, name).toBe(last + timeout);
      expect(v.client.state, name).toBe('CLOSED');
      const closed = events.filter((e) => e.type === 'teardown' && e.phase === 'closed');
      expect(closed, name).toEqual([expect.objectContaining({ kind: 'timeout', ts: last + timeout })]);
      const timerStates = events.filter((e) => e.type === 'state' && e.cause === null);
      expect(timerStates.length, name).toBeGreaterThan(0);
    }
  });

  it('activity restarts the idle timer', () => {
    const c = conv();
    const { t } = run([...handshake(c)]);
    feed(t, [c.c('PA', { len: 1 })], 1_000_000 + o.established - 10);
    t.expire(1_000_000 + o.established + 10);
    expect(t.list()[0].status).toBe('open');
  });

  it('closed connections are kept for the retention time, then forgotten', () => {
    const c = conv();
    const { t, last } = run([...handshake(c), c.c('RA')]);
    const id = t.list()[0].id;
    t.expire(last + o.closedRetention - 1);
    expect(t.get(id)).toBeDefined();
    t.expire(last + o.closedRetention);
    expect(t.get(id)).toBeUndefined();
    expect(t.stats()).toMatchObject({ tracked: 0, open: 0, closed: 0, connectionsTotal: 1 });
  });

  it('hands each connection to the remove sinks once, as it leaves: retention over, evicted, or removeAll', () => {
    const t = new Tracker({ maxConnections: 2, mslMs: 1000 });
    const gone: ConnectionView[] = [];
    t.onRemove((c) => gone.push(c));
    const a = conv(1000, 5000, '10.0.0.1:40001');
    const b = conv(1000, 5000, '10.0.0.1:40002');
    const c = conv(1000, 5000, '10.0.0.1:40003');
    let last = feed(t, [...handshake(a), a.c('FA'), a.s('FA'), a.c('A')]);
    t.expire(last + 2000 + o.closedRetention);
    expect(gone.map((x) => [x.client.port, x.client.state, x.server.state, x.status])).toEqual([[40001, 'CLOSED', 'CLOSED', 'closed']]);
    last = feed(t, [...handshake(b), b.c('RA')], last + 1);
    feed(t, [...handshake(c)], last + 1);
    expect(gone).toHaveLength(1);
    feed(t, [conv(1000, 5000, '10.0.0.1:40004').c('S')], last + 10);
    expect(gone.map((x) => x.client.port)).toEqual([40001, 40002]); // the closed one is evicted first
    t.removeAll();
    expect(gone.map((x) => [x.client.port, x.status])).toEqual([[40001, 'closed'], [40002, 'closed'], [40003, 'open'], [40004, 'open']]);
    expect(t.list()).toHaveLength(0);
    expect(t.memoryInUse()).toEqual({ ladderBlocks: 0, pinnedBlocks: 0, eventBlocks: 0 });
  });

  it('with eventLog off no event is stored, the sinks still get every one, and the connections are the same', () => {
    const a = conv(1000, 5000, '10.0.0.1:40001');
    const specs = [...handshake(a), a.c('PA', { len: 5 }), a.s('A'), a.c('FA'), a.s('FA'), a.c('A')];
    const on = run(specs);
    const off = run(specs, { eventLog: false });
    expect(off.t.list()).toEqual(on.t.list());
    expect(off.events).toEqual(on.events);
    expect(off.t.detail(off.t.list()[0].id)!.events).toEqual([]);
    expect(off.t.memoryInUse().eventBlocks).toBe(0);
  });

  it("a connection's detail holds every event its sinks got, in order, the implied ones in their place", () => {
    // each course makes some of the events the log implies rather than keeps: 'connection opened',
    // a side's 'teardown fin', 'connection closed' (eventlog.ts)
    const a = conv(1000, 5000, '10.0.0.1:40001');
    const b = conv(2000, 6000, '10.0.0.1:40002');
    const c = conv(3000, 7000, '10.0.0.1:40003');
    const d = conv(4000, 8000, '10.0.0.1:40004');
    const { t, events, last } = run([
      ...handshake(a), a.c('PA', { len: 5 }), a.s('A'), a.s('FA'), a.c('A'), a.c('FA'), a.s('A'),
      ...handshake(b), b.c('FA'), b.s('FA'), b.c('A'), b.s('A'),
      ...handshake(c), c.s('R'),
      ...handshake(d), d.c('PA', { len: 3 }),
    ], { mslMs: 1000, timeouts: { ...DEFAULT_TRACKER_OPTIONS.timeouts, established: 60_000 } });
    t.expire(last + 5000); // TIME_WAIT ends
    t.expire(last + 70_000); // the open one times out
    const ids = [...new Set(events.map((e) => e.connectionId))];
    expect(ids).toHaveLength(4);
    for (const id of ids) {
      // (the sinks' 'connection' events carry the connection as it was then; a detail's do not)
      const got = events.filter((e) => e.connectionId === id).map((e) => (e.type === 'connection' ? { ...e, connection: undefined } : e));
      expect(t.detail(id)!.events).toEqual(got);
    }
  });

  it('TIME_WAIT, then retention', () => {
    const c = conv();
    const { t, last } = run([...handshake(c), c.c('FA'), c.s('FA'), c.c('A')], { mslMs: 1000 });
    t.expire(last + 2000);
    expect(t.list()[0].client.state).toBe('CLOSED');
    t.expire(last + 2000 + o.closedRetention);
    expect(t.list()).toHaveLength(0);
  });

  it('replays are deterministic: the same input gives the same events', () => {
    const once = () => {
      const c = conv();
      const r = run([...handshake(c), c.c('PA', { len: 9 }), c.s('A'), c.c('FA'), c.s('FA'), c.c('A')]);
      r.t.expire(r.last + 3_600_000);
      return JSON.stringify(r.events);
    };
    expect(once()).toBe(once());
  });
});

describe('bounded memory', () => {
  it('a SYN flood evicts half-open connections, never the established ones first', () => {
    const { t, events } = recorded({ maxConnections: 100 });
    const est: Conversation[] = [];
    for (let i = 0; i < 50; i++) {
      const c = conv(1000 + i, 5000 + i, `10.1.0.${i}:40000`, SERVER);
      est.push(c);
      feed(t, handshake(c), 1000 + i);
    }
    for (let i = 0; i < 10_000; i++) {
      const c = conv(i, 0, `10.2.${i >> 8}.${i & 255}:${1024 + i}`, SERVER);
      feed(t, [c.c('S')], 2000 + i);
    }
    const s = t.stats();
    expect(s.tracked).toBe(100);
    expect(s.byServerState.ESTABLISHED).toBe(50);
    expect(s.evictions).toBe(10_000 - 50);
    const evicted = events.filter((e) => e.type === 'connection' && e.phase === 'evicted');
    expect(evicted).toHaveLength(10_000 - 50);
    // the oldest half-open ones went first
    const evictedIds = evicted.map((e) => Number(e.connectionId));
    expect(evictedIds).toEqual([...evictedIds].sort((a, b) => a - b));
    expect(Math.min(...evictedIds)).toBe(51);
    // the established ones are still there and still work
    feed(t, [est[0].c('FA'), est[0].s('FA'), est[0].c('A')], 50_000);
    expect(t.stats().byConnState.SF).toBe(1);
  });

  it('closed connections go before idle established ones; then the longest idle goes', () => {
    const { t } = recorded({ maxConnections: 3 });
    const a = conv(1, 1, '10.0.0.1:1001', SERVER);
    const b = conv(1, 1, '10.0.0.1:1002', SERVER);
    const c = conv(1, 1, '10.0.0.1:1003', SERVER);
    const d = conv(1, 1, '10.0.0.1:1004', SERVER);
    const e = conv(1, 1, '10.0.0.1:1005', SERVER);
    feed(t, handshake(a), 100);
    feed(t, [...handshake(b), b.c('RA')], 200);
    feed(t, handshake(c), 300);
    feed(t, handshake(d), 400); // evicts b (closed) although a is older
    expect(t.list().map((v) => v.client.port)).toEqual([1001, 1003, 1004]);
    feed(t, [a.c('PA', { len: 1 })], 500); // a is now the most recently active
    feed(t, handshake(e), 600); // evicts c, the longest idle
    expect(t.list().map((v) => v.client.port)).toEqual([1001, 1004, 1005]);
  });

  it('ladder keeps the first and last segments and counts the rest', () => {
    const c = conv();
    const specs = [...handshake(c)];
    for (let i = 0; i < 100; i++) specs.push(c.c('PA', { len: 10 }), c.s('A'));
    specs.push(c.c('FA'), c.s('FA'), c.c('A'));
    const { t } = run(specs, { ladderHead: 8, ladderTail: 8 });
    const d = t.detail(t.list()[0].id)!;
    const total = 3 + 200 + 3;
    expect(d.segments.length + d.segmentsOmitted).toBe(total);
    expect(d.segments.slice(0, 3).map((s) => s.flags)).toEqual(['S', 'SA', 'A']);
    expect(d.segments.slice(-3).map((s) => s.flags)).toEqual(['FA', 'FA', 'A']);
    expect(d.segments.slice(-3).map((s) => s.from)).toEqual(['client', 'server', 'client']);
    expect(d.segments[3]).toMatchObject({ flags: 'PA', relSeq: 1, relAck: 1, len: 10 });
    // every state event is kept and can show its cause
    const states = d.events.filter((e) => e.type === 'state');
    expect(states).toHaveLength(10);
    for (const e of states) expect(e.type === 'state' && e.cause).toBeTruthy();
  });

  it('state events are always kept and their causes survive a long connection', () => {
    const c = conv();
    const specs = [...handshake(c), c.c('FA')];
    for (let i = 0; i < 300; i++) specs.push(c.s('PA', { len: 10 }), c.c('A')); // half-close
    specs.push(c.s('FA'), c.c('A'));
    const { t } = run(specs, { ladderHead: 4, ladderTail: 4 });
    const d = t.detail(t.list()[0].id)!;
    const fw1 = d.events.find((e) => e.type === 'state' && e.to === 'FIN_WAIT_1');
    expect(fw1).toMatchObject({ cause: { flags: 'FA', seq: 1001 } });
    const cw = d.events.find((e) => e.type === 'state' && e.to === 'CLOSE_WAIT');
    expect(cw).toMatchObject({ cause: { flags: 'FA', seq: 1001 } });
    // the FIN from the middle is kept in the ladder because events refer to it
    expect(d.segments.some((s) => s.flags === 'FA' && s.from === 'client')).toBe(true);
    expect(d.segments.length).toBeLessThan(20);
  });

  it('anomaly events per connection are bounded; counters are not', () => {
    const c = conv();
    const specs = [...handshake(c), c.c('PA', { len: 10 })];
    for (let i = 0; i < 500; i++) specs.push(c.c('PA', { len: 10, seq: 1001 }));
    const { t, events } = run(specs, { maxEventsPerConn: 16 });
    expect(events.filter((e) => e.type === 'anomaly')).toHaveLength(16);
    const v = t.list()[0];
    expect(v.anomalies).toBe(500);
    expect(t.stats().anomalies.retransmission).toBe(500);
    const d = t.detail(v.id)!;
    expect(d.eventsOmitted).toBe(500 - 16);
    expect(v.history).toBe('ShADTTT'); // Zeek logs t at counts 1, 10 and 100
  });
});

describe('stats', () => {
  it('counts by state, connState, open/closed, half-open', () => {
    const { t } = recorded();
    const a = conv(1, 1, '10.0.0.1:1001', SERVER);
    const b = conv(1, 1, '10.0.0.1:1002', SERVER);
    const c = conv(1, 1, '10.0.0.1:1003', SERVER);
    const d = conv(1, 1, '10.0.0.1:1004', SERVER);
    feed(t, [a.c('S'), b.c('S'), b.s('SA'), ...handshake(c), c.c('FA'), c.s('A'), d.c('S'), d.s('RA', { seq: 0 })]);
    const s = t.stats();
    expect(s).toMatchObject({ tracked: 4, open: 3, closed: 1, connectionsTotal: 4, halfOpen: 1, refused: 1, handshakesCompleted: 1 });
    expect(s.byServerState).toMatchObject({ LISTEN: 1, SYN_RECEIVED: 1, CLOSE_WAIT: 1, CLOSED: 1 });
    expect(s.byClientState).toMatchObject({ SYN_SENT: 1, ESTABLISHED: 1, FIN_WAIT_2: 1, CLOSED: 1 });
    expect(s.byConnState).toMatchObject({ S0: 1, S1: 1, S2: 1, REJ: 1 });
    const sum = (r: Record<string, number>) => Object.values(r).reduce((x, y) => x + y, 0);
    expect(sum(s.byClientState)).toBe(4);
    expect(sum(s.byServerState)).toBe(4);
    expect(sum(s.byConnState)).toBe(4);
  });

  it('get, detail and list agree', () => {
    const c = conv();
    const { t } = run([...handshake(c)]);
    const [v] = t.list();
    expect(t.get(v.id)).toEqual(v);
    const d = t.detail(v.id)!;
    expect(d.events.map((e) => e.type)).toEqual(['connection', 'state', 'handshake', 'state', 'state', 'handshake', 'state', 'handshake']);
    expect(t.get('nope')).toBeUndefined();
    expect(t.detail('999')).toBeUndefined();
  });

  it('the stored events are the emitted ones', () => {
    const c = conv();
    const { t, events } = run([...handshake(c), c.c('PA', { len: 4 }), c.c('PA', { len: 4, seq: 1001 }), c.s('RA')]);
    const d = t.detail(t.list()[0].id)!;
    const strip = (e: object) => JSON.parse(JSON.stringify(e, (k, v) => (k === 'connection' ? undefined : v)));
    expect(d.events.map(strip)).toEqual(events.map(strip));
  });
});

void CLIENT;
