#!/usr/bin/env node
// What reading and decoding a capture costs per frame, engine only: the file read in-process by
// readCaptureFile, with nothing done per frame (`read`) and with each frame's time computed and
// decodeFrame run into a reused Segment (`decode`, the loop bench/lib/track-loop.mjs runs with no
// tracker). CPU time, each run in its own process, the cases and builds interleaved:
//
//   node bench/decode-cost.mjs [--runs 5] [--cases read,decode] [--dist DIR]... [FILE]
//
// or machine instructions of the whole process, each run under valgrind (cachegrind without its
// cache simulation) and `node --predictable` (V8 compiles and collects on the main thread, in the
// same order every run), with `none` (node starting and loading the modules, no file read) to take
// away; counts do not move with the load of a shared machine as time does, but do not see cache
// misses, so a gain they show is still to be checked in time:
//
//   node bench/decode-cost.mjs --instructions [--cases read,decode] [--dist DIR]... [FILE]   # needs valgrind
//
// FILE defaults to .bench-data/loopback.pcapng (made by npm run bench when missing); the classic
// form is .bench-data/loopback.pcap. Every --dist (default: this checkout's dist/, built first) is
// measured in the same run. For instructions, builds compare fairly only at paths of equal length
// (a path's characters are hashed and copied as the modules load).
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildOnce, ROOT } from './lib/build.mjs';
import { median, runBuildCases } from './lib/build-cases.mjs';
import { count } from './lib/instructions.mjs';
import { loadDist, trackCapture } from './lib/track-loop.mjs';

const self = fileURLToPath(import.meta.url);

async function runCase(name, distArg, file) {
  const m = loadDist(path.resolve(distArg));
  const cpu0 = process.cpuUsage();
  let frames = 0;
  if (name === 'read') {
    const res = await m.readCaptureFile(file, () => {
      frames++;
    });
    if (res.error) throw new Error(res.error.message);
  } else if (name === 'decode') {
    frames = await trackCapture(m, file, null);
  } else if (name !== 'none') {
    throw new Error(`unknown case ${name}`);
  }
  const cpu = process.cpuUsage(cpu0);
  return { frames, cpuSeconds: (cpu.user + cpu.system) / 1e6 };
}

const args = process.argv.slice(2);
if (args.includes('--instructions')) {
  const dists = args.flatMap((a, i) => (a === '--dist' ? [path.resolve(args[i + 1])] : []));
  if (dists.length === 0) {
    await buildOnce();
    dists.push(path.join(ROOT, 'dist'));
  }
  const casesAt = args.indexOf('--cases');
  const cases = casesAt >= 0 ? args[casesAt + 1].split(',') : ['read', 'decode'];
  const file = path.resolve(args.find((a, i) => !a.startsWith('--') && args[i - 1] !== '--dist' && args[i - 1] !== '--cases') ?? path.join(ROOT, '.bench-data/loopback.pcapng'));
  console.log(`file ${path.relative(process.cwd(), file)}; instructions of the whole process (valgrind --tool=cachegrind, node --predictable), less the case none`);
  console.log('| build | case | instructions | frames | instructions per frame |');
  console.log('|---|---|---:|---:|---:|');
  for (const dist of dists) {
    const base = count(self, 'none', dist, file);
    for (const name of cases) {
      const c = count(self, name, dist, file);
      const per = (c.instructions - base.instructions) / c.out.frames;
      console.log(`| ${path.relative(process.cwd(), dist) || '.'} | ${name} | ${c.instructions.toLocaleString('en-US')} | ${c.out.frames} | ${per.toFixed(0)} |`);
    }
  }
} else {
  const { results, dists, cases, file, runs, load } = await runBuildCases(self, runCase, 'read,decode');
  console.log(`file ${path.relative(process.cwd(), file)}; ${runs} runs per case, median CPU s; load average (1 min) at the runs: ${load.join(' ')}`);
  console.log('| build | case | CPU s | frames | ns/frame |');
  console.log('|---|---|---:|---:|---:|');
  for (const dist of dists) {
    for (const name of cases) {
      const rs = results.get(`${dist}\t${name}`);
      if (!rs) continue;
      const cpu = median(rs.map((x) => x.cpuSeconds));
      const n = rs[0].frames;
      console.log(`| ${path.relative(process.cwd(), dist) || '.'} | ${name} | ${cpu.toFixed(3)} | ${n} | ${n ? ((1e9 * cpu) / n).toFixed(0) : '–'} |`);
    }
  }
}
