#!/usr/bin/env node
// REST at scale, as users run it: `tcpscope replay FILE --speed max` of captures holding 100 000 and
// 1 000 000 whole connections (bench/lib/held-conns-pcap.mjs; the files span 100 s of capture time,
// well inside the 300 s closed retention, and --max-connections keeps them all), queried with a
// real HTTP client (fetch, keep-alive) on loopback:
//   - while the file plays: GET /api/health and a first page, one after the other, all along;
//   - once it has played: every kind of list query (first page, cursor pages, status, state, port,
//     host, combinations; each answer carries `total`) and the detail endpoint, `--requests` each.
// The server's event loop is watched with its own monitorEventLoopDelay (prom-client's
// nodejs_eventloop_lag_max_seconds, which resets on every scrape of /metrics): the largest delay
// over each group of requests, less the monitor's 10 ms resolution, is the longest the loop was
// held.
//
// With --before DIR (a built checkout of another commit, such as .bench-data/rev-<commit>), each
// size is run on that build and on this one in turn, in one run, so that the two face the same load.
// Each table ends with the verdicts on the targets (TARGETS below). With --rounds N the whole run is
// repeated N times (before, after, before, after, … for each size), and a summary gives each
// request's p99 in every round side by side: on a shared machine one round says little on its own.
//
//   node bench/rest.mjs [--sizes 100000,1000000] [--requests 200] [--before DIR] [--rounds 1] [--json out.json]
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { buildOnce, ROOT, TARGET } from './lib/build.mjs';
import { writeHeldConnections } from './lib/held-conns-pcap.mjs';
import { loadAverage, percentile, round, rssBytes } from './lib/proc.mjs';
import { startTcpscope } from './lib/tcpscope.mjs';

const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : def;
};
const sizes = opt('--sizes', '100000,1000000').split(',').map(Number);
const requests = Number(opt('--requests', 200));
const jsonOut = opt('--json', null);
const before = opt('--before', null);
const rounds = Number(opt('--rounds', 1));
const DATA = path.join(ROOT, '.bench-data');
/** prom-client's monitorEventLoopDelay resolution (eventLoopMonitoringPrecision). */
const MONITOR_RESOLUTION_MS = 10;
/** The targets (ms): p99 of every list query, p99 of the detail endpoint, the longest the loop is held, p99 of health and a first page during the replay. */
const TARGETS = { list: 20, detail: 5, loopHeld: 20, duringReplay: 50 };

await buildOnce();

async function timed(url) {
  const t0 = performance.now();
  const r = await fetch(url);
  const text = await r.text();
  const ms = performance.now() - t0;
  if (r.status !== 200) throw new Error(`${url}: ${r.status} ${text.slice(0, 200)}`);
  return { ms, text, bytes: text.length };
}

function summary(ms) {
  const s = [...ms].sort((a, b) => a - b);
  return { n: s.length, p50: round(percentile(s, 50)), p99: round(percentile(s, 99)), max: round(s[s.length - 1]) };
}

/** The longest the server's loop was held since the last scrape (ms), from its own monitor. */
async function loopHeldMs(base) {
  const t = await (await fetch(`${base}metrics`)).text();
  const m = /^nodejs_eventloop_lag_max_seconds (\S+)$/m.exec(t);
  return m ? round(Math.max(0, Number(m[1]) * 1000 - MONITOR_RESOLUTION_MS)) : null;
}

