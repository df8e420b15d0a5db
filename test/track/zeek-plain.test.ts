/**
 * The Zeek mirror takes segments without SYN, FIN or RST through a shorter path (ZeekMirror's
 * steady(), process() without the branches such a segment cannot take). It must say what process()
 * says: every public trace is tracked twice, once as the tracker runs (the shorter path counted:
 * over all traces it must have been taken) and once with steady() handing every segment to
 * process() and conn_state looked up after every segment, and both Zeek's records (with the
 * lifetime model) and every connection's conn_state and history (without it) must come out the
 * same. The second run's verdicts are computed afresh, so they also check when the mirror says
 * conn_state may have moved.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { frameTimeMs } from '../../src/capture/frame';
import { readCaptureFile } from '../../src/capture/file';
import { decodeFrame } from '../../src/decode/decode';
import { Segment } from '../../src/decode/segment';
import { Tracker } from '../../src/track/tracker';
import { ZeekMirror, type ZeekRecord } from '../../src/track/zeek';
import { fixture, manifest } from '../support/fixtures.mjs';

interface Outcome {
  records: ZeekRecord[];
  conns: string[];
}

async function run(file: string): Promise<Outcome> {
  const records: ZeekRecord[] = [];
  const conns: string[] = [];
  const withLife = new Tracker({ maxConnections: 1_000_000, zeekRecords: (r) => records.push(r) });
  const oneRecord = new Tracker({ maxConnections: 1_000_000 });
  oneRecord.onRemove((c) => conns.push(`${c.id} ${c.connState} ${c.history}`));
  const seg = new Segment();
  const r = await readCaptureFile(fixture(file), (f) => {
    if (decodeFrame(f.linkType, f.data, f.origLen, seg) === 'ok') {
      const t = frameTimeMs(f);
      withLife.process(seg, t);
      oneRecord.process(seg, t);
    }
  });
  expect(r.frames).toBeGreaterThan(0);
  withLife.removeAll();
  oneRecord.removeAll();
  return { records, conns };
}

type Proto = { steady: unknown; process: unknown; verdictMoved: unknown };
const proto = ZeekMirror.prototype as unknown as Proto;
const shortPath = proto.steady as (this: ZeekMirror, ...a: unknown[]) => boolean;
const verdictMoved = proto.verdictMoved;

describe('the Zeek mirror\'s path for segments without SYN, FIN or RST', () => {
  afterEach(() => {
    proto.steady = shortPath;
    proto.verdictMoved = verdictMoved;
  });

  const files = manifest().map((m) => m.file);

  it('is on the prototype where this test replaces it', () => {
    expect(typeof shortPath).toBe('function');
    expect(typeof proto.process).toBe('function');
    expect(typeof verdictMoved).toBe('function');
  });

  // traces with no segment for the shorter path (a SYN alone, resets only) are among them
  let taken = 0;
  let tracesTaking = 0;

  it.each(files)('%s: the same records and verdicts as process()', async (file) => {
    const before = taken;
    proto.steady = function (this: ZeekMirror, ...a: unknown[]) {
      taken++;
      return shortPath.apply(this, a);
    };
    const fast = await run(file);
    if (taken > before) tracesTaking++;
    proto.steady = function (this: { process(s: number, d: number, e: number, seg: Segment): boolean }, s: number, d: number, e: number, seg: Segment) {
      return this.process(s, d, e, seg);
    };
    proto.verdictMoved = () => true;
    const slow = await run(file);
    expect(fast.records).toEqual(slow.records);
    expect(fast.conns).toEqual(slow.conns);
  });

  it('was taken in the runs above', () => {
    expect(taken).toBeGreaterThan(0);
    expect(tracesTaking).toBeGreaterThan(files.length / 2);
  });
});
