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
        this.summary(e, now);
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
   * A `connection` event's summary (protocol 3: endpoints and states, and on close how it ended):
   * a new row from it, with the fields it does not carry empty until REST fills them in, or the
   * fields it carries laid over the row the page holds.
   */
  summary(e, now) {
    const s = e.connection;
    const row = this.rows.get(e.connectionId);
    if (!row) {
      this.rows.set(e.connectionId, { c: fromSummary(e.connectionId, e.ts, s), touched: now, since: { client: null, server: null } });
      this.version++;
      return;
    }
    const c = row.c;
    if (e.ts < (c.lastSeenAt ?? 0) && c.status === 'closed') return;
    for (const side of ['client', 'server']) {
      if (c[side].state !== s[side].state) {
        c[side].state = s[side].state;
        row.since[side] = null;
      }
    }
    for (const k of SUMMARY_FIELDS) if (s[k] !== undefined) c[k] = s[k];
    if (s.counts) c.counts = s.counts;
    if (s.rttMs != null) c.handshake.rttMs = s.rttMs;
    if (e.ts > (c.lastSeenAt ?? 0)) c.lastSeenAt = e.ts;
    row.touched = now;
    this.version++;
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

/** The Connection fields a summary carries as they are. */
const SUMMARY_FIELDS = ['status', 'partial', 'rolesGuessed', 'captureGap', 'startedAt', 'connState', 'history', 'closedBy', 'closeKind', 'endedAt'];

/** A Connection from a summary: what it does not say is empty (REST fills it in). */
function fromSummary(id, ts, s) {
  const end = (x) => ({ ip: x.ip, port: x.port, state: x.state });
  return {
    id,
    family: s.client.ip.includes(':') ? 6 : 4,
    client: end(s.client),
    server: end(s.server),
    status: s.status,
    connState: s.connState ?? null,
    history: s.history ?? '',
    partial: s.partial,
    captureGap: s.captureGap,
    rolesGuessed: s.rolesGuessed,
    startedAt: s.startedAt,
    endedAt: s.endedAt ?? null,
    lastSeenAt: ts,
    handshake: { synAt: null, synAckAt: null, ackAt: null, rttMs: s.rttMs ?? null, synToSynAckMs: null, synAckToAckMs: null },
    closedBy: s.closedBy ?? null,
    closeKind: s.closeKind ?? null,
    counts: s.counts ?? { client: { packets: 0, bytes: 0 }, server: { packets: 0, bytes: 0 } },
  };
}
