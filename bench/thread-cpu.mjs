#!/usr/bin/env node
// Where a command's time goes, thread by thread: its threads' CPU time (schedstat, ns) read every
// 2 ms while it runs, then per thread its CPU and when it ran, and a timeline in steps of --step ms
// of the CPU ms each kind of thread used in each step. The main thread is the process's own id;
// the busiest other thread that runs JavaScript is a worker (analyze's reader thread); V8's
// platform threads (compiling, collecting) and libuv's are told apart by what they did: small
// ones are summed as "others". So it shows which thread is the critical path at each moment, and
// what the other does meanwhile, for any command (with a second core, wall time follows the
// busier of the two, plus what V8's threads take from both).
//
//   node bench/thread-cpu.mjs [--step 100] [--runs 3] -- node bin/tcpscope.js analyze .bench-data/loopback.pcap --format table
//
// CPU time moves less than wall time with the load of a shared machine, but it moves too (±10 %
// at load 5–8): compare builds in the same run (--runs alternates nothing; run it for each build
// in turn, a few times).
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';

const args = process.argv.slice(2);
const cut = args.indexOf('--');
if (cut < 0) throw new Error('usage: thread-cpu.mjs [--step MS] [--runs N] -- COMMAND…');
const opts = args.slice(0, cut);
const argv = args.slice(cut + 1);
const opt = (n, d) => (opts.includes(n) ? Number(opts[opts.indexOf(n) + 1]) : d);
const step = opt('--step', 100);
const runs = opt('--runs', 1);

/** One run: per thread (tid) its CPU ms at each sample, with the sample's time (ms since spawn). */
async function sample() {
  const t0 = process.hrtime.bigint();
  const ms = () => Number(process.hrtime.bigint() - t0) / 1e6;
  const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'ignore', 'inherit'] });
  let exited = false;
  const done = new Promise((resolve) => child.on('exit', (code) => ((exited = true), resolve(code))));
  const threads = new Map();
  while (!exited) {
    let tasks = [];
    try {
      tasks = readdirSync(`/proc/${child.pid}/task`);
    } catch {
      // gone between the exit and its event
    }
    const now = ms();
    for (const t of tasks) {
      try {
        const cpu = Number(readFileSync(`/proc/${child.pid}/task/${t}/schedstat`, 'utf8').split(' ')[0]) / 1e6;
        let th = threads.get(t);
        if (!th) threads.set(t, (th = { tid: Number(t), points: [] }));
        th.points.push([now, cpu]);
      } catch {
        // the thread ended
      }
    }
    await new Promise((r) => setTimeout(r, 2));
  }
  const code = await done;
  if (code !== 0) throw new Error(`${argv.join(' ')} exited with ${code}`);
  return { wall: ms(), pid: child.pid, threads: [...threads.values()] };
}

function report({ wall, pid, threads }) {
  const total = (th) => th.points.at(-1)[1];
  const main = threads.find((th) => th.tid === pid);
  const rest = threads.filter((th) => th !== main).sort((a, b) => total(b) - total(a));
  // a worker runs JavaScript all along; V8's helpers in short bursts: the busiest other thread,
  // when it used more than a fifth of the main thread's CPU, is taken for the worker
  const worker = rest.length > 0 && total(rest[0]) > total(main) / 5 ? rest[0] : null;
  const others = rest.filter((th) => th !== worker);
  const when = (th) => {
    const moved = th.points.filter((p, i) => i > 0 && p[1] > th.points[i - 1][1]);
    return moved.length ? `${moved[0][0].toFixed(0)}–${moved.at(-1)[0].toFixed(0)} ms` : '–';
  };
  const lines = [`wall ${wall.toFixed(0)} ms; CPU ms: main ${total(main).toFixed(0)} (ran ${when(main)})` +
    (worker ? `, worker ${total(worker).toFixed(0)} (ran ${when(worker)})` : '') +
    `, ${others.length} others ${others.reduce((s, th) => s + total(th), 0).toFixed(0)}`];
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
  const [m, w, o] = [per([main]), per(worker ? [worker] : []), per(others)];
  lines.push(`timeline, CPU ms per ${step} ms: from | main | worker | others`);
  for (let i = 0; i < steps; i++) lines.push(`${String(i * step).padStart(6)} | ${m[i].toFixed(0).padStart(4)} | ${w[i].toFixed(0).padStart(4)} | ${o[i].toFixed(0).padStart(4)}`);
  return lines.join('\n');
}

for (let i = 0; i < runs; i++) console.log((i > 0 ? '\n' : '') + report(await sample()));
