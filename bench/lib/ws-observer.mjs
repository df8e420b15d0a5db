// A WebSocket client connected like the dashboard (no filter), in its own process so that its
// clock readings are not delayed by the load generator. For every event it notes
// receive time − event ts: the capture timestamp is epoch-anchored, and so is this clock
// (performance.timeOrigin + performance.now(), sub-millisecond).
//   argv[2] = ws URL; IPC: parent sends 'report', child answers with the figures.
import WebSocket from 'ws';

const url = process.argv[2];
const lat = new Float64Array(4_000_000);
let n = 0;
// The same per kind of event (type, and the phase or the state reached), to tell which make the tail.
const byKind = new Map();
const kindOf = (e) => `${e.type}:${e.type === 'state' ? `${e.to}${e.cause === null ? ' (timer)' : ''}` : (e.phase ?? e.kind ?? '')}`;
const note = (e, ms) => {
  const k = kindOf(e);
  let a = byKind.get(k);
  if (a === undefined) byKind.set(k, (a = []));
  if (a.length < 1_000_000) a.push(ms);
};
const stats = { messages: 0, events: 0, lagged: 0, laggedDropped: 0, snapshots: 0, gaps: 0, closedEvents: 0, bytes: 0 };
let lastSeq = null;
const now = () => performance.timeOrigin + performance.now();
const ws = new WebSocket(url);
// The client's own CPU (it may be what falls behind): time in its message handler, and all of it.
let handlerMs = 0;
let cpu0 = process.cpuUsage();
let wall0 = performance.now();
ws.on('message', (data) => {
  const t = now();
  const h0 = performance.now();
  stats.messages++;
  stats.bytes += data.length;
  const m = JSON.parse(data.toString());
  if (m.type === 'events') {
    // protocol 2 and 3: one batch per flush, numbered from m.seq on
    if (lastSeq !== null && m.seq !== lastSeq + 1) stats.gaps++;
    lastSeq = m.seq + m.events.length - 1;
    for (const e of m.events) {
      stats.events++;
      if (n < lat.length) lat[n++] = t - e.ts;
      note(e, t - e.ts);
      if (e.type === 'connection' && e.phase === 'closed') stats.closedEvents++;
    }
  } else if (m.type === 'event') {
    stats.events++;
    if (n < lat.length) lat[n++] = t - m.event.ts;
    if (lastSeq !== null && m.seq !== lastSeq + 1) stats.gaps++;
    lastSeq = m.seq;
    if (m.event.type === 'connection' && m.event.phase === 'closed') stats.closedEvents++;
  } else if (m.type === 'snapshot') {
    stats.snapshots++;
    lastSeq = m.seq;
  } else if (m.type === 'lagged') {
    stats.lagged++;
    stats.laggedDropped += m.dropped;
  }
  handlerMs += performance.now() - h0;
});
ws.on('open', () => process.send({ ready: true }));
ws.on('error', (e) => process.send({ error: String(e) }));
ws.on('close', () => (stats.closed = true));
// 'report' answers and ends; 'phase' answers and starts counting afresh.
process.on('message', (m) => {
  if (m !== 'report' && m !== 'phase') return;
  const sorted = lat.slice(0, n).sort();
  const p = (q) => (n ? sorted[Math.min(n - 1, Math.ceil((q / 100) * n) - 1)] : null);
  const cpu = process.cpuUsage(cpu0);
  const wall = performance.now() - wall0;
  const client = { handlerBusyPct: (100 * handlerMs) / wall, cpuPct: (100 * (cpu.user + cpu.system)) / 1000 / wall };
  const kinds = {};
  for (const [k, a] of [...byKind].sort((x, y) => y[1].length - x[1].length)) {
    a.sort((x, y) => x - y);
    const q = (f) => Math.round(a[Math.min(a.length - 1, Math.ceil(f * a.length) - 1)] * 10) / 10;
    kinds[k] = { n: a.length, p50: q(0.5), p99: q(0.99), max: q(1) };
  }
  process.send({ report: { ...stats, client, latencyMs: { p50: p(50), p90: p(90), p99: p(99), max: n ? sorted[n - 1] : null, samples: n }, latencyByKind: kinds } });
  if (m === 'phase') {
    n = 0;
    byKind.clear();
    handlerMs = 0;
    cpu0 = process.cpuUsage();
    wall0 = performance.now();
    for (const k of Object.keys(stats)) if (typeof stats[k] === 'number') stats[k] = 0;
    return;
  }
  ws.close();
  setTimeout(() => process.exit(0), 200);
});
process.on('disconnect', () => process.exit(0));
