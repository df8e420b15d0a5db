// Runs cases of a bench script against several builds, each case in a process of its own, round-robin
// over the runs: `node SCRIPT [--runs N] [--cases a,b] [--dist DIR ...] [FILE]`. The script answers
// `node SCRIPT --case NAME DIST FILE` with one JSON line (or `null` for a case a build lacks). A case
// named with `-warm` runs with --expose-gc (it collects between its passes).
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { buildOnce, ROOT } from './build.mjs';

/**
 * When the script was called for one case, runs it and exits; otherwise runs every case of every
 * build `runs` times and returns the outputs by `${dist}\t${case}`, with the builds, cases, file and
 * the load average at each run. `addCases` may add cases the asked ones need (their baseline).
 */
export async function runBuildCases(script, runCase, defaultCases, addCases = (cs) => cs) {
  const args = process.argv.slice(2);
  if (args[0] === '--case') {
    process.stdout.write(JSON.stringify(await runCase(args[1], args[2], args[3])) + '\n');
    process.exit(0);
  }
  const opt = (n, d) => (args.includes(n) ? args[args.indexOf(n) + 1] : d);
  const runs = Number(opt('--runs', 5));
  const cases = addCases(opt('--cases', defaultCases).split(','));
  const dists = args.flatMap((a, i) => (a === '--dist' ? [path.resolve(args[i + 1])] : []));
  if (dists.length === 0) {
    await buildOnce();
    dists.push(path.join(ROOT, 'dist'));
  }
  const file = args.find((a, i) => !a.startsWith('--') && !['--runs', '--dist', '--cases'].includes(args[i - 1])) ?? path.join(ROOT, '.bench-data/loopback.pcapng');
  const results = new Map();
  const load = [];
  for (let r = 0; r < runs; r++) {
    load.push(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);
    for (const dist of dists) {
      for (const name of cases) {
        const p = spawnSync(process.execPath, [...(name.endsWith('-warm') ? ['--expose-gc'] : []), script, '--case', name, dist, file], { encoding: 'utf8', maxBuffer: 1 << 20 });
        if (p.status !== 0) throw new Error(`${name} ${dist}: ${p.stderr.trim().split('\n').slice(-3).join(' | ')}`);
        const out = JSON.parse(p.stdout.trim());
        if (out === null) continue;
        const k = `${dist}\t${name}`;
        if (!results.has(k)) results.set(k, []);
        results.get(k).push(out);
      }
    }
  }
  return { results, dists, cases, file, runs, load };
}

export const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
