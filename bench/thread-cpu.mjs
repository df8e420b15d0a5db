#!/usr/bin/env node
// Where a Node.js command's time goes, thread by thread: its threads' CPU time (schedstat, ns) read
// every 10 ms while it runs, then per thread its CPU and when it ran, and a timeline in steps of
// --step ms of the CPU ms each kind of thread used in each step. The main thread is the process's
// own id. Which other thread is a worker (analyze's reader thread) is a guess: on Node 20 every
// thread is named "node", so the busiest other thread, when it used more than a fifth of the main
// thread's CPU, is taken for it; V8's platform threads (compiling, collecting) and libuv's are
// summed as "others". So it shows which thread is the critical path at each moment, and what the
// other does meanwhile (with a second core, wall time follows the busier of the two, plus what
// V8's threads take from both). The sampler's own CPU is reported beside (it shares the cores).
//
//   node bench/thread-cpu.mjs [--step 100] [--runs 3] -- node bin/tcpscope.js analyze .bench-data/loopback.pcap --format table
//
// With --runs N, each run is printed, then the medians of the runs' totals. CPU time moves less
// than wall time with the load of a shared machine, but it moves too (±10 % at load 5–8): compare
// builds in the same run (--runs alternates nothing; run it for each build in turn, a few times).
// A thread's CPU is its last reading: taken every 10 ms and once more when the exit is seen, so
// what a thread used in its last few ms before it ended (up to one interval) may be missing. The
// list of threads is read again every 5 samples (~50 ms, more on a loaded machine): a thread that
// starts and ends between two readings of it (living under ~50 ms) is missed altogether.
import { spawn } from 'node:child_process';
import { closeSync, openSync, readdirSync, readSync } from 'node:fs';

const args = process.argv.slice(2);
const cut = args.indexOf('--');
if (cut < 0) throw new Error('usage: thread-cpu.mjs [--step MS] [--runs N] -- COMMAND…');
const opts = args.slice(0, cut);
const argv = args.slice(cut + 1);
const opt = (n, d) => (opts.includes(n) ? Number(opts[opts.indexOf(n) + 1]) : d);
const step = opt('--step', 100);
const runs = opt('--runs', 1);
/** How often each thread's CPU is read, and how many samples apart the list of threads is read again. */
const EVERY_MS = 10;
const LIST_EVERY = 5;

/** One run: per thread (tid) its CPU ms at each sample, with the sample's time (ms since spawn). */
async function sample() {
  const t0 = process.hrtime.bigint();
  const ms = () => Number(process.hrtime.bigint() - t0) / 1e6;
  const own0 = process.cpuUsage();
  const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'ignore', 'inherit'] });
  let exited = false;
  const done = new Promise((resolve) => child.on('exit', (code) => ((exited = true), resolve(code))));
  /** By tid: its schedstat, kept open, and its readings. */
  const threads = new Map();
  const buf = Buffer.alloc(128);
  const list = () => {
    let tasks = [];
    try {
      tasks = readdirSync(`/proc/${child.pid}/task`);
    } catch {
      // gone between the exit and its event
    }
    for (const t of tasks) {
      if (threads.has(t)) continue;
      try {
        threads.set(t, { tid: Number(t), fd: openSync(`/proc/${child.pid}/task/${t}/schedstat`, 'r'), points: [] });
      } catch {
        // the thread ended
      }
    }
  };
  const read = () => {
    const now = ms();
    for (const th of threads.values()) {
      if (th.fd === null) continue;
      try {
        const n = readSync(th.fd, buf, 0, buf.length, 0);
        th.points.push([now, Number(buf.toString('latin1', 0, n).split(' ')[0]) / 1e6]);
      } catch {
        // the thread ended: its last reading stays
        closeSync(th.fd);
        th.fd = null;
      }
    }
  };
  for (let i = 0; !exited; i++) {
    if (i % LIST_EVERY === 0) list();
    read();
    await Promise.race([done, new Promise((r) => setTimeout(r, EVERY_MS))]);
  }
  // the last reading possible: whatever is still there once the exit is seen
  read();
  for (const th of threads.values()) if (th.fd !== null) closeSync(th.fd);
  const code = await done;
  if (code !== 0) throw new Error(`${argv.join(' ')} exited with ${code}`);
  const own = process.cpuUsage(own0);
  return { wall: ms(), pid: child.pid, threads: [...threads.values()], sampler: (own.user + own.system) / 1000 };
}

/** A thread's CPU ms: its last reading (0 if it was never read). */
const total = (th) => (th ? (th.points.at(-1)?.[1] ?? 0) : 0);

function report({ wall, pid, threads, sampler }) {
  const main = threads.find((th) => th.tid === pid);
  const rest = threads.filter((th) => th !== main).sort((a, b) => total(b) - total(a));
  // a worker runs JavaScript all along; V8's helpers in short bursts: the busiest other thread,
  // when it used more than a fifth of the main thread's CPU, is taken for the worker (a guess)
  const worker = rest.length > 0 && total(rest[0]) > total(main) / 5 ? rest[0] : null;
  const others = rest.filter((th) => th !== worker);
  const when = (th) => {
    const points = th?.points ?? [];
    const moved = points.filter((p, i) => i > 0 && p[1] > points[i - 1][1]);
    return moved.length ? `${moved[0][0].toFixed(0)}–${moved.at(-1)[0].toFixed(0)} ms` : '–';
  };
  const totals = { wall, main: total(main), worker: worker ? total(worker) : null, others: others.reduce((s, th) => s + total(th), 0), sampler };
  const lines = [`wall ${wall.toFixed(0)} ms; CPU ms: main ${totals.main.toFixed(0)} (ran ${when(main)})` +
    (worker ? `, worker (guessed: the busiest other thread) ${totals.worker.toFixed(0)} (ran ${when(worker)})` : '') +
    `, ${others.length} others ${totals.others.toFixed(0)}; the sampler's own CPU ${sampler.toFixed(0)} ms`];
  // CPU used in each step, by kind
  const steps = Math.ceil(wall / step);
  const per = (ths) => {
    const out = new Array(steps).fill(0);
    for (const th of ths) {
      let prev = 0;
      for (const [t, cpu] of th.points) {
        out[Math.min(steps - 1, Math.floor(t / step))] += cpu - prev;
        prev = cpu;
      }
    }
    return out;
  };
  const [m, w, o] = [per(main ? [main] : []), per(worker ? [worker] : []), per(others)];
  lines.push(`timeline, CPU ms per ${step} ms: from | main | worker | others`);
  for (let i = 0; i < steps; i++) lines.push(`${String(i * step).padStart(6)} | ${m[i].toFixed(0).padStart(4)} | ${w[i].toFixed(0).padStart(4)} | ${o[i].toFixed(0).padStart(4)}`);
  return { text: lines.join('\n'), totals };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const all = [];
for (let i = 0; i < runs; i++) {
  const { text, totals } = report(await sample());
  all.push(totals);
  console.log((i > 0 ? '\n' : '') + text);
}
if (runs > 1) {
  const m = (k) => median(all.map((t) => t[k])).toFixed(0);
  // the worker's median is over the runs that found one (a run without one has no worker's CPU, not 0)
  const found = all.filter((t) => t.worker !== null).map((t) => t.worker);
  const worker = found.length > 0 ? `worker (guessed) ${median(found).toFixed(0)} over the ${found.length} of ${runs} runs that found one` : `no worker found in ${runs} runs`;
  console.log(`\nmedians of ${runs} runs: wall ${m('wall')} ms; CPU ms: main ${m('main')}, ${worker}, others ${m('others')}; the sampler's own ${m('sampler')}`);
}
