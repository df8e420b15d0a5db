// Composition: wires the stream, the REST safety net and the panels together.
import { getHealth, getStats, getTransitions, wsUrl } from './api.js';
import { sortRows } from './columns.js';
import { compileFilter } from './filter.js';
import { TCP_STATES } from './names.js';
import { DemoCases } from './demo-cases.js';
import { DiagramTips } from './diagram-tips.js';
import { HealthPanel } from './health.js';
import { explainEvents } from './learn.js';
import { SocketsPanels } from './sockets.js';
import { LadderPanel } from './ladder.js';
import { initRecent, renderEmpty } from './recent.js';
import { connectLive } from './live.js';
import { StateDiagram } from './state-diagram.js';
import { StatusBar } from './status.js';
import { Store } from './store.js';
import { RestSync } from './sync.js';
import { ConnTable } from './table.js';
import { initTheme } from './theme.js';

const REFRESH_MS = 5000;
const STATS_MS = 2000;
const RENDER_MIN_MS = 120;

const $ = (id) => document.getElementById(id);

const store = new Store();
let stats = null;
let source = null;
let latestTs = 0;
let serverStart = null;

const statusBar = new StatusBar({
  status: $('status'), statusText: $('status-text'), sourceText: $('source-text'),
  progress: $('source-progress'), notice: $('notice'),
});
initTheme($('theme-toggle'), $('theme-icon'), $('theme-label'));

// ---- filters (mirrored in the URL so a view can be shared) ----
const f = { port: $('f-port'), host: $('f-host'), state: $('f-state'), text: $('f-text'), closed: $('f-closed') };
for (const st of TCP_STATES) f.state.append(new Option(st, st));
const params = new URLSearchParams(location.search);
f.port.value = params.get('port') ?? '';
f.host.value = params.get('host') ?? '';
f.state.value = TCP_STATES.includes(params.get('state')) ? params.get('state') : '';
f.text.value = params.get('q') ?? '';
f.closed.checked = params.get('closed') === '1';

const recent = initRecent($('f-recent'), () => requestRender(true));

function filterValues() {
  return {
    port: f.port.value, host: f.host.value, state: f.state.value, text: f.text.value, showClosed: f.closed.checked,
    recentMs: recent.ms(),
  };
}

function showClosed() {
  f.closed.checked = true;
  syncUrl();
  requestRender(true);
}

function syncUrl() {
  const p = new URLSearchParams(location.search);
  const set = (k, v) => (v ? p.set(k, v) : p.delete(k));
  set('port', f.port.value.trim());
  set('host', f.host.value.trim());
  set('state', f.state.value);
  set('q', f.text.value.trim());
  set('closed', f.closed.checked ? '1' : '');
  const qs = p.toString();
  history.replaceState(null, '', `${location.pathname}${qs ? `?${qs}` : ''}${location.hash}`);
}

for (const el of Object.values(f)) {
  el.addEventListener('input', () => { syncUrl(); requestRender(true); });
  el.addEventListener('change', () => { syncUrl(); requestRender(true); });
}

// ---- panels ----
const diagram = new StateDiagram($('state-diagram'));
const tips = new DiagramTips(diagram, $('state-diagram'));
// The explanations; api.js asks for them once, and again only after a failure.
function loadTransitions() {
  getTransitions().then((doc) => tips.setDoc(doc), () => undefined);
}
loadTransitions();
const ladder = new LadderPanel(
  { box: $('ladder'), meta: $('ladder-meta'), sub: $('ladder-sub'), abs: $('ladder-abs'), learn: $('ladder-learn') },
  (d) => {
    if (!d) {
      diagram.setPaths(null, null);
    } else {
      const paths = { client: [], server: [] };
      for (const e of d.events) if (e.type === 'state') paths[e.side].push({ from: e.from, to: e.to });
      diagram.setPaths(paths, { client: d.client.state, server: d.server.state });
    }
    if (!tips.doc) loadTransitions();
    tips.setConnection(d && tips.doc ? explainEvents(tips.doc, d) : null);
  },
);

function select(id) {
  ladder.show(id);
  const hash = id == null ? '' : `#conn=${encodeURIComponent(id)}`;
  history.replaceState(null, '', `${location.pathname}${location.search}${hash}`);
}

/** Selects a connection from outside the table (a panel, a demo case): the table marks it too. */
function selectInTable(id) {
  table.markSelected(id);
  select(id);
}

const table = new ConnTable({
  grid: $('conn-grid'), head: $('conn-head'), body: $('conn-body'), empty: $('conn-empty'),
  onSelect: select,
  onSort: () => requestRender(true),
});
const demoCases = new DemoCases($('demo-cases'), (c) => {
  f.port.value = String(c.port);
  syncUrl();
  // The newest connection of the case, in the ladder (explained when Learn is on).
  let newest = null;
  for (const r of store.rows.values()) {
    if (r.c.server.port === c.port && (!newest || r.c.startedAt >= newest.c.startedAt)) newest = r;
  }
  render();
  if (newest) selectInTable(newest.c.id);
});
f.port.addEventListener('input', () => demoCases.portChanged(f.port.value));

const health = new HealthPanel($('health'), {
  onSelect: selectInTable,
});
const socketsPanels = new SocketsPanels(
  { listeners: $('listeners'), listenersSection: $('listeners-section'), diagnoses: $('diagnoses') },
  { onSelect: selectInTable, onChange: () => requestRender() },
);
socketsPanels.start();

// ---- rendering, batched: events can arrive by the thousand ----
let renderTimer = null;
let lastRender = 0;

