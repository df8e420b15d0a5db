// Keeps the store in step with the server over REST: a full listing now and then, and small
// per-connection queries for the rows events have just touched.
import { listAll, listEndpoint } from './api.js';

// Events say what changed but not every field (connState, counters): the rows they touch are
// refetched this soon after, one small query each, or in one full listing when many were touched.
const TOUCH_MS = 400;
const TOUCH_MAX = 12;
const FULL_REFRESH_MIN_MS = 2000;

export class RestSync {
  /** onListed(connections) runs after every batch of connections taken into the store. */
  constructor(store, onListed) {
    this.store = store;
    this.onListed = onListed;
    this.complete = false;
    this.running = null;
    this.lastFull = 0;
    this.soonTimer = null;
    this.touched = new Set();
    this.touchTimer = null;
  }

  /** Lists every tracked connection; rows the server has dropped leave the store. */
  refresh() {
    if (this.running) return this.running;
    const startedAt = performance.now();
    this.lastFull = startedAt;
    this.running = listAll({ status: 'all' })
      .then(({ connections, complete }) => {
        if (complete) this.store.reconcile(connections, startedAt);
        else for (const c of connections) this.store.upsert(c, startedAt);
        this.complete = complete;
        this.onListed(connections);
      })
      .catch(() => { /* the stream's status already says when the server is away */ })
      .finally(() => { this.running = null; });
    return this.running;
  }

  /** A full refresh shortly, but never more often than FULL_REFRESH_MIN_MS. */
  refreshSoon(ms = 400) {
    if (this.soonTimer) return;
    const wait = Math.max(ms, this.lastFull + FULL_REFRESH_MIN_MS - performance.now());
    this.soonTimer = setTimeout(() => { this.soonTimer = null; this.refresh(); }, wait);
  }

  touch(id) {
    this.touched.add(id);
    if (!this.touchTimer) this.touchTimer = setTimeout(() => this.flushTouched(), TOUCH_MS);
  }

  flushTouched() {
    this.touchTimer = null;
    const ids = [...this.touched];
    this.touched.clear();
    if (ids.length > TOUCH_MAX) return this.refreshSoon(0);
    const startedAt = performance.now();
    for (const id of ids) {
      const row = this.store.get(id);
      if (!row) continue;
      listEndpoint(row.c.client.ip, row.c.client.port)
        .then((list) => {
          for (const c of list) this.store.upsert(c, startedAt);
          this.onListed(list);
        })
        .catch(() => { /* the next full refresh covers it */ });
    }
  }
}
