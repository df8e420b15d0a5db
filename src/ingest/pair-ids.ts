import type { TrackerApi } from '../track/api';
import type { ConnectionView } from '../track/connection';
import { N, ipText } from '../track/record';

/** The key of an endpoint and its peer: `ip port peerIp peerPort`. */
export const pairKey = (ip: string, port: number, peerIp: string, peerPort: number): string => `${ip} ${port} ${peerIp} ${peerPort}`;

/**
 * Connection ids by their two endpoints, either way round, kept up to date from a tracker's events:
 * a connection is added as it opens and dropped as it leaves the table (then `onGone` hears of it,
 * with both keys).
 */
export class PairIds {
  private readonly ids = new Map<string, string>();

  constructor(tracker: TrackerApi, onGone?: (c: ConnectionView, keys: readonly [string, string]) => void) {
    // read in place: the keys are the only text made, once a connection
    tracker.onEventRecord((e) => {
      if (e.type !== 'connection' || e.phase !== 'opened') return;
      const f = e.connection();
      if (f === null) return;
      const id = e.connectionId;
      this.put(ipText(f, 0), f.num[N.port0], ipText(f, 1), f.num[N.port1], id);
    });
    tracker.onRemove((c) => {
      const keys = PairIds.keys(c);
      if (this.ids.get(keys[0]) === c.id) {
        this.ids.delete(keys[0]);
        this.ids.delete(keys[1]);
      }
      onGone?.(c, keys);
    });
  }

  get(key: string): string | undefined {
    return this.ids.get(key);
  }

  /** Records c (with the id `id`) under both its keys. */
  set(c: Pick<ConnectionView, 'client' | 'server'>, id: string): void {
    this.put(c.client.ip, c.client.port, c.server.ip, c.server.port, id);
  }

  /** Records `id` under the pair's keys, either way round. */
  private put(a: string, pa: number, b: string, pb: number, id: string): void {
    this.ids.set(pairKey(a, pa, b, pb), id);
    this.ids.set(pairKey(b, pb, a, pa), id);
  }

  private static keys(c: Pick<ConnectionView, 'client' | 'server'>): [string, string] {
    return [pairKey(c.client.ip, c.client.port, c.server.ip, c.server.port), pairKey(c.server.ip, c.server.port, c.client.ip, c.client.port)];
  }
}
