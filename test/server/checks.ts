// Checks of the HTTP API shared by the live and the replay tests: both must answer the same way
// about the same kind of traffic.
import { expect } from 'vitest';
import { API_ERROR_CODES } from '../../src/server/errors';
import { getJson, type Round, type TestTraffic } from '../cli/support';
import { parsePrometheus } from './prom';

export const expectedSequences = {
  // tcp-states.md: what the Linux kernel itself went through for a client-first close
  clientFirst: {
    client: ['CLOSED', 'SYN_SENT', 'ESTABLISHED', 'FIN_WAIT_1', 'FIN_WAIT_2', 'TIME_WAIT'],
    server: ['LISTEN', 'SYN_RECEIVED', 'ESTABLISHED', 'CLOSE_WAIT', 'LAST_ACK', 'CLOSED'],
  },
  serverFirst: {
    client: ['CLOSED', 'SYN_SENT', 'ESTABLISHED', 'CLOSE_WAIT', 'LAST_ACK', 'CLOSED'],
    server: ['LISTEN', 'SYN_RECEIVED', 'ESTABLISHED', 'FIN_WAIT_1', 'FIN_WAIT_2', 'TIME_WAIT'],
  },
};

/** Each side's states, from its first state event's `from` through every `to`. */
export function stateSequence(detail: any): { client: string[]; server: string[] } {
  const side = (s: string) => {
    const ev = detail.events.filter((e: any) => e.type === 'state' && e.side === s);
    return ev.length ? [ev[0].from, ...ev.map((e: any) => e.to)] : [];
  };
  return { client: side('client'), server: side('server') };
}

async function list(api: string, q: string): Promise<any> {
  const r = await getJson(`${api}api/connections?${q}`);
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return r.body;
}

