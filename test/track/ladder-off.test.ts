// A tracker configured as `tcpscope analyze` configures it (no ladder asked for, no events kept)
// keeps no segment at all, where it used to keep each connection's first block of them; what it
// says of every connection must not change. The same tracker with an event sink registered before
// its first segment keeps them as before (the sink reads each event's segment from the ladder), so
// it is the reference: both must remove the same connections with the same views, on every public
// trace and regression capture.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { goldenFiles } from '../support/track-golden.mjs';
import { readCaptureFile } from '../../src/capture/file';
import { decodeFrame } from '../../src/decode/decode';
import { Segment } from '../../src/decode/segment';
import { Tracker } from '../../src/track/tracker';

const FIXTURES = path.resolve(__dirname, '../fixtures');
const ANALYZE = { maxConnections: 1_000_000, ladderHead: 0, ladderTail: 0, maxEventsPerConn: 0, eventLog: false };

async function run(file: string, withSink: boolean): Promise<{ views: string[]; stats: string; ladderBlocks: number }> {
  const tracker = new Tracker(ANALYZE);
  if (withSink) tracker.onEventRecord(() => {});
  const views: string[] = [];
  tracker.onRemove((c) => views.push(JSON.stringify(c)));
  const seg = new Segment();
  let last = 0;
  let nextExpire = -Infinity;
  await readCaptureFile(file, (f) => {
    const ts = f.tsSec * 1000 + f.tsNsec / 1e6;
    if (decodeFrame(f.linkType, f.data, f.origLen, seg) === 'ok') tracker.process(seg, ts);
    if (ts > last) last = ts;
    if (last >= nextExpire) {
      tracker.expire(last);
      nextExpire = last + 1000;
    }
  });
  tracker.expire(last);
  const stats = JSON.stringify(tracker.stats());
  const ladderBlocks = tracker.memoryInUse().ladderBlocks;
  tracker.removeAll();
  return { views, stats, ladderBlocks };
}

describe('no ladder when nothing reads it', () => {
  it.each(goldenFiles())('%s', async (rel: string) => {
    const file = path.join(FIXTURES, rel);
    const off = await run(file, false);
    const kept = await run(file, true);
    expect(off.ladderBlocks).toBe(0);
    expect(off.views).toEqual(kept.views);
    expect(off.stats).toEqual(kept.stats);
  });

  it('keeps segments once a sink asks before the first one', async () => {
    const file = path.join(FIXTURES, 'zeek/traces/http/get.pcap');
    const kept = await run(file, true);
    expect(kept.views.length).toBeGreaterThan(0);
    expect(kept.ladderBlocks).toBeGreaterThan(0);
  });
});
