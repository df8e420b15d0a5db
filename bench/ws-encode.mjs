#!/usr/bin/env node
// What the /ws stream costs per event in the main process, engine only: the events the tracker
// makes from the first --frames frames of the bench capture (real loopback traffic), turned into
// `events` batches of 1 000 the way the previous build did (each event JSON.stringify'd, the texts
// joined, the batch encoded into a Buffer) and the way this one does (each event written as bytes
// into the ring's chunks as it is published, a batch copied out of them), beside the writers alone.
// Best of --rounds, µs per event; and the stream's bytes per connection, by event type.
// `eventPath`: the whole way from the tracker to the ring's bytes, the same frames fed to a fresh
// engine each round: with no sink (the tracker alone), with the tracker's events built as objects
// and written from them (as the build before records did), and read as records in place and
// written from those (this build), each less the tracker alone, per event.
//
// `eventPathBytesPerEvent`: what each way allocates, from V8's sampling heap profiler over one more
// round of it (objects the young generation's collections took included), per event, less what
// the same build's tracker alone allocates.
//
// `--event-path WAY` (objects, records, or against: --against's objects) times that way alone and
// its build's tracker alone, in CPU time, and nothing else: every writer then sees one kind of
// event (in one process together, the record writer is handed both the tracker's records and
// objects read as records, which slows it), so that the ways are compared process against process.
//
//   node bench/ws-encode.mjs [--frames 150000] [--rounds 8] [--json] [--against DIR] [--event-path WAY]
//
// --against DIR (a build, e.g. .bench-data/rev-046007b): that build's writeEvent beside this one's,
// round by round on the same events, after checking that both write the same bytes; and that
// build's engine and writer on the event path too (its events as it hands them out).
import { Session } from 'node:inspector/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { buildOnce, ROOT } from './lib/build.mjs';
import { loadAverage, round } from './lib/proc.mjs';

const args = process.argv.slice(2);
const opt = (n, d) => (args.includes(n) ? args[args.indexOf(n) + 1] : d);
const frames = Number(opt('--frames', 150_000));
const rounds = Number(opt('--rounds', 8));
const onePath = opt('--event-path', null);
const BATCH = 1000;

await buildOnce();
const require = createRequire(import.meta.url);
const dist = (p) => require(path.join(ROOT, 'dist', p));
const { Engine } = dist('ingest/engine.js');
const { readCaptureFile } = dist('capture/file.js');
const { eventJson, writeEvent, writeRecord, maxRecordBytes } = dist('events/encode.js');
const { EventRing } = dist('server/ws-ring.js');
const { ObjectRecord } = dist('events/object-record.js');
const capture = path.join(ROOT, '.bench-data/loopback.pcap');

const events = [];
const engine = new Engine({ maxConnections: 1e6 });
engine.tracker.onEvent((e) => events.push(e));
let k = 0;
// the frames, copied, for the event path's rounds
const held = [];
await readCaptureFile(capture, (f) => {
  if (k++ >= frames) return;
  engine.onFrame(f);
  held.push({ tsSec: f.tsSec, tsNsec: f.tsNsec, linkType: f.linkType, data: Buffer.from(f.data), capLen: f.capLen, origLen: f.origLen });
});
const conns = engine.tracker.stats().connectionsTotal;

const scratch = Buffer.allocUnsafeSlow(1 << 27);
const ways = {
  // the previous build: JSON.stringify each event, join a batch's texts, encode the batch
  'JSON.stringify, join, Buffer.from (before)': () => {
    let texts = [];
    let n = 0;
    for (const e of events) {
      texts.push(JSON.stringify(e));
      if (texts.length === BATCH) {
        n += Buffer.from(`{"type":"events","seq":1,"events":[${texts.join(',')}]}`).length;
        texts = [];
      }
    }
    return n;
  },
  'eventJson alone (string writer)': () => {
    let n = 0;
    for (const e of events) n += eventJson(e).length;
    return n;
  },
  'writeEvent alone (byte writer)': () => {
    let o = 0;
    for (const e of events) o = writeEvent(e, scratch, o);
    return o;
  },
  // this build: into the ring as published (the held objects read as records), a batch copied out per 1 000
  'ring.push, batch copied out (after)': () => {
    const ring = new EventRing(200_000);
    const rec = new ObjectRecord();
    let n = 0;
    for (let s = 1; s <= events.length; s++) {
      ring.push(s, rec.of(events[s - 1]));
      if (s % BATCH === 0) {
        let size = 0;
        for (let q = s - BATCH + 1; q <= s; q++) size += ring.size(q) + 1;
        const frame = Buffer.allocUnsafe(size + 40);
        n += ring.copyRun(s - BATCH + 1, s, frame, frame.write('{"type":"events","seq":1,"events":[', 0, 'latin1'), false);
        ring.releaseBefore(s + 1);
      }
    }
    return n;
  },
};

if (opt('--against', null) && !onePath) {
  const other = require(path.resolve(opt('--against', null), 'dist/events/encode.js'));
  const a = Buffer.allocUnsafeSlow(1 << 27);
  let oa = 0;
  let ob = 0;
  for (const e of events) {
    oa = other.writeEvent(e, a, oa);
    ob = writeEvent(e, scratch, ob);
  }
  if (oa !== ob || a.compare(scratch, 0, ob, 0, oa) !== 0) throw new Error('the two builds write different bytes');
  ways[`writeEvent alone, ${opt('--against', null)}`] = () => {
    let o = 0;
    for (const e of events) o = other.writeEvent(e, a, o);
    return o;
  };
}

/**
 * The event path: a fresh engine of `build` fed every held frame, its events going as `how` says
 * into one scratch buffer (wrapped round); returns ms.
 */
