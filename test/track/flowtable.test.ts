// The flow table's table of recent slots is indexed by the two ports alone, and a hit is checked
// against the slot's key from the segment's bytes: connections that share their ports (the same
// pair between other hosts, the pair the other way round, both ports equal, IPv6 beside IPv4) must
// each find their own connection, in either direction, however their segments interleave; and an
// entry must not outlive its slot's connection.
import { describe, expect, it } from 'vitest';
import type { ConnectionView } from '../../src/track/connection';
import { feed, type SegSpec } from '../support/segments';
import { conv, handshake, recorded, run } from './helpers';

const PAIRS: [string, string][] = [
  ['10.0.0.1:40000', '10.0.0.2:8080'],
  ['10.0.0.3:40000', '10.0.0.2:8080'], // another client, the same ports
  ['10.0.0.1:40000', '10.0.0.4:8080'], // another server, the same ports
  ['10.0.0.7:8080', '10.0.0.8:40000'], // the first pair's ports the other way round
  ['10.0.0.2:40000', '10.0.0.1:8080'], // ... between the first pair's hosts, roles swapped
  ['10.0.0.5:5000', '10.0.0.6:5000'], // both ports equal
  ['10.0.0.7:5000', '10.0.0.5:5000'], // ... and another such pair sharing a host
  ['[fd00::1]:40000', '[fd00::2]:8080'], // IPv6 with the first pair's ports
  ['10.0.4.1:41024', '10.0.0.2:8080'], // a client port 1,024 above the first pair's: the same low bits
];

const convs = PAIRS.map(([a, b], i) => conv(1000 + i * 100, 90000 + i * 1000, a, b));
const scripts: SegSpec[][] = convs.map((c, i) => [
  ...handshake(c),
  c.c('PA', { len: 10 + i }),
  c.s('A'),
  c.s('PA', { len: 100 + i }),
  c.c('A'),
  c.c('FA'),
  c.s('FA'),
  c.c('A'),
]);

/** Every step of each listed pair before the next step of any, then each pair checked. */
function interleaved(which: number[]) {
  const specs: SegSpec[] = [];
  for (let k = 0; k < scripts[0].length; k++) for (const i of which) specs.push(scripts[i][k]);
  const { t } = run(specs);
  const list = t.list();
  expect(list.length).toBe(which.length);
  const at = (ep: { ip: string; port: number }) => (ep.ip.includes(':') ? `[${ep.ip}]:${ep.port}` : `${ep.ip}:${ep.port}`);
  for (const i of which) {
    const [a, b] = PAIRS[i];
    const v = list.find((x) => at(x.client) === a && at(x.server) === b);
    expect(v, `${a} → ${b}`).toBeDefined();
    expect([a, v!.client.state, v!.server.state]).toEqual([a, 'TIME_WAIT', 'CLOSED']);
    expect([a, v!.counts]).toEqual([a, { client: { packets: 6, bytes: 10 + i }, server: { packets: 4, bytes: 100 + i } }]);
    expect([a, v!.anomalies, v!.connState, v!.history]).toEqual([a, 0, 'SF', 'ShADadFf']);
  }
}

describe('flow lookup', () => {
  it('connections sharing their ports each find their own, in both directions, interleaved', () => {
    interleaved(PAIRS.map((_, i) => i));
  });

  // in the round robin each pair is looked up just after its predecessor's entry went in; here the
  // first pair's entry is the one every other pair meets, and theirs the one the first pair meets
  it.each(PAIRS.slice(1).map((p, i) => [p.join(' → '), i + 1] as const))('the first pair alternated with %s', (_, k) => {
    interleaved([0, k]);
  });
});

describe('an entry of the recent slots leaves with its slot', () => {
  // A is evicted and B takes its slot; A's next segment must not be taken for B's, whether B's own
  // entry lies elsewhere in the table (other ports) or B has none (IPv6 with A's ports)
  it.each([
    ['IPv4 with other ports', '10.0.0.3:40001', '10.0.0.2:8080'],
    ['IPv6 with the same ports', '[fd00::1]:40000', '[fd00::2]:8080'],
  ])('B %s', (_, bc, bs) => {
    const a = conv(1000, 5000, '10.0.0.1:40000', '10.0.0.2:8080');
    const b = conv(2000, 6000, bc, bs);
    const { t } = recorded({ maxConnections: 1 });
    const removed: ConnectionView[] = [];
    t.onRemove((v) => removed.push(v));
    const last = feed(t, [...handshake(a), ...handshake(b)], 1_000_000);
    const [bView] = t.list();
    expect(bView.client.port).toBe(Number(bc.split(':').pop()));
    expect(removed.map((v) => v.client.port)).toEqual([40000]);
    feed(t, [a.c('A')], last + 1);
    const list = t.list();
    expect(list.length).toBe(1);
    expect(list[0].id).not.toBe(bView.id);
    expect(list[0].id).not.toBe(removed[0].id);
    expect([list[0].client.ip, list[0].client.port, list[0].server.ip, list[0].server.port]).toEqual(['10.0.0.1', 40000, '10.0.0.2', 8080]);
    expect(removed.length).toBe(2);
    expect(removed[1].id).toBe(bView.id);
    expect(removed[1].counts).toEqual(bView.counts);
  });
});
