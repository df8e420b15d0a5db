// Engine only: tcpscope's stages called in-process (read; read + decode; read + decode + track),
// no CLI, no output. These are not what a command costs: see the commands section for that.
// Each case runs in its own process (so peak RSS is its own):
//   node bench/sections/engine.mjs --case track-pcapng .bench-data/loopback.pcapng   # one run, JSON
// tcpscope is measured from dist/ (npm run build), or from the build named by TCPSCOPE_DIST.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const root = path.resolve(here, '..');
const require = createRequire(import.meta.url);

export const title = 'Engine only (in-process stages, no CLI, no output)';

async function runCase(name, file) {
  const distDir = process.env.TCPSCOPE_DIST ? path.resolve(process.env.TCPSCOPE_DIST) : path.join(root, 'dist');
  const dist = (m) => require(path.join(distDir, m));
  // the ingest stage has its own folder since dcd18c1; older builds keep it at the top of dist/
  const ingest = (m) => dist(existsSync(path.join(distDir, 'ingest', m)) ? path.join('ingest', m) : m);
  const t0 = process.hrtime.bigint();
  const cpu0 = process.cpuUsage();
  let packets = 0;
  let segments = 0;
  let connections = null;
  let events = null;
  if (name.startsWith('read-')) {
    const { readCaptureFile } = dist('capture/file.js');
    const res = await readCaptureFile(file, () => {
      packets++;
    });
    if (res.error) throw new Error(res.error.message);
  } else if (name.startsWith('decode-')) {
    const { readCaptureFile } = dist('capture/file.js');
    const { decodeFrame } = dist('decode/decode.js');
    const { Segment } = dist('decode/segment.js');
    const seg = new Segment();
    const res = await readCaptureFile(file, (f) => {
      packets++;
      if (decodeFrame(f.linkType, f.data, f.origLen, seg) === 'ok') segments++;
    });
    if (res.error) throw new Error(res.error.message);
  } else if (name.startsWith('track-') || name.startsWith('sink-')) {
    const { readCaptureFile } = dist('capture/file.js');
    const { Engine } = ingest('engine.js');
    const engine = new Engine({ maxConnections: 1_000_000 });
    // The CLI always listens to events (it fans them out); the bare engine builds none.
    if (name.startsWith('sink-')) {
      events = 0;
      engine.tracker.onEvent(() => {
        events++;
      });
    }
    // -thread: the file is read, parsed and decoded in a second thread, as `analyze` and
    // `replay --speed max` do with big files; tracking stays on this one.
    const res = name.endsWith('-thread')
      ? await ingest('reader-thread.js').readDecodedThreaded(file, engine.onDecoded)
      : await readCaptureFile(file, engine.onFrame);
    if (res.error) throw new Error(res.error.message);
    engine.tracker.expire(engine.lastTs);
    packets = engine.frames;
    segments = engine.decode.ok;
    connections = engine.tracker.stats().connectionsTotal;
  } else throw new Error(`unknown case ${name}`);
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  // CPU time is steadier than wall time on a shared machine; it includes V8's helper threads.
  const cpu = process.cpuUsage(cpu0);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  return { packets, segments, connections, events, seconds: s, cpuSeconds, maxRssMiB: process.resourceUsage().maxRSS / 1024 };
}


if (process.argv[2] === '--case') {
  const r = await runCase(process.argv[3], process.argv[4]);
  process.stdout.write(JSON.stringify(r) + '\n');
  process.exit(0);
}

export async function run(ctx) {
  const { pcap: PCAP, pcapng: PCAPNG } = ctx;
  const cases = [
    ['read-pcap', PCAP, 'engine only: read, classic pcap'],
    ['decode-pcap', PCAP, 'engine only: read + decode, classic pcap'],
    ['track-pcap', PCAP, 'engine only: read + decode + track, classic pcap, one thread'],
    ['track-pcap-thread', PCAP, 'engine only: read + decode + track, classic pcap, reader thread'],
    ['read-pcapng', PCAPNG, 'engine only: read, pcapng'],
    ['decode-pcapng', PCAPNG, 'engine only: read + decode, pcapng'],
    ['track-pcapng', PCAPNG, 'engine only: read + decode + track, pcapng, one thread'],
    ['track-pcapng-thread', PCAPNG, 'engine only: read + decode + track, pcapng, reader thread'],
    ['sink-pcapng', PCAPNG, 'engine only: read + decode + track + an event listener, pcapng'],
  ].filter(([n]) => !ctx.only || ctx.only.includes(n));
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const f = ctx.fmt;
  const out = [
    `each case: \`node --expose-gc bench/sections/engine.mjs --case CASE FILE\` (time from loading the modules to the end of the file); runs per case: ${ctx.runs}, median`,
    '',
    '| case | s | CPU s | packets/s | × pcap-parser | segments | connections | events | peak RSS MiB |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  const base = ctx.results.commands?.['pcap-parser']?.seconds;
  for (const [name, file, label] of cases) {
    const rs = [];
    for (let i = 0; i < ctx.runs; i++) {
      const p = spawnSync(process.execPath, ['--expose-gc', fileURLToPath(import.meta.url), '--case', name, file], { encoding: 'utf8', maxBuffer: 1 << 20 });
      if (p.status !== 0) {
        ctx.log(`${name} failed: ${p.stderr.trim().split('\n').slice(-3).join(' | ')}`);
        break;
      }
      rs.push(JSON.parse(p.stdout.trim().split('\n').pop()));
    }
    if (!rs.length) continue;
    const secs = median(rs.map((r) => r.seconds));
    const r = rs[0];
    out.push(`| ${label} | ${f(secs, 2)} | ${f(median(rs.map((x) => x.cpuSeconds)), 2)} | ${f(r.packets / secs)} | ${base ? f(base / secs, 2) : '–'} | ${f(r.segments)} | ${f(r.connections)} | ${f(r.events)} | ${f(median(rs.map((x) => x.maxRssMiB)))} |`);
  }
  return out;
}
