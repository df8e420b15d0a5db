// The engine of the build measured (TARGET, bench/lib/build.mjs) holding every connection of a
// capture: closed ones kept for good, the query index on, as the REST benches and the list and
// diagnoses costs read it. A `held-N.pcap` file that does not exist is made first
// (held-conns-pcap.mjs: N complete connections).
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { buildOnce, ROOT, TARGET } from './build.mjs';
import { writeHeldConnections } from './held-conns-pcap.mjs';

/** Reads `file` into a new Engine of the measured build; `load(rel)` requires another of its dist modules. */
export async function holdCapture(file, { maxConnections = 10_000_000 } = {}) {
  const abs = path.resolve(ROOT, file);
  if (!existsSync(abs)) {
    const m = /held-(\d+)\.pcap$/.exec(abs);
    if (!m) throw new Error(`${abs}: no such file (held-N.pcap files are made on demand)`);
    const w = writeHeldConnections(abs, { connections: Number(m[1]) });
    console.error(`made ${abs}: ${w.packets} packets`);
  }
  await buildOnce();
  const require = createRequire(import.meta.url);
  const load = (rel) => require(path.join(TARGET, 'dist', rel));
  const { readCaptureFile } = load('capture/file.js');
  const { Engine } = load('ingest/engine.js');
  const engine = new Engine({ maxConnections, timeouts: { closedRetention: 1e15 } });
  engine.tracker.enableQueryIndex?.();
  await readCaptureFile(abs, (f) => engine.onFrame(f));
  return { engine, load };
}
