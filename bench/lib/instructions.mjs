// Machine instructions of one bench case, the whole process counted under valgrind (cachegrind
// without its cache simulation) and `node --predictable` (V8 compiles and collects on the main
// thread, in the same order every run). SCRIPT answers `node SCRIPT --case NAME DIST FILE` with
// one JSON line. A case named with `-warm` runs with --expose-gc (it collects between its passes).
import { spawnSync } from 'node:child_process';

/**
 * Runs SCRIPT's case NAME against the build DIST on FILE under valgrind; returns the process's
 * instruction count and the case's JSON line, parsed.
 */
export function count(script, name, dist, file) {
  const p = spawnSync(
    'valgrind',
    ['--tool=cachegrind', '--cache-sim=no', '--cachegrind-out-file=/dev/null', process.execPath, '--predictable', ...(name.endsWith('-warm') ? ['--expose-gc'] : []), script, '--case', name, dist, file],
    { encoding: 'utf8', maxBuffer: 1 << 24 },
  );
  if (p.error) throw new Error(`valgrind: ${p.error.message}`);
  const m = /I\s+refs:\s+([\d,]+)/.exec(p.stderr);
  if (p.status !== 0 || !m) throw new Error(`${name} ${dist}: ${p.stderr.trim().split('\n').slice(-3).join(' | ')}`);
  return { instructions: Number(m[1].replace(/,/g, '')), out: JSON.parse(p.stdout.trim()) };
}
