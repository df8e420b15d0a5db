// The records analyze writes on the bench captures, against those of the build before it streamed
// (31c2ea7, built from this repository by buildRevision): the same set of JSON lines (ids,
// endpoints, states, connState, history, counts, times, options), in any order. Once with the
// default table size (both builds evict the oldest closed connections when it is full) and once
// with a table that holds every connection.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { buildRevision } from '../lib/build.mjs';
import { withCaptureGap } from '../lib/jsonl-compat.mjs';

export const title = 'The same records as before streaming (31c2ea7), on the bench captures';
export const BEFORE = '31c2ea7';

function records(root, file, extra) {
  const p = spawnSync(process.execPath, [path.join(root, 'bin/tcpscope.js'), 'analyze', file, '--format', 'jsonl', ...extra], {
    encoding: 'utf8',
    maxBuffer: 1 << 30,
  });
  if (p.status !== 0) throw new Error(`analyze failed in ${root}: ${p.stderr.trim()}`);
  // the build before wrote no captureGap: it is put in, as false, so that the sets compare
  return p.stdout.split('\n').filter(Boolean).map(withCaptureGap).sort();
}

export async function run(ctx) {
  const before = buildRevision(BEFORE);
  const out = ['| capture | options | records before | records now | same set |', '|---|---|---:|---:|---|'];
  let allSame = true;
  for (const file of [ctx.pcap, ctx.pcapng]) {
    for (const extra of [[], ['--max-connections', '1000000']]) {
      const a = records(before, path.resolve(ctx.root, file), extra);
      const b = records(ctx.root, path.resolve(ctx.root, file), extra);
      let same = a.length === b.length;
      let firstDiff = -1;
      for (let i = 0; same && i < a.length; i++) {
        if (a[i] !== b[i]) {
          same = false;
          firstDiff = i;
        }
      }
      if (!same) {
        allSame = false;
        ctx.log(`records differ on ${file} ${extra.join(' ')}: ${firstDiff >= 0 ? `\n  before ${a[firstDiff]}\n  now    ${b[firstDiff]}` : 'counts differ'}`);
      }
      out.push(`| ${file} | \`${['tcpscope analyze FILE --format jsonl', ...extra].join(' ')}\` | ${ctx.fmt(a.length)} | ${ctx.fmt(b.length)} | ${same ? 'yes' : 'NO'} |`);
    }
  }
  ctx.results.sameRecords = allSame;
  return out;
}
