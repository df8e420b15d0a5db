// The commands as users run them on the bench capture, beside the peers, in one run: wall time,
// CPU time, packets/s, rate relative to pcap-parser alone, peak RSS (GNU time: wait4's rusage).
// Rows are measured round-robin (one pass over all rows per run) so load from elsewhere falls on
// all of them alike; the median of the runs is reported.
import path from 'node:path';
import { buildRevision } from '../lib/build.mjs';
import { shown, timed } from '../lib/timed.mjs';

/**
 * The build measured beside this one, by the same commands (bench/lib/build.mjs buildRevision):
 * 2860a91: before the table's records left at the end were shared with the reader thread and the
 * file diagnoser's per-record cost cut.
 */
export const BEFORE = '2860a91';

export const title = 'Commands as users run them';

export function rows({ root, pcap, pcapng }) {
  const tcpscope = (...a) => ['node', 'bin/tcpscope.js', ...a];
  const r = [
    { name: 'pcap-parser', argv: ['node', 'bench/lib/peers.mjs', 'pcap-parser', pcap], stdout: 'pipe', what: 'pcap-parser alone (parse only), classic pcap' },
    { name: 'node-pcap', argv: ['node', 'bench/lib/peers.mjs', 'node-pcap', pcap], stdout: 'pipe', what: 'node_pcap offline session + decode + TCPTracker, classic pcap' },
    { name: 'tshark', argv: ['tshark', '-n', '-q', '-r', pcap, '-z', 'conv,tcp'], what: 'tshark TCP conversations, classic pcap' },
  ];
  for (const [kind, file] of [['pcap', pcap], ['pcapng', pcapng]]) {
    for (const format of ['table', 'jsonl', 'zeek']) {
      r.push({ name: `analyze-${format}-${kind}`, argv: tcpscope('analyze', file, '--format', format), what: `analyze --format ${format}, ${kind === 'pcap' ? 'classic pcap' : 'pcapng'}` });
    }
  }
  // what each thread buys: the same command with one of them off (or, for pcapng, on)
  r.push({ name: 'analyze-jsonl-pcap-write-thread', argv: tcpscope('analyze', pcap, '--format', 'jsonl', '--write-thread', 'on'), what: 'analyze --format jsonl --write-thread on, classic pcap' });
  // no record thread at all, not even for the records left at the end of the file
  for (const [kind, file] of [['pcap', pcap], ['pcapng', pcapng]]) {
    for (const format of ['table', 'jsonl']) {
      r.push({
        name: `analyze-${format}-${kind}-no-write-thread`,
        argv: tcpscope('analyze', file, '--format', format, '--write-thread', 'off'),
        what: `analyze --format ${format} --write-thread off, ${kind === 'pcap' ? 'classic pcap' : 'pcapng'}`,
      });
    }
  }
  r.push({ name: 'analyze-jsonl-pcap-no-read-thread', argv: tcpscope('analyze', pcap, '--format', 'jsonl', '--read-thread', 'off'), what: 'analyze --format jsonl --read-thread off, classic pcap' });
  r.push({ name: 'analyze-jsonl-pcapng-write-thread', argv: tcpscope('analyze', pcapng, '--format', 'jsonl', '--write-thread', 'on'), what: 'analyze --format jsonl --write-thread on, pcapng' });
  r.push({ name: 'analyze-jsonl-pcapng-read-thread', argv: tcpscope('analyze', pcapng, '--format', 'jsonl', '--read-thread', 'on'), what: 'analyze --format jsonl --read-thread on, pcapng' });
  // pcapng's other formats with the second core given a thread of its own (auto gives it none on two cores)
  for (const format of ['table', 'zeek']) {
    for (const [opt, tag] of [['--read-thread', 'read'], ['--write-thread', 'write']]) {
      r.push({ name: `analyze-${format}-pcapng-${tag}-thread`, argv: tcpscope('analyze', pcapng, '--format', format, opt, 'on'), what: `analyze --format ${format} ${opt} on, pcapng` });
    }
  }
  // both: one thread reads the file and writes the records, the other tracks
  for (const [kind, file] of [['pcap', pcap], ['pcapng', pcapng]]) {
    r.push({
      name: `analyze-jsonl-${kind}-read-write-thread`,
      argv: tcpscope('analyze', file, '--format', 'jsonl', '--read-thread', 'on', '--write-thread', 'on'),
      what: `analyze --format jsonl --read-thread on --write-thread on, ${kind === 'pcap' ? 'classic pcap' : 'pcapng'}`,
    });
  }
  const before = path.relative(root, buildRevision(BEFORE));
  for (const [kind, file] of [['pcap', pcap], ['pcapng', pcapng]]) {
    for (const format of ['table', 'jsonl', 'zeek']) {
      r.push({ name: `before-analyze-${format}-${kind}`, argv: ['node', `${before}/bin/tcpscope.js`, 'analyze', file, '--format', format], what: `analyze --format ${format}, ${kind === 'pcap' ? 'classic pcap' : 'pcapng'}, build ${BEFORE} (before)` });
    }
  }
  for (const [kind, file] of [['pcap', pcap], ['pcapng', pcapng]]) {
    r.push({
      name: `replay-${kind}`,
      argv: tcpscope('replay', file, '--speed', 'max', '--exit', '--listen', '127.0.0.1:0'),
      what: `replay --speed max --exit (serving), ${kind === 'pcap' ? 'classic pcap' : 'pcapng'}`,
    });
  }
  return r;
}

