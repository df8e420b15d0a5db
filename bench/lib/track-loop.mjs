// The engine-only loop the tracker benches share: a capture read and decoded in-process, each
// segment handed to the tracker (none: decoding alone), the timers run to the end at the last.
import { createRequire } from 'node:module';
import path from 'node:path';
import { ROOT } from './build.mjs';

const require = createRequire(import.meta.url);

/** The built modules the loop needs, from a dist/ directory. */
export function loadDist(dist) {
  return {
    readCaptureFile: require(path.join(dist, 'capture/file.js')).readCaptureFile,
    decodeFrame: require(path.join(dist, 'decode/decode.js')).decodeFrame,
    Segment: require(path.join(dist, 'decode/segment.js')).Segment,
    Tracker: require(path.join(dist, 'track/tracker.js')).Tracker,
  };
}

/** Reads `file` through `tracker` (or through the decoder alone when it is null); the segment count. */
export async function trackCapture(m, file, tracker) {
  const seg = new m.Segment();
  let segments = 0;
  let last = 0;
  const res = await m.readCaptureFile(file, (f) => {
    const ts = f.tsSec * 1000 + f.tsNsec / 1e6;
    if (m.decodeFrame(f.linkType, f.data, f.origLen, seg) !== 'ok') return;
    segments++;
    if (tracker !== null) tracker.process(seg, ts);
    last = ts;
  });
  if (res.error) throw new Error(res.error.message);
  if (tracker !== null) tracker.expire(last);
  return segments;
}

/**
 * The tracker options of `tcpscope analyze` (src/track/options.ts: no ladder asked for, no events
 * kept), from this checkout's build, for every build measured: the `analyze` case configures each
 * as today's command does, where `track` takes the defaults (a ladder of 16 + 16 segments and every
 * event kept, as `live` and the server do).
 */
export function analyzeOptions() {
  const file = path.join(ROOT, 'dist/track/options.js');
  try {
    return require(file).ANALYZE_TRACKER_OPTIONS;
  } catch {
    throw new Error(`${file} is missing: build this checkout first (npm run build)`);
  }
}

/**
 * The tracker of case `name`: none for `decode`; analyze's options for `analyze`; for `sink`, the
 * defaults and one `onEvent` sink that drops what it gets, each event built as an object (`live`'s
 * bus takes records through `onEventRecord` and builds none); the defaults otherwise.
 */
export function caseTracker(m, name) {
  if (name === 'decode') return null;
  const tracker = new m.Tracker({ maxConnections: 1_000_000, ...(name === 'analyze' ? analyzeOptions() : {}) });
  if (name === 'sink') tracker.onEvent(() => {});
  return tracker;
}