export async function checkConnectionsApi(api: string, traffic: TestTraffic, round: Round, addConnection?: () => Promise<unknown>) {
  const { v4, v6, refused } = traffic.ports;
  const all = await list(api, `status=all&port=${v4}&limit=1000`);
  const byPort = (p: number) => all.connections.find((c: any) => c.client.port === p);
  for (const p of [round.clientFirst, round.serverFirst, round.halfClose, round.reset]) expect(byPort(p), `client port ${p}`).toBeDefined();
  expect(all.total).toBe(all.connections.length);
  expect(all.nextCursor).toBeNull();

  // The Connection object of interface.md
  const cf = byPort(round.clientFirst);
  expect(cf).toMatchObject({
    family: 4,
    client: { ip: '127.0.0.1', port: round.clientFirst, state: 'TIME_WAIT' },
    server: { ip: '127.0.0.1', port: v4, state: 'CLOSED' },
    connState: 'SF',
    partial: false,
    closedBy: 'client',
    closeKind: 'fin',
  });
  expect(typeof cf.id).toBe('string');
  expect(cf.history).toMatch(/^S/);
  expect(cf.handshake.synAt).toBeLessThanOrEqual(cf.handshake.synAckAt);
  expect(cf.handshake.synAckAt).toBeLessThanOrEqual(cf.handshake.ackAt);
  expect(cf.handshake.rttMs).toBeGreaterThanOrEqual(0);
  expect(cf.counts.client.bytes).toBe(4); // "GET\n"
  expect(cf.counts.server.bytes).toBe('hello from the server\n'.length);

  const sf = byPort(round.serverFirst);
  expect(sf).toMatchObject({ client: { state: 'CLOSED' }, server: { state: 'TIME_WAIT' }, connState: 'SF', closedBy: 'server' });

  const hc = byPort(round.halfClose);
  expect(hc.client.state).toBe('TIME_WAIT');
  expect(hc.counts.server.bytes).toBeGreaterThan(0); // the server kept sending after the client's FIN

  const rs = byPort(round.reset);
  expect(rs.closeKind).toBe('rst');
  expect(['RSTO', 'RSTR']).toContain(rs.connState);

  // status defaults to open
  const open = await list(api, `port=${v4}`);
  expect(open.connections.every((c: any) => c.status === 'open')).toBe(true);
  const closed = await list(api, `status=closed&port=${v4}&limit=1000`);
  expect(closed.connections.every((c: any) => c.status === 'closed')).toBe(true);
  expect(open.total + closed.total).toBe(all.total);

  // state matches either endpoint
  const tw = await list(api, `status=all&state=TIME_WAIT&port=${v4}&limit=1000`);
  const twPorts = tw.connections.map((c: any) => c.client.port);
  expect(twPorts).toEqual(expect.arrayContaining([round.clientFirst, round.serverFirst, round.halfClose]));
  expect(twPorts).not.toContain(round.reset);
  expect(tw.connections.every((c: any) => c.client.state === 'TIME_WAIT' || c.server.state === 'TIME_WAIT')).toBe(true);
  expect((await list(api, `status=all&state=time_wait&port=${v4}&limit=1000`)).total).toBe(tw.total);

  // host
  if (v6 !== null && round.ipv6 !== null) {
    const six = await list(api, 'status=all&host=::1&limit=1000');
    expect(six.connections.map((c: any) => c.client.port)).toContain(round.ipv6);
    expect(six.connections.every((c: any) => c.client.ip === '::1' && c.family === 6)).toBe(true);
    // the same address written out in full matches too
    expect((await list(api, 'status=all&host=0:0:0:0:0:0:0:1&limit=1000')).total).toBe(six.total);
  }

  // the refused attempt: REJ, the server endpoint never existed
  const rej = await list(api, `status=all&port=${refused}`);
  expect(rej.total).toBeGreaterThanOrEqual(1);
  const r0 = rej.connections[rej.connections.length - 1];
  expect(r0).toMatchObject({ connState: 'REJ', closeKind: 'refused', client: { state: 'CLOSED' }, server: { state: 'CLOSED', port: refused } });
  const rejDetail = (await getJson(`${api}api/connections/${r0.id}`)).body;
  expect(stateSequence(rejDetail)).toEqual({ client: ['CLOSED', 'SYN_SENT', 'CLOSED'], server: [] });

  // pagination: the cursor stays valid while connections are added
  const seen: string[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const page: any = await list(api, `status=all&port=${v4}&limit=2${cursor ? `&cursor=${cursor}` : ''}`);
    expect(page.connections.length).toBeLessThanOrEqual(2);
    seen.push(...page.connections.map((c: any) => c.id));
    cursor = page.nextCursor;
    if (pages++ === 0 && addConnection) await addConnection();
  } while (cursor);
  expect(new Set(seen).size).toBe(seen.length);
  expect(seen.slice(0, all.connections.length)).toEqual(all.connections.map((c: any) => c.id));
  if (addConnection) expect(seen.length).toBeGreaterThan(all.connections.length);

  // detail: events and the ladder, headers only
  const d = (await getJson(`${api}api/connections/${cf.id}`)).body;
  expect(d.id).toBe(cf.id);
  expect(stateSequence(d)).toEqual(expectedSequences.clientFirst);
  expect(d.segments[0]).toMatchObject({ from: 'client', flags: 'S', relSeq: 0, len: 0 });
  expect(d.segments[1]).toMatchObject({ from: 'server', flags: 'SA', relSeq: 0, relAck: 1 });
  for (const s of d.segments) expect(Object.keys(s).sort()).toEqual(['ack', 'flags', 'from', 'len', 'relAck', 'relSeq', 'seq', 'ts', 'win']);
  expect(JSON.stringify(d)).not.toContain('hello from the server'); // payload is never served

  // errors
  const nf = await getJson(`${api}api/connections/no-such-connection`);
  expect(nf.status).toBe(404);
  expect(nf.body.error).toBe('not-found');
  expect(API_ERROR_CODES).toContain(nf.body.error);
  for (const [q, param] of [
    ['limit=0', 'limit'],
    ['limit=1001', 'limit'],
    ['limit=ten', 'limit'],
    ['status=sleeping', 'status'],
    ['state=DANCING', 'state'],
    ['port=65536', 'port'],
    ['port=-1', 'port'],
    ['host=example.com', 'host'],
    ['cursor=bm90LWEtY3Vyc29y', 'cursor'],
    ['port=1&port=2', 'port'],
    ['colour=blue', 'colour'],
  ]) {
    const r = await getJson(`${api}api/connections?${q}`);
    expect(r.status, q).toBe(400);
    expect(r.body.error, q).toContain(`'${param}'`);
    expect(r.body.detail, q).toMatch(new RegExp(`^${param}: `));
  }
  expect((await getJson(`${api}api/stats?verbose=1`)).status).toBe(400);
  expect((await getJson(`${api}api/nothing-here`)).status).toBe(404);
}