async function runOne(root, n) {
  const file = path.join(DATA, `held-${n}.pcap`);
  if (!existsSync(file)) {
    const t0 = performance.now();
    const w = writeHeldConnections(file, { connections: n });
    console.error(`made ${file}: ${w.packets} packets, ${(w.bytes / 2 ** 20).toFixed(0)} MiB in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
  const cmd = ['replay', file, '--speed', 'max', '--max-connections', String(n + 1000), '--listen', '127.0.0.1:0'];
  console.error(`\n== ${n} connections, build ${root}: tcpscope ${cmd.join(' ')}   (load ${loadAverage().join(' ')})`);
  const load0 = loadAverage();
  const t0 = performance.now();
  const tcp = await startTcpscope(cmd, { root });
  const base = tcp.url;

  // ---- while the file plays
  const during = { health: [], firstPage: [] };
  await loopHeldMs(base);
  for (;;) {
    const h = await timed(`${base}api/health`);
    during.health.push(h.ms);
    during.firstPage.push((await timed(`${base}api/connections?limit=100`)).ms);
    if (JSON.parse(h.text).source.done) break;
    await new Promise((r) => setTimeout(r, 5));
  }
  const replayS = (performance.now() - t0) / 1000;
  const duringHeld = await loopHeldMs(base);
  const row = {
    connections: n,
    build: root,
    // as run from the top of the checkout
    command: `tcpscope ${cmd.map((x) => (x === file ? path.relative(ROOT, file) : x)).join(' ')}`,
    load: load0,
    replaySeconds: round(replayS, 1),
    duringReplay: { health: summary(during.health), firstPage: summary(during.firstPage), loopHeldMaxMs: duringHeld },
    queries: [],
    rssMiB: round(rssBytes(tcp.pid) / 2 ** 20, 0),
  };
  console.error(`replayed in ${row.replaySeconds} s (with the queries below running all along)`);
  console.error(`  during replay: health ${JSON.stringify(row.duringReplay.health)}; first page ${JSON.stringify(row.duringReplay.firstPage)}; loop held ≤ ${duringHeld} ms`);

  // ---- once it has played
  const first = JSON.parse((await timed(`${base}api/connections?status=all&limit=1`)).text);
  const total = first.total;
  const mid = Math.floor(total / 2);
  const cursorAt = (id) => Buffer.from('c1.' + id.toString(36)).toString('base64url');
  const queries = [
    ['first page (open, limit 100)', () => 'api/connections?limit=100'],
    ['first page, all, limit 1000', () => 'api/connections?status=all&limit=1000'],
    ['cursor pages, all, limit 100', (i) => `api/connections?status=all&limit=100&cursor=${cursorAt(1 + ((i * 7919) % total))}`],
    ['cursor pages, open, limit 100', (i) => `api/connections?limit=100&cursor=${cursorAt(1 + ((i * 7919) % total))}`],
    ['status=closed', () => 'api/connections?status=closed&limit=100'],
    ['state=CLOSE_WAIT (either side)', () => 'api/connections?status=all&state=CLOSE_WAIT&limit=100'],
    ['state=SYN_SENT, cursor in the middle', () => `api/connections?status=all&state=SYN_SENT&limit=100&cursor=${cursorAt(mid)}`],
    ['port=443', () => 'api/connections?status=all&port=443&limit=100'],
    ['host (one client)', (i) => `api/connections?status=all&host=${clientIp(1 + ((i * 104729) % total))}`],
    ['port=8080&host=192.168.0.2', () => 'api/connections?status=all&port=8080&host=192.168.0.2&limit=100'],
    ['port=5432&host=192.168.0.2&state=ESTABLISHED', () => 'api/connections?status=open&port=5432&host=192.168.0.2&state=ESTABLISHED&limit=100'],
    ['no match (port=1)', () => 'api/connections?status=all&port=1'],
    ['detail /api/connections/:id', (i) => `api/connections/${1 + ((i * 7919) % total)}`],
  ];
  for (const [name, path] of queries) {
    await loopHeldMs(base);
    const ms = [];
    let bytes = 0;
    let matched = null;
    for (let i = 0; i < requests; i++) {
      const r = await timed(base + path(i));
      ms.push(r.ms);
      bytes = Math.max(bytes, r.bytes);
      if (matched === null) matched = JSON.parse(r.text).total ?? null;
    }
    const held = await loopHeldMs(base);
    const s = { query: name, example: '/' + path(1), ...summary(ms), loopHeldMaxMs: held, largestBody: bytes, total: matched };
    row.queries.push(s);
    console.error(`  ${name.padEnd(46)} p50 ${String(s.p50).padStart(6)}  p99 ${String(s.p99).padStart(6)}  max ${String(s.max).padStart(6)} ms   loop held ≤ ${held} ms   total ${matched}`);
  }
  row.rssMiB = round(rssBytes(tcp.pid) / 2 ** 20, 0);
  await tcp.stop();
  row.loadAfter = loadAverage();
  row.verdicts = verdicts(row);
  console.error(`  server RSS ${row.rssMiB} MiB; load after ${row.loadAfter.join(' ')}; ${row.verdicts.join('; ')}`);
  return row;
}

/** Whether a run meets each target, in words. */
function verdicts(r) {
  const lists = r.queries.filter((q) => !q.query.startsWith('detail'));
  const detail = r.queries.find((q) => q.query.startsWith('detail'));
  const worstList = lists.reduce((a, q) => (q.p99 > a.p99 ? q : a));
  const held = Math.max(...r.queries.map((q) => q.loopHeldMaxMs ?? 0));
  const during = Math.max(r.duringReplay.health.p99, r.duringReplay.firstPage.p99);
  const v = (ok, text) => `${ok ? 'met' : 'MISSED'}: ${text}`;
  return [
    v(worstList.p99 <= TARGETS.list, `every list query p99 ≤ ${TARGETS.list} ms (worst ${worstList.p99}, ${worstList.query})`),
    v(detail.p99 <= TARGETS.detail, `detail p99 ≤ ${TARGETS.detail} ms (${detail.p99})`),
    v(held <= TARGETS.loopHeld, `no request holds the loop > ${TARGETS.loopHeld} ms once played (longest ${held})`),
    v(during <= TARGETS.duringReplay, `during the replay, health and a first page p99 ≤ ${TARGETS.duringReplay} ms (${during}; loop held ≤ ${r.duringReplay.loopHeldMaxMs})`),
  ];
}

const results = [];
for (let round = 1; round <= rounds; round++) {
  for (const n of sizes) {
    for (const root of before ? [path.resolve(before), TARGET] : [TARGET]) results.push({ round, ...(await runOne(root, n)) });
  }
}


function clientIp(i) {
  const a = (0x0a000000 + i) >>> 0;
  return `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;
}

// ---- the table for BENCHMARKS.md
const lines = [];
for (const r of results) {
  const build = r.build === ROOT ? 'this build' : `build ${path.relative(ROOT, r.build) || r.build}`;
  const roundText = rounds > 1 ? ` (round ${r.round})` : '';
  lines.push(`\n${r.connections} connections held, ${build}${roundText} — \`${r.command}\`, replayed in ${r.replaySeconds} s; load ${r.load.join(' ')} before, ${r.loadAfter.join(' ')} after; server RSS ${r.rssMiB} MiB`);
  lines.push('\n| request | p50 ms | p99 ms | max ms | loop held ≤ ms | total |\n|---|---|---|---|---|---|');
  const d = r.duringReplay;
  lines.push(`| during replay: /api/health (${d.health.n}) | ${d.health.p50} | ${d.health.p99} | ${d.health.max} | ${d.loopHeldMaxMs} | |`);
  lines.push(`| during replay: first page, limit 100 (${d.firstPage.n}) | ${d.firstPage.p50} | ${d.firstPage.p99} | ${d.firstPage.max} | ${d.loopHeldMaxMs} | |`);
  for (const q of r.queries) lines.push(`| ${q.query} | ${q.p50} | ${q.p99} | ${q.max} | ${q.loopHeldMaxMs} | ${q.total ?? ''} |`);
  lines.push('\nTargets: ' + r.verdicts.join('; ') + '.');
}
if (rounds > 1) {
  // p99 of each request in each round, the builds side by side
  for (const n of sizes) {
    const runs = results.filter((r) => r.connections === n);
    const builds = [...new Set(runs.map((r) => r.build))];
    const name = (b) => (b === ROOT ? 'this build' : path.relative(ROOT, b) || b);
    lines.push(`\n${n} connections held, p99 ms in each of ${rounds} rounds (load at the start of each run in brackets):`);
    lines.push(`\n| request | ${builds.map(name).join(' | ')} |\n|---|${builds.map(() => '---|').join('')}`);
    const cell = (b, pick) => runs.filter((r) => r.build === b).map(pick).join(', ');
    lines.push(`| (load) | ${builds.map((b) => cell(b, (r) => `[${r.load[0]}]`)).join(' | ')} |`);
    lines.push(`| during replay: /api/health | ${builds.map((b) => cell(b, (r) => r.duringReplay.health.p99)).join(' | ')} |`);
    lines.push(`| during replay: first page, limit 100 | ${builds.map((b) => cell(b, (r) => r.duringReplay.firstPage.p99)).join(' | ')} |`);
    for (const [i, q] of runs[0].queries.entries()) lines.push(`| ${q.query} | ${builds.map((b) => cell(b, (r) => r.queries[i].p99)).join(' | ')} |`);
    lines.push(`| loop held ≤ ms, longest once played | ${builds.map((b) => cell(b, (r) => Math.max(...r.queries.map((q) => q.loopHeldMaxMs ?? 0)))).join(' | ')} |`);
  }
}
console.log(lines.join('\n'));
if (jsonOut) writeFileSync(jsonOut, JSON.stringify(results, null, 2));
