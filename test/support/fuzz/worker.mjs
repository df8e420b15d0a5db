// Runs a range of fuzz cases in a worker thread, so that the main thread can stop one that hangs.
// workerData: { dist, seed, kind: 'file'|'packet', from, to, extra, progress: SharedArrayBuffer }
// Posts { finding: { kind, i, message } } for each finding and { done: tally, memory } at the end.
import { parentPort, workerData } from 'node:worker_threads';
import { builtDeps, createFuzzer, Violation } from './engine.mjs';
import { loadCorpus } from './corpus.mjs';

const { dist, seed, kind, from, to, extra, progress } = workerData;
const deps = builtDeps(dist);
const corpus = await loadCorpus(deps.readCaptureFile, { extra });
const fz = createFuzzer(deps, corpus, { seed });
const p = new Int32Array(progress);
let peakHeap = 0;
let peakRss = 0;
for (let i = from; i < to; i++) {
  Atomics.store(p, 0, i);
  try {
    if (kind === 'file') await fz.fileCase(i);
    else if (kind === 'packet') fz.packetCase(i);
    else fz.flowCase(i);
  } catch (e) {
    parentPort.postMessage({ finding: { kind, i, message: e instanceof Violation ? e.message : `uncaught: ${e?.stack ?? e}` } });
  }
  if ((i & 1023) === 0) {
    const m = process.memoryUsage();
    peakHeap = Math.max(peakHeap, m.heapUsed);
    peakRss = Math.max(peakRss, m.rss);
  }
}
try {
  fz.checkNow();
} catch (e) {
  parentPort.postMessage({ finding: { kind, i: to, message: e.message } });
}
Atomics.store(p, 0, to);
parentPort.postMessage({ done: fz.tally, memory: { peakHeapMiB: peakHeap / 2 ** 20, peakRssMiB: peakRss / 2 ** 20 }, corpus: { files: corpus.files.length, frames: corpus.frames.length } });
