// The query index (queryindex.ts) on the cases a replay rarely meets: two IPv6 addresses with the
// same 32-bit key, connections whose two ends share an address or a port, states changing, slots
// dropped and reused, the index built on a full table, and a table so small that it evicts.
import { describe, expect, it } from 'vitest';
import type { ConnectionView } from '../../src/track/connection';
import { addressWords } from '../../src/track/select';
import { addressKey } from '../../src/track/store';
import { Tracker } from '../../src/track/tracker';
import { matches, type Query } from './helpers';
import { Conversation, feed } from '../support/segments';


/** An IPv6 address other than `ip` whose key (store.ts addressKey) is the same. */
function sameKeyAs(ip: string): string {
  const a = addressWords(ip)!.words;
  const key = addressKey(a, 0, 4);
  const b = Int32Array.from([a[0], a[1], a[2] + 1, 0]);
  b[3] = key ^ addressKey(b, 0, 4); // the key is a mix of the first three words, xor the fourth
  expect(addressKey(b, 0, 4)).toBe(key);
  const bytes = new Uint8Array(b.buffer);
  const groups = Array.from({ length: 8 }, (_, i) => ((bytes[2 * i] << 8) | bytes[2 * i + 1]).toString(16));
  return new URL(`http://[${groups.join(':')}]/`).hostname.slice(1, -1); // as the views print it
}

function expectAllSameAsFilter(t: Tracker, hosts: string[], ports: number[]): void {
  const list = t.list();
  const states = new Set(list.flatMap((c) => [c.client.state, c.server.state]));
  const none: Query = { status: 'all', state: null, port: null, host: null };
  const qs: Query[] = [];
  for (const status of ['all', 'open', 'closed'] as const) {
    for (const host of hosts) qs.push({ ...none, status, host });
    for (const port of ports) qs.push({ ...none, status, port }, { ...none, status, port, host: hosts[0] });
    for (const state of states) qs.push({ ...none, status, state }, { ...none, status, state, host: hosts[1] });
  }
  for (const q of qs) {
    const expected = list.filter((c) => matches(c, q));
    for (const limit of [1, 2, 1000]) {
      const got: ConnectionView[] = [];
      let after = 0;
      for (;;) {
        const r = t.select({ ...q, afterId: after, limit });
        expect(r.total, JSON.stringify(q)).toBe(expected.length);
        got.push(...r.connections);
        if (!r.more) break;
        after = Number(r.connections[r.connections.length - 1].id);
      }
      expect(got, `${JSON.stringify(q)} limit ${limit}`).toEqual(expected);
    }
  }
}

describe('query index', () => {
  const A = '2001:db8::1:0:0:1';
  const B = sameKeyAs(A);
  const S = '2001:db8::80';
  const hosts = [A, B, S, '10.0.0.1', '10.0.0.2', '2001:db8::99'];
  const ports = [443, 5000, 40000, 40001, 1];

  function traffic(round: number) {
    const conv = [
      new Conversation(`[${A}]:${40000 + round}`, `[${S}]:443`),
      new Conversation(`[${B}]:${40000 + round}`, `[${S}]:443`),
      new Conversation(`[${A}]:${41000 + round}`, `[${A}]:443`), // both ends one address
      new Conversation(`10.0.0.1:5000`, `10.0.0.2:5000`, 100 + round, 900 + round), // both ends one port
      new Conversation(`10.0.0.1:${40000 + round}`, `10.0.0.1:443`),
    ];
    const [a, b, self, port, v4] = conv;
    return [
      a.c('S'), b.c('S'), self.c('S'), port.c('S'), v4.c('S'),
      a.s('SA'), b.s('SA'), self.s('SA'), port.s('SA'),
      a.c('A'), b.c('A'), self.c('A'), port.c('A'),
      v4.s('RA'), // refused
      a.c('FA'), b.s('FA'), // half-closed either way
      ...(round % 2 === 0 ? [a.s('FA'), a.c('A'), self.c('R')] : []),
    ];
  }

  for (const when of ['from the start', 'on a full table'] as const) {
    for (const max of [1000, 4]) {
      it(`${when}, table of ${max}`, () => {
        const t = new Tracker({ maxConnections: max });
        if (when === 'from the start') t.enableQueryIndex(1);
        let now = 1_000_000;
        for (let round = 0; round < 4; round++) {
          now = feed(t, traffic(round), now + 10) + 1;
          if (round === 1 && when === 'on a full table') t.enableQueryIndex(1);
          if (round >= 1) expectAllSameAsFilter(t, hosts, ports);
        }
        t.expire(now + 30_000); // timers: states change, closed ones go
        expectAllSameAsFilter(t, hosts, ports);
        now = feed(t, traffic(9), now + 40_000) + 1; // freed slots are reused
        expectAllSameAsFilter(t, hosts, ports);
        t.expire(now + 30 * 86_400_000); // past every idle timeout and the retention: the table empties
        expectAllSameAsFilter(t, hosts, ports);
        expect(t.stats().tracked).toBe(0);
      });
    }
  }
});
