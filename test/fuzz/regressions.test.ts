// Inputs that once broke something, kept in test/fixtures/regressions/ and replayed here: every
// capture there goes through the readers, the decoder and the tracker under the fuzzer's checks
// (bench/fuzz.mjs writes its findings there), and the ones with a known story get their own test.
import { readdirSync } from 'node:fs';
import { createReadStream } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readCaptureFile } from '../../src/capture/file';
import { frameTimeMs, type Frame } from '../../src/capture/frame';
import { Engine } from '../../src/ingest/engine';
import { checkTracker } from '../support/fuzz/engine.mjs';
import { deps } from './deps';

const DIR = path.resolve(__dirname, '../fixtures/regressions');
const captures = readdirSync(DIR).filter((f) => /\.pcap(ng)?(\.gz)?$/.test(f));

describe('regression inputs', () => {
  it('has inputs to replay', () => {
    expect(captures.length).toBeGreaterThan(0);
  });

  for (const name of captures) {
    it(`${name}: read, decoded and tracked without a finding`, async () => {
      const engine = new Engine({ maxConnections: 500 });
      const res = await readCaptureFile(createReadStream(path.join(DIR, name)), (f: Frame) => {
        engine.tracker.expire(frameTimeMs(f));
        engine.onFrame(f);
      });
      if (res.error) {
        expect(deps.fileErrorCodes).toContain(res.error.code);
        expect(res.error.message).not.toBe('');
      }
      for (const code of Object.keys(engine.decode.byCode())) expect(deps.decodeStatuses).toContain(code);
      checkTracker(engine.tracker, 500);
    });
  }

  // Real loopback traffic (bench/lib/make-reuse-capture.mjs): a client port used twice, 1.5 s
  // apart, each connection closed by the server first. Taking the old connection off its 4-tuple
  // used to restart its closed retention, so every reuse kept it a full retention longer (a
  // 10-minute live soak held ~20% more closed connections than the retention allows).
  it('tuple-reuse-retention.pcap: reusing a 4-tuple does not extend the old connection’s retention', async () => {
    const engine = new Engine({ mslMs: 500, timeouts: { closedRetention: 1000 } as never });
    await readCaptureFile(path.join(DIR, 'tuple-reuse-retention.pcap'), (f: Frame) => {
      engine.tracker.expire(frameTimeMs(f));
      engine.onFrame(f);
    });
    const [first, second] = engine.tracker.list();
    expect(first.client.port).toBe(second.client.port);
    expect(first.server.port).toBe(second.server.port);
    expect(first.closedBy).toBe('server');
    expect(second.startedAt - first.endedAt!).toBeGreaterThan(1000); // reused after the old TIME_WAIT (2×MSL)
    // the old one leaves 2×MSL + retention after its close, whatever happened on its 4-tuple since
    const leaves = first.endedAt! + 1000 + 1000;
    engine.tracker.expire(leaves + 100);
    expect(engine.tracker.list().map((c) => c.id)).toEqual([second.id]);
  });
});