export async function run(ctx) {
  const list = rows(ctx).filter((r) => !ctx.only || ctx.only.includes(r.name));
  const got = new Map(list.map((r) => [r.name, []]));
  for (let i = 0; i < ctx.runs; i++) {
    for (const r of list) {
      const m = timed(r.argv, { cwd: ctx.root, stdout: r.stdout ?? 'null' });
      if (m.status !== 0 || m.seconds == null) {
        ctx.log(`${r.name} failed (${m.status}): ${m.stderr.trim().split('\n').slice(-2).join(' | ')}`);
        continue;
      }
      if (r.name === 'pcap-parser') ctx.packets = JSON.parse(m.stdout.trim().split('\n').pop()).packets;
      got.get(r.name).push(m);
    }
  }
  const med = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const res = {};
  for (const r of list) {
    const ms = got.get(r.name);
    if (!ms.length) continue;
    res[r.name] = { ...r, cmd: shown(r.argv, { stdout: r.stdout ?? 'null' }), seconds: med(ms.map((m) => m.seconds)), cpu: med(ms.map((m) => m.cpuSeconds)), rss: med(ms.map((m) => m.maxRssMiB)), n: ms.length };
  }
  const base = res['pcap-parser']?.seconds;
  // CPU seconds (user + system, all threads) vary less than wall time when other work shares the cores.
  const baseCpu = res['pcap-parser']?.cpu;
  const f = ctx.fmt;
  const out = [
    `packets in the capture: ${f(ctx.packets)} (pcap-parser's count); runs per row: ${ctx.runs}, median`,
    '',
    '| what | command | s | CPU s | packets/s | × pcap-parser | × pcap-parser, CPU | peak RSS MiB |',
    '|---|---|---:|---:|---:|---:|---:|---:|',
  ];
  for (const r of Object.values(res)) {
    const pps = ctx.packets ? ctx.packets / r.seconds : null;
    out.push(`| ${r.what} | \`${r.cmd}\` | ${f(r.seconds, 2)} | ${f(r.cpu, 2)} | ${f(pps)} | ${base ? f(base / r.seconds, 2) : '–'} | ${baseCpu ? f(baseCpu / r.cpu, 2) : '–'} | ${f(r.rss)} |`);
  }
  if (base) {
    const verdict = (kind, min) =>
      ['table', 'jsonl', 'zeek']
        .map((fm) => res[`analyze-${fm}-${kind}`])
        .filter(Boolean)
        .map((r) => `${r.name.split('-')[1]} ${f(base / r.seconds, 2)}× (${base / r.seconds >= min ? 'met' : 'not met'})`)
        .join(', ');
    out.push('', `analyze on classic pcap, target ≥ 0.8× pcap-parser: ${verdict('pcap', 0.8)}`);
    out.push(`analyze on pcapng, target ≥ 1.2× pcap-parser's rate on classic pcap: ${verdict('pcapng', 1.2)}`);
  }
  ctx.results.commands = res;
  return out;
}
