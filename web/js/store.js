// The page's copy of the tracker's connections, kept current from WebSocket events and REST pages.

/**
 * A row: { c: Connection, touched: page time of the last update, since: { client, server } packet
 * time each endpoint entered its state, when known }.
 */
export class Store {
  constructor() {
    this.rows = new Map();
    this.version = 0;
  }

  clear() {
    this.rows.clear();
    this.version++;
  }

  get(id) {
    return this.rows.get(id);
  }

  /**
   * Takes a Connection unless the page already holds a newer copy: a REST page fetched before an
   * event arrived must not undo that event.
   */
  upsert(c, now = performance.now()) {
    const row = this.rows.get(c.id);
    if (!row) {
      this.rows.set(c.id, {
        c,
        touched: now,
        since: { client: null, server: null },
      });
      this.version++;
      return true;
    }
    if ((c.lastSeenAt ?? 0) < (row.c.lastSeenAt ?? 0)) return false;
    for (const side of ['client', 'server']) {
      if (row.c[side].state !== c[side].state) row.since[side] = null;
    }
    row.c = c;
    row.touched = now;
    this.version++;
    return true;
  }

  remove(id) {
    if (this.rows.delete(id)) this.version++;
  }

  /** Applies one event; returns false when it names a connection the page does not hold yet. */
  applyEvent(e, now = performance.now()) {
    if (e.type === 'connection') {
      if (e.phase === 'evicted') {
        this.remove(e.connectionId);
        return true;
      }
      if (e.connection) {
        this.upsert(e.connection, now);
        return true;
      }
    }
    const row = this.rows.get(e.connectionId);
    if (!row) return false;
    const c = row.c;
    if (e.ts > (c.lastSeenAt ?? 0)) c.lastSeenAt = e.ts;
    switch (e.type) {
      case 'state':
        c[e.side].state = e.to;
        row.since[e.side] = e.ts;
        break;
      case 'handshake':
        if (e.phase === 'established' && e.rttMs != null) c.handshake.rttMs = e.rttMs;
        break;
      case 'connection':
        if (e.phase === 'closed' && c.status !== 'closed') {
          c.status = 'closed';
          c.endedAt = e.ts;
        }
        break;
      case 'refused':
        c.closeKind = 'refused';
        break;
      default:
        break;
    }
    row.touched = now;
    this.version++;
    return true;
  }

  /**
   * Replaces the whole set from a complete REST listing taken at page time `startedAt`: rows the
   * server no longer tracks go, unless an event touched them after the listing began.
   */
  reconcile(list, startedAt) {
    const seen = new Set();
    for (const c of list) {
      seen.add(c.id);
      this.upsert(c, startedAt);
    }
    for (const [id, row] of this.rows) {
      if (!seen.has(id) && row.touched < startedAt) this.rows.delete(id);
    }
    this.version++;
  }

  /** Endpoints per state, counted from the rows the page holds. */
  countStates() {
    const client = {};
    const server = {};
    for (const { c } of this.rows.values()) {
      client[c.client.state] = (client[c.client.state] ?? 0) + 1;
      server[c.server.state] = (server[c.server.state] ?? 0) + 1;
    }
    return { client, server };
  }
}
