import { PerformanceObserver, constants } from 'node:perf_hooks';
import { expect, it } from 'vitest';
import { Segment } from '../../src/decode/segment';
import { Tracker } from '../../src/track/tracker';
import { Conversation, feed } from '../support/segments';
import { handshake } from './helpers';

const CONNS = 16;
const TS = 1_700_000_000_123.5; // one boxed number, passed again and again

it('process() allocates nothing for ordinary data and ACK segments of known connections', async () => {
  const t = new Tracker();
  const convs: Conversation[] = [];
  for (let i = 0; i < CONNS; i++) {
    // numbers above 2^31 on purpose: they must not turn into heap numbers on the way
    const c = new Conversation(`10.0.0.1:${40000 + i}`, '10.0.0.2:443', 0xf0000000 + i * 1000, 0x90000000 + i);
    convs.push(c);
    feed(t, [...handshake(c), c.c('PA', { len: 1 }), c.s('A')]);
  }
  let seen = 0;
  t.onEvent(() => seen++);

  const seg = new Segment();
  const buf = Buffer.from([10, 0, 0, 1, 10, 0, 0, 2]);
  seg.buf = buf;
  seg.family = 4;
  seg.window = 1000;
  const next = new Float64Array(2 * CONNS);
  convs.forEach((c, i) => {
    next[2 * i] = c.next[0];
    next[2 * i + 1] = c.next[1];
  });

  const run = (n: number): void => {
    for (let k = 0; k < n; k++) {
      const i = k % CONNS;
      const cSeq = next[2 * i];
      const sSeq = next[2 * i + 1];
      // client → server: 100 bytes
      seg.srcOff = 0;
      seg.dstOff = 4;
      seg.srcPort = 40000 + i;
      seg.dstPort = 443;
      seg.flags = 0x18;
      seg.seq = cSeq;
      seg.ack = sSeq;
      seg.payloadLen = 100;
      seg.capturedPayloadLen = 100;
      t.process(seg, TS);
      // server → client: its ACK
      seg.srcOff = 4;
      seg.dstOff = 0;
      seg.srcPort = 443;
      seg.dstPort = 40000 + i;
      seg.flags = 0x10;
      seg.seq = sSeq;
      seg.ack = (cSeq + 100) % 4294967296;
      seg.payloadLen = 0;
      seg.capturedPayloadLen = 0;
      t.process(seg, TS);
      next[2 * i] = (cSeq + 100) % 4294967296;
    }
  };

  run(300_000); // warm up: let the optimizing compiler settle

  // One measurement: 400 000 segments; a single 16-byte object per segment would be 6.4 MB and
  // several scavenges. Another process's load can cause a stray one, so the best of three counts:
  // an allocation on the packet path would show in every attempt.
  const attempt = async (): Promise<{ grown: number; scavenges: number }> => {
    let scavenges = 0;
    const obs = new PerformanceObserver((list) => {
      // Only scavenges tell of new short-lived objects; a major GC may start for other reasons.
      for (const e of list.getEntries()) {
        const kind = (e as unknown as { detail?: { kind?: number } }).detail?.kind;
        if (kind === constants.NODE_PERFORMANCE_GC_MINOR) scavenges++;
      }
    });
    obs.observe({ entryTypes: ['gc'] });
    await new Promise((r) => setTimeout(r, 20));
    scavenges = 0;
    const before = process.memoryUsage().heapUsed;
    run(200_000);
    const grown = process.memoryUsage().heapUsed - before;
    await new Promise((r) => setTimeout(r, 50));
    obs.disconnect();
    return { grown, scavenges };
  };
  const results = [];
  for (let i = 0; i < 3; i++) {
    const r = await attempt();
    results.push(r);
    if (r.scavenges === 0 && r.grown < 256 * 1024) break;
  }

  expect(seen).toBe(0); // ordinary segments emit nothing
  expect(t.stats().anomalies.retransmission).toBe(0);
  expect(results.some((r) => r.scavenges === 0 && r.grown < 256 * 1024), JSON.stringify(results)).toBe(true);
});
