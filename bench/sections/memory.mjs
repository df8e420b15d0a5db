// analyze of 1 M and 5 M synthetic connections (bench/lib/synth-pcap.mjs: complete handshakes and
// closes, 10 000 new connections a second of capture time) generated into a pipe, so 5 M (40 M
// packets) need no disk: peak RSS of analyze (GNU time), and a check that every connection was
// written exactly once (bench/lib/synth-check.mjs reads the conn.log).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildRevision } from '../lib/build.mjs';

/** The build before analyze streamed, measured at 1 M connections beside this one. */
const BEFORE = '31c2ea7';

export const title = 'analyze in flat memory: 1 M and 5 M connections through a pipe';

export async function run(ctx) {
  const f = ctx.fmt;
  // --only 200000,1000000 picks the sizes
  const picked = (ctx.only ?? []).filter((x) => /^\d+$/.test(x)).map(Number);
  const sizes = picked.length ? picked : [1_000_000, 5_000_000];
  const out = [
    '| connections (packets) | command | s | CPU s | packets/s | peak RSS MiB | written once |',
    '|---|---|---:|---:|---:|---:|---|',
  ];
  const runs = sizes.map((n) => ['bin/tcpscope.js', n, '']);
  if (!ctx.only) runs.push([`${path.relative(ctx.root, buildRevision(BEFORE))}/bin/tcpscope.js`, 1_000_000, ` (build ${BEFORE}, before streaming)`]);
  for (const [bin, n, note] of runs) {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'tcpscope-mem-'));
    const tfile = path.join(dir, 'time');
    const gen = `node bench/lib/synth-pcap.mjs --connections ${n}`;
    const cmd = `node ${bin} analyze - --format zeek`;
    const check = `node bench/lib/synth-check.mjs --connections ${n}`;
    const line = `${gen} | /usr/bin/time -f '%e %U %S %M' -o ${tfile} ${cmd} | ${check}`;
    const p = spawnSync('bash', ['-o', 'pipefail', '-c', line.replace(/\bnode\b/g, process.execPath)], {
      cwd: ctx.root,
      encoding: 'utf8',
      maxBuffer: 1 << 24,
    });
    let t = null;
    try {
      t = readFileSync(tfile, 'utf8').trim().split('\n').pop().split(' ').map(Number);
    } catch {
      // reported below
    }
    rmSync(dir, { recursive: true, force: true });
    const verdict = p.stdout.trim().split('\n').pop() ?? '';
    if (!t) {
      ctx.log(`memory ${n} failed (${p.status}): ${p.stderr.trim().slice(-300)}`);
      continue;
    }
    const ok = p.status === 0 ? 'yes' : `NO (${verdict})`;
    ctx.results[`memory-${n}`] = { seconds: t[0], cpu: t[1] + t[2], rssMiB: t[3] / 1024, verdict, status: p.status };
    out.push(`| ${f(n)} (${f(8 * n)})${note} | \`${gen} \\| ${cmd} \\| ${check}\` | ${f(t[0], 1)} | ${f(t[1] + t[2], 1)} | ${f((8 * n) / t[0])} | ${f(t[3] / 1024)} | ${ok} |`);
  }
  return out;
}