const pathBuf = Buffer.allocUnsafeSlow(1 << 24);
function eventPath(build, how) {
  const e = new build.Engine({ maxConnections: 1e6 });
  let o = 0;
  if (how === 'objects') {
    e.tracker.onEvent((ev) => {
      if (o > pathBuf.length - 65536) o = 0;
      o = build.writeEvent(ev, pathBuf, o);
    });
  } else if (how === 'records') {
    e.tracker.onEventRecord((r) => {
      if (o > pathBuf.length - 65536 || o + build.maxRecordBytes(r) > pathBuf.length) o = 0;
      o = build.writeRecord(r, pathBuf, o);
    });
  }
  const t = onePath ? process.cpuUsage() : performance.now();
  for (const f of held) e.onFrame(f);
  if (!onePath) return performance.now() - t;
  const d = process.cpuUsage(t);
  return (d.user + d.system) / 1000;
}
const self = { Engine, writeEvent, writeRecord, maxRecordBytes };
// each way, and the way without events of the same build it is reckoned against
const paths = {
  'tracker alone (no sink)': { run: () => eventPath(self, 'none') },
  'tracker, events as objects, writeEvent (this build, through objects)': { run: () => eventPath(self, 'objects'), base: 'tracker alone (no sink)' },
  'tracker, events as records, writeRecord (after)': { run: () => eventPath(self, 'records'), base: 'tracker alone (no sink)' },
};
if (opt('--against', null)) {
  const dir = path.resolve(opt('--against', null));
  const other = { Engine: require(path.join(dir, 'dist/ingest/engine.js')).Engine, writeEvent: require(path.join(dir, 'dist/events/encode.js')).writeEvent };
  const alone = `tracker alone, ${opt('--against', null)}`;
  paths[alone] = { run: () => eventPath(other, 'none') };
  paths[`tracker, events as objects, writeEvent, ${opt('--against', null)}`] = { run: () => eventPath(other, 'objects'), base: alone };
}

if (onePath) {
  // one way and its build's tracker alone, nothing else in this process
  const keep = onePath === 'objects' ? 'tracker, events as objects, writeEvent (this build, through objects)' : onePath === 'records' ? 'tracker, events as records, writeRecord (after)' : `tracker, events as objects, writeEvent, ${opt('--against', null)}`;
  for (const k2 of Object.keys(paths)) if (k2 !== keep && k2 !== paths[keep].base) delete paths[k2];
  for (const k2 of Object.keys(ways)) delete ways[k2];
}
const best = {};
const bestPath = {};
for (let r = 0; r < rounds; r++) {
  for (const [name, f] of Object.entries(ways)) {
    const t = performance.now();
    f();
    const us = ((performance.now() - t) * 1000) / events.length;
    best[name] = Math.min(best[name] ?? Infinity, us);
  }
  for (const [name, p] of Object.entries(paths)) bestPath[name] = Math.min(bestPath[name] ?? Infinity, p.run());
}

// allocation: one more round of each way, sampled
const session = new Session();
session.connect();
await session.post('HeapProfiler.enable');
const allocated = {};
for (const [name, p] of Object.entries(paths)) {
  await session.post('HeapProfiler.startSampling', { samplingInterval: 1024, includeObjectsCollectedByMinorGC: true, includeObjectsCollectedByMajorGC: true });
  p.run();
  const { profile } = await session.post('HeapProfiler.stopSampling');
  let total = 0;
  const walk = (n) => {
    total += n.selfSize;
    n.children.forEach(walk);
  };
  walk(profile.head);
  allocated[name] = total;
}
session.disconnect();

const bytesByType = {};
for (const e of events) {
  const b = (bytesByType[e.type] ??= { events: 0, before: 0, after: 0 });
  b.events++;
  b.before += Buffer.byteLength(JSON.stringify(e));
  b.after += Buffer.byteLength(eventJson(e));
}
const out = {
  command: `node bench/ws-encode.mjs --frames ${frames} --rounds ${rounds}${opt('--against', null) ? ` --against ${opt('--against', null)}` : ''}${onePath ? ` --event-path ${onePath}` : ''}`,
  loadAverage: loadAverage(),
  frames: Math.min(frames, k),
  connections: conns,
  events: events.length,
  usPerEvent: Object.fromEntries(Object.entries(best).map(([k2, v]) => [k2, round(v, 3)])),
  // best of the rounds, ms for all the frames; and per event, less the same build's tracker alone
  eventPathMs: Object.fromEntries(Object.entries(bestPath).map(([k2, v]) => [k2, round(v, 1)])),
  eventPathUsPerEvent: Object.fromEntries(
    Object.entries(bestPath)
      .filter(([k2]) => paths[k2].base !== undefined)
      .map(([k2, v]) => [k2, round(((v - bestPath[paths[k2].base]) * 1000) / events.length, 3)]),
  ),
  eventPathBytesPerEvent: Object.fromEntries(
    Object.entries(allocated)
      .filter(([k2]) => paths[k2].base !== undefined)
      .map(([k2, v]) => [k2, round((v - allocated[paths[k2].base]) / events.length, 1)]),
  ),
  bytesPerConnection: {
    before: round(Object.values(bytesByType).reduce((n, b) => n + b.before, 0) / conns, 0),
    after: round(Object.values(bytesByType).reduce((n, b) => n + b.after, 0) / conns, 0),
  },
  byType: Object.fromEntries(
    Object.entries(bytesByType).map(([t, b]) => [t, { perConnection: round(b.events / conns, 2), bytesBefore: round(b.before / b.events, 0), bytesAfter: round(b.after / b.events, 0) }]),
  ),
};
console.log(JSON.stringify(out, null, args.includes('--json') ? 0 : 1));