function requestRender(soon = false) {
  if (renderTimer) return;
  const wait = soon ? 0 : Math.max(0, lastRender + RENDER_MIN_MS - performance.now());
  renderTimer = setTimeout(() => { renderTimer = null; requestAnimationFrame(render); }, wait);
}

/** The source's clock: wall time when live, the newest packet time when replaying a file. */
function sourceNow() {
  return source?.kind === 'file' ? latestTs : Date.now();
}

function render() {
  lastRender = performance.now();
  const pageNow = lastRender;
  const now = sourceNow();
  const fv = filterValues();
  const keep = compileFilter(fv);
  const all = [...store.rows.values()];
  let open = 0;
  let closed = 0;
  let hiddenClosed = 0;
  const shown = [];
  for (const r of all) {
    if (r.c.status === 'closed') closed++; else open++;
    if (keep(r, now)) shown.push(r);
    else if (r.c.status === 'closed' && keep.match(r)) hiddenClosed++;
  }
  table.setRows(sortRows(shown, table.sortKey, table.sortDir, now), { now, pageNow, showClosed: fv.showClosed, recentMs: fv.recentMs });
  renderEmpty($('conn-empty'), { shown: shown.length, hiddenClosed, total: all.length, onShowClosed: showClosed });
  // What the rows on screen are sorted by (the header shows the request at once, rows follow).
  table.grid.dataset.sorted = `${table.sortKey}:${table.sortDir}`;
  $('conn-count').textContent = `${shown.length} shown · ${open} open`;
  $('closed-count').textContent = `(${closed})`;
  const counts = sync.complete || !stats ? store.countStates() : { client: stats.endpoints.client, server: stats.endpoints.server };
  // sockets that listen with no connection yet are server endpoints in LISTEN too
  if (socketsPanels.listening) counts.server = { ...counts.server, LISTEN: (counts.server?.LISTEN ?? 0) + socketsPanels.listening };
  diagram.setCounts(counts);
  // The health panel redraws charts; once a second is plenty, or at once when new stats came in.
  if (stats !== healthStats || pageNow - lastHealth > 900) {
    health.update(stats, all, now, pageNow);
    healthStats = stats;
    lastHealth = pageNow;
  }
}
let healthStats = null;
let lastHealth = 0;

// Ages and fading move with the clock even when nothing arrives.
setInterval(() => requestRender(), 1000);

// ---- REST: the safety net under the stream ----
const sync = new RestSync(store, (connections) => {
  for (const c of connections) if (c.lastSeenAt > latestTs) latestTs = c.lastSeenAt;
  requestRender();
});

async function pollStats() {
  try {
    stats = await getStats();
    requestRender();
  } catch { /* keep the last figures */ }
}

async function pollHealth() {
  try {
    const body = await getHealth();
    // A smaller uptime than before means a new server process: ids start over there.
    const start = Date.now() - body.uptimeS * 1000;
    if (serverStart !== null && Math.abs(start - serverStart) > 2000) onNewServer();
    serverStart = start;
    source = body.source;
    statusBar.setSource(source);
    demoCases.set(source.demoCases);
  } catch (err) {
    if (err.status === 401) {
      statusBar.flash('This tcpscope requires a token: open the dashboard as /?token=YOUR_TOKEN.', 60_000);
    }
  }
  const fileBusy = source?.kind === 'file' && !source.done;
  setTimeout(pollHealth, fileBusy ? 1000 : 3000);
}

/** Ids start over in a new server process: what the page held, and its selection, mean nothing there. */
function onNewServer() {
  store.clear();
  health.reset();
  if (ladder.id != null) {
    selectInTable(null);
  }
  requestRender(true);
}

setInterval(() => sync.refresh(), REFRESH_MS);
setInterval(pollStats, STATS_MS);
pollHealth();
pollStats();

// ---- the stream ----
let lastResync = 0;
function resync() {
  lastResync = performance.now();
  sync.refresh();
  pollStats();
  if (ladder.id != null) ladder.fetchSoon(true);
}

connectLive(wsUrl(), {
  onStatus: (s) => statusBar.setLink(s),
  onHello: (msg) => {
    source = msg.source;
    statusBar.setSource(source);
    demoCases.set(source.demoCases);
  },
  onSnapshot: (msg, { firstOnSocket, reconnected, restarted }) => {
    const now = performance.now();
    if (restarted) onNewServer();
    if (firstOnSocket) {
      // After any reconnect the snapshot and the listing that follows rebuild the table from scratch.
      if (reconnected) store.clear();
      health.reset();
      health.seed(msg.connections);
    }
    for (const c of msg.connections) {
      store.upsert(c, now);
      if (c.lastSeenAt > latestTs) latestTs = c.lastSeenAt;
    }
    requestRender(true);
    resync();
  },
  onEvent: (e) => {
    if (e.ts > latestTs) latestTs = e.ts;
    if (!store.applyEvent(e)) sync.refreshSoon();
    else if (e.type !== 'connection' || !e.connection) sync.touch(e.connectionId);
    health.onEvent(e);
    ladder.onEvent(e);
    requestRender();
  },
  onLagged: (dropped) => {
    statusBar.lagged(dropped);
    resync();
  },
  onGap: () => {
    if (performance.now() - lastResync > 5000) resync();
  },
});

// A link to #conn=ID opens that connection's ladder.
const m = /^#conn=(.+)$/.exec(location.hash);
if (m) {
  const id = decodeURIComponent(m[1]);
  table.markSelected(id);
  ladder.show(id);
}
requestRender(true);
