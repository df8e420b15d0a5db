// What the tracker says about a capture, down to every event and ladder segment, as one short hash
// per connection: the record that bench/track-golden.mjs writes from a build and
// test/track/golden.test.ts holds the sources to (test/fixtures/track/golden.json). The stages
// come in as `deps` (from a build's dist/ or from src/), so the same code reads both.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { FIXTURES } from './fixtures.mjs';
import { loadCorpus } from './fuzz/corpus.mjs';
import { createFuzzer } from './fuzz/engine.mjs';

const EXPIRE_EVERY_MS = 1000;
const hash = (s) => createHash('sha1').update(s).digest('hex').slice(0, 12);

/** The public traces (manifest.tsv) and the regression captures, as paths relative to the checkout's test/fixtures. */
export function goldenFiles() {
  const lines = readFileSync(path.join(FIXTURES, 'manifest.tsv'), 'utf8').trimEnd().split('\n');
  const col = lines[0].split('\t').indexOf('file');
  const files = lines.slice(1).map((l) => path.join('zeek', l.split('\t')[col]));
  const regressions = path.join(FIXTURES, '..', 'regressions');
  for (const f of readdirSync(regressions).sort()) if (/\.pcap(ng)?$/.test(f)) files.push(path.join('regressions', f));
  return files;
}

/**
 * The file at `full` through a tracker made with `options`, as the file commands drive one: timers
 * run every second of capture time, then at the last packet; the rest is removed at the end.
 * `setup(tracker)` runs once `setupAfter` segments are processed (0: before the first);
 * `record(tracker, c)` gives what each removed connection is recorded as, in the order it left.
 * `stats` is the tracker's stats() and `end` what `atEnd(tracker)` returns, both before that
 * removal.
 */
export async function trackFile(deps, full, { options, setup, setupAfter = 0, record, atEnd }) {
  const tracker = new deps.Tracker(options);
  const out = [];
  tracker.onRemove((c) => out.push(record(tracker, c)));
  const seg = new deps.Segment();
  let segments = 0;
  if (setup && setupAfter === 0) setup(tracker);
  let last = 0;
  let nextExpire = -Infinity;
  const res = await deps.readCaptureFile(full, (f) => {
    const ts = f.tsSec * 1000 + f.tsNsec / 1e6;
    if (deps.decodeFrame(f.linkType, f.data, f.origLen, seg) === 'ok') {
      tracker.process(seg, ts);
      if (++segments === setupAfter && setup) setup(tracker);
    }
    if (ts > last) last = ts;
    if (last >= nextExpire) {
      tracker.expire(last);
      nextExpire = last + EXPIRE_EVERY_MS;
    }
  });
  tracker.expire(last);
  const stats = tracker.stats();
  const end = atEnd ? atEnd(tracker) : undefined;
  tracker.removeAll();
  return { error: res.error ? res.error.code : null, connections: out, stats, end };
}

/**
 * Every connection of the file at `full`, in the order it left the table, as `id:hash` of its
 * detail (view, events with their causes, ladder), through a tracker with the defaults
 * (trackFile).
 */
export async function fileGolden(deps, full) {
  const g = await trackFile(deps, full, {
    options: { maxConnections: 1_000_000 },
    record: (tracker, c) => `${c.id}:${hash(JSON.stringify(tracker.detail(c.id)))}`,
  });
  return { error: g.error, connections: g.connections, stats: g.stats };
}

/**
 * The fuzzer's packet and flow cases (fixed seed) with every tracker they make recording each
 * connection it removes; one digest over all of them.
 */
export async function fuzzGolden(deps, { seed = 11, packets = 20_000, flows = 100_000 } = {}) {
  const trackers = [];
  const h = createHash('sha1');
  let n = 0;
  class Recording extends deps.Tracker {
    constructor(o) {
      super(o);
      trackers.push(this);
      this.onRemove((c) => {
        n++;
        h.update(JSON.stringify(this.detail(c.id)));
      });
    }
  }
  const corpus = await loadCorpus(deps.readCaptureFile);
  const fz = createFuzzer({ ...deps, Tracker: Recording }, corpus, { seed });
  for (let i = 0; i < packets; i++) fz.packetCase(i);
  for (let i = 0; i < flows; i++) fz.flowCase(i);
  for (const t of trackers) t.removeAll();
  return { seed, packets, flows, connections: n, digest: h.digest('hex').slice(0, 16) };
}
