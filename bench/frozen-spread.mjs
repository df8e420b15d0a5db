#!/usr/bin/env node
// MEMORY of a merged note: the heap per object of 200 000 `{ ...was, ...{ kernel } }` (as
// Queries.annotate merges a kernel reading over an owner's note), with the source `was` frozen or
// not and the result frozen or not. Heap after a full collection (node --expose-gc), in this process.
//
//   for c in 00 01 10 11; do node --expose-gc bench/frozen-spread.mjs --case $c; done
// (--case SR: S the source frozen (1) or not (0), R the result; one case a process)
const args = process.argv.slice(2);
const n = Number(args.includes('--n') ? args[args.indexOf('--n') + 1] : 200_000);
if (typeof globalThis.gc !== 'function') throw new Error('run with node --expose-gc');
const heap = () => {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
};
const process0 = { pid: 1, command: 'srv', cmdline: 'srv', user: 'root', netns: 1, fd: 3, via: 'socket' };
const kernel = { state: 'ESTABLISHED', agrees: true, at: 1, rxQueue: 0, txQueue: 0, srttMs: null, retransTotal: null, cwnd: null };
const c = args.includes('--case') ? args[args.indexOf('--case') + 1] : '00';
const out = {};
for (const sourceFrozen of [c[0] === '1']) {
  for (const resultFrozen of [c[1] === '1']) {
    // each case's sources made and counted before its results
    const was = Array.from({ length: n }, () => {
      const w = { process: process0 };
      return sourceFrozen ? Object.freeze(w) : w;
    });
    const h0 = heap();
    const made = was.map((w) => {
      const o = { ...w, ...{ kernel } };
      return resultFrozen ? Object.freeze(o) : o;
    });
    const h1 = heap();
    out[`source ${sourceFrozen ? 'frozen' : 'unfrozen'}, result ${resultFrozen ? 'frozen' : 'unfrozen'}`] = `${Math.round((h1 - h0) / n)} B`;
    globalThis.kept = made;
  }
}
console.log(JSON.stringify({ node: process.version, n, bytesPerObject: out }));
