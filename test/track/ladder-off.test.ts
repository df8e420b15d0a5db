// A tracker configured as `tcpscope analyze` configures it (no ladder asked for, no events kept)
// keeps no segment at all, where it used to keep each connection's first block of them; what it
// says of every connection must not change. The same tracker with an event sink registered before
// its first segment keeps them as before (the sink reads each event's segment from the ladder), so
// it is the reference: both must remove the same connections with the same views, on every public
// trace and regression capture.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { goldenFiles, trackFile } from '../support/track-golden.mjs';
import { deps } from '../fuzz/deps';
import { ANALYZE_TRACKER_OPTIONS } from '../../src/track/options';

const FIXTURES = path.resolve(__dirname, '../fixtures');
const ANALYZE = { maxConnections: 1_000_000, ...ANALYZE_TRACKER_OPTIONS };

/** Each removed connection's view; an event sink registered after `sinkAfter` segments (none when undefined). */
async function run(file: string, sinkAfter?: number): Promise<{ views: string[]; stats: string; ladderBlocks: number }> {
  const g = await trackFile(deps, file, {
    options: ANALYZE,
    setup: sinkAfter === undefined ? undefined : (t) => t.onEventRecord(() => {}),
    setupAfter: sinkAfter,
    record: (_t, c) => JSON.stringify(c),
    atEnd: (t) => t.memoryInUse().ladderBlocks,
  });
  return { views: g.connections, stats: JSON.stringify(g.stats), ladderBlocks: g.end };
}

describe('no ladder when nothing reads it', () => {
  it.each(goldenFiles())('%s', async (rel: string) => {
    const file = path.join(FIXTURES, rel);
    const off = await run(file);
    const kept = await run(file, 0);
    expect(off.ladderBlocks).toBe(0);
    expect(off.views).toEqual(kept.views);
    expect(off.stats).toEqual(kept.stats);
  });

  it('keeps segments once a sink asks before the first one', async () => {
    const file = path.join(FIXTURES, 'zeek/traces/http/get.pcap');
    const kept = await run(file, 0);
    expect(kept.views.length).toBeGreaterThan(0);
    expect(kept.ladderBlocks).toBeGreaterThan(0);
  });

  it('keeps none when the sink comes while a connection is tracked', async () => {
    // a connection that began without its segments could not give an event its cause: the
    // ladder stays off for the whole run, and what the tracker says does not change
    const file = path.join(FIXTURES, 'zeek/traces/http/get.pcap');
    const late = await run(file, 1);
    const kept = await run(file, 0);
    expect(late.views.length).toBeGreaterThan(0);
    expect(late.ladderBlocks).toBe(0);
    expect(late.views).toEqual(kept.views);
    expect(late.stats).toEqual(kept.stats);
  });
});
