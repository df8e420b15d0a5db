import type { StateEvent, TcpEvent } from '../../src/events/types';
import { Tracker } from '../../src/track/tracker';
import type { TrackerOptions } from '../../src/track/api';
import type { ConnectionView } from '../../src/track/connection';
import type { Selection } from '../../src/track/select';
import { Conversation, feed, type SegSpec } from '../support/segments';

export const CLIENT = '10.0.0.1:40000';
export const SERVER = '10.0.0.2:8080';

/** A tracker with a recording sink. */
export function recorded(opts?: Partial<TrackerOptions>): { t: Tracker; events: TcpEvent[] } {
  const t = new Tracker(opts);
  const events: TcpEvent[] = [];
  t.onEvent((e) => events.push(e));
  return { t, events };
}

/** The sequence of states one side went through, starting with its initial state. */
export function path(events: TcpEvent[], side: 'client' | 'server', id?: string): string[] {
  const st = events.filter(
    (e): e is StateEvent => e.type === 'state' && e.side === side && (id === undefined || e.connectionId === id),
  );
  if (st.length === 0) return [];
  return [st[0].from, ...st.map((e) => e.to)];
}

export function run(specs: SegSpec[], opts?: Partial<TrackerOptions>, t0 = 1_000_000) {
  const r = recorded(opts);
  const last = feed(r.t, specs, t0);
  return { ...r, last };
}

/** The standard three-way handshake. */
export function handshake(c: Conversation): SegSpec[] {
  return [c.c('S'), c.s('SA'), c.c('A')];
}

export function conv(isnC = 1000, isnS = 5000, client = CLIENT, server = SERVER): Conversation {
  return new Conversation(client, server, isnC, isnS);
}

export const kinds = (events: TcpEvent[], type: TcpEvent['type']) =>
  events.filter((e) => e.type === type).map((e) => (e as { kind?: string; phase?: string }).kind ?? (e as { phase?: string }).phase);

/** A small deterministic generator (xorshift32), so a failing seed replays exactly. */
export function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 4294967296;
  };
}

/** A list query's filters, without its page. */
export type Query = Omit<Selection, 'afterId' | 'limit'>;

/** The plain filter a list query must agree with, whatever index or walk answers it. */
export function matches(c: ConnectionView, q: Query): boolean {
  return (
    (q.status === 'all' || c.status === q.status) &&
    (q.state === null || c.client.state === q.state || c.server.state === q.state) &&
    (q.port === null || c.client.port === q.port || c.server.port === q.port) &&
    (q.host === null || c.client.ip === q.host || c.server.ip === q.host)
  );
}
