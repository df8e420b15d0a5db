// The dashboard's name lists come from the server, written from the tracker's declarations: the
// module at /js/names.js is what a browser imports, and it holds the very lists of src/track.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventBus } from '../../src/events/bus';
import { Engine } from '../../src/ingest/engine';
import { createApp } from '../../src/server/app';
import { listen, type RunningServer } from '../../src/server/listen';
import { TCP_STATES } from '../../src/track/states';

describe('/js/names.js', () => {
  let server: RunningServer;

  beforeAll(async () => {
    const app = createApp({
      engine: new Engine(),
      bus: new EventBus(),
      version: 'test',
      token: 'a-token-the-module-does-not-need',
      source: () => ({ kind: 'live', iface: 'lo', filter: 'tcp', linkType: 1, frames: 0, bytes: 0, dropped: null }),
    });
    const r = await listen(app, '127.0.0.1', 0);
    if (!r.ok) throw new Error(r.message);
    server = r.running;
  });
  afterAll(async () => {
    await server?.close();
  });

  it('is an ES module of the tracker’s own lists, served like the rest of the dashboard', async () => {
    const res = await fetch(new URL('js/names.js', server.url));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/javascript/);
    const text = await res.text();
    const mod = await import(`data:text/javascript,${encodeURIComponent(text)}`);
    expect(mod.TCP_STATES).toEqual(TCP_STATES);
    expect(Object.isFrozen(mod.TCP_STATES)).toBe(true);
  });
});
