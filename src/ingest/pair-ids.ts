import type { TrackerApi } from '../track/api';
import type { ConnectionView } from '../track/connection';

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
    tracker.onEvent((e) => {
      if (e.type === 'connection' && e.phase === 'opened' && e.connection) this.set(e.connection, e.connectionId);
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
    const [a, b] = PairIds.keys(c);
    this.ids.set(a, id);
    this.ids.set(b, id);
  }

  private static keys(c: Pick<ConnectionView, 'client' | 'server'>): [string, string] {
    return [pairKey(c.client.ip, c.client.port, c.server.ip, c.server.port), pairKey(c.server.ip, c.server.port, c.client.ip, c.client.port)];
  }
}