export async function checkStats(api: string) {
  const { status, body } = await getJson(`${api}api/stats`);
  expect(status).toBe(200);
  expect(body.connections.total).toBeGreaterThanOrEqual(5);
  expect(body.connections.open + body.connections.closed).toBe(body.connections.tracked);
  expect(Object.keys(body.endpoints.client)).toEqual(expect.arrayContaining(['CLOSED', 'LISTEN', 'ESTABLISHED', 'TIME_WAIT']));
  expect(Object.keys(body.endpoints.server).length).toBe(11);
  expect(body.connState.SF).toBeGreaterThanOrEqual(2);
  expect(body.connState.REJ).toBeGreaterThanOrEqual(1);
  expect(body.handshakes.completed).toBeGreaterThanOrEqual(4);
  const { p50, p90, p99 } = body.handshakes.rttMs;
  expect(p50).toBeGreaterThanOrEqual(0);
  expect(p50).toBeLessThanOrEqual(p90);
  expect(p90).toBeLessThanOrEqual(p99);
  expect(body.resets).toBeGreaterThanOrEqual(1);
  expect(body.refused).toBeGreaterThanOrEqual(1);
  expect(typeof body.halfOpen).toBe('number');
  expect(body.timeWait).toBeGreaterThanOrEqual(2);
  expect(typeof body.closeWait).toBe('number');
  expect(body.capture.packets).toBeGreaterThan(20);
  expect(body.capture.bytes).toBeGreaterThan(body.capture.packets * 40);
  expect(typeof body.capture.decodeErrors).toBe('object');
  expect(typeof body.capture.evictions).toBe('number');
}

export async function checkMetrics(api: string) {
  const r = await fetch(`${api}metrics`);
  expect(r.status).toBe(200);
  expect(r.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  const fams = parsePrometheus(await r.text());
  const fam = (name: string, type: string) => {
    const f = fams.get(name);
    expect(f, name).toBeDefined();
    expect(f!.type, name).toBe(type);
    expect(f!.help.length, name).toBeGreaterThan(0);
    return f!;
  };
  const ep = fam('tcpscope_endpoints', 'gauge');
  expect(ep.samples).toHaveLength(22);
  for (const s of ep.samples) expect(Object.keys(s.labels).sort()).toEqual(['side', 'state']);
  expect(ep.samples.find((s) => s.labels.side === 'client' && s.labels.state === 'TIME_WAIT')!.value).toBeGreaterThanOrEqual(1);
  for (const c of [
    'tcpscope_connections_total',
    'tcpscope_handshakes_total',
    'tcpscope_resets_total',
    'tcpscope_refused_total',
    'tcpscope_evictions_total',
    'tcpscope_packets_total',
  ]) {
    const f = fam(c, 'counter');
    expect(f.samples).toHaveLength(1);
    expect(f.samples[0].value).toBeGreaterThanOrEqual(0);
  }
  expect(fams.get('tcpscope_handshakes_total')!.samples[0].value).toBeGreaterThanOrEqual(4);
  expect(fams.get('tcpscope_refused_total')!.samples[0].value).toBeGreaterThanOrEqual(1);
  const de = fam('tcpscope_decode_errors_total', 'counter');
  for (const s of de.samples) expect(Object.keys(s.labels)).toEqual(['code']);
  const cs = fam('tcpscope_connections_by_conn_state', 'gauge');
  expect(cs.samples.find((s) => s.labels.conn_state === 'SF')!.value).toBeGreaterThanOrEqual(2);
  const h = fam('tcpscope_handshake_rtt_seconds', 'histogram');
  const buckets = h.samples.filter((s) => s.name.endsWith('_bucket'));
  expect(buckets[buckets.length - 1].labels.le).toBe('+Inf');
  for (let i = 1; i < buckets.length; i++) expect(buckets[i].value).toBeGreaterThanOrEqual(buckets[i - 1].value);
  const count = h.samples.find((s) => s.name === 'tcpscope_handshake_rtt_seconds_count')!.value;
  expect(count).toBe(buckets[buckets.length - 1].value);
  expect(count).toBeGreaterThanOrEqual(4);
  fam('process_cpu_seconds_total', 'counter');
}
