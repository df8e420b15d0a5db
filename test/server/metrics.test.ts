// The event loop's delay in /metrics: prom-client's names, types and help texts, numbers from the
// first scrape on (never NaN), and no sampling of the loop until something scrapes. The RTT
// histogram: prom-client's text exactly.
import { describe, expect, it, vi } from 'vitest';
import { EventBus } from '../../src/events/bus';
import { Engine } from '../../src/ingest/engine';
import { Histogram, Registry } from 'prom-client';
import { CountingHistogram, EventLoopDelay, Metrics } from '../../src/server/metrics';
import { parsePrometheus } from './prom';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function metrics(): Metrics {
  return new Metrics(new Engine(), () => ({ kind: 'file' }) as never, () => 0, new EventBus());
}

describe('event loop delay metrics', () => {
  it('keeps prom-client’s eight series as gauges, with numbers from the first scrape on', async () => {
    const m = metrics();
    for (let i = 0; i < 2; i++) {
      const fams = parsePrometheus(await m.text());
      for (const name of EventLoopDelay.NAMES) {
        const f = fams.get(name);
        expect(f?.type, name).toBe('gauge');
        expect(f!.samples).toHaveLength(1);
        expect(Number.isFinite(f!.samples[0].value), `${name} ${f!.samples[0].value}`).toBe(true);
      }
      expect(fams.get('nodejs_eventloop_lag_p99_seconds')!.help).toBe('The 99th percentile of the recorded event loop delays.');
      // the other default series are still there
      expect(fams.has('process_cpu_seconds_total')).toBe(true);
      expect(fams.has('nodejs_heap_size_used_bytes')).toBe(true);
    }
  });

  it('reports a held loop once it samples', async () => {
    const m = metrics();
    await m.text();
    await sleep(30);
    const until = performance.now() + 60;
    while (performance.now() < until);
    await sleep(30);
    const fams = parsePrometheus(await m.text());
    expect(fams.get('nodejs_eventloop_lag_max_seconds')!.samples[0].value).toBeGreaterThan(0.05);
    expect(fams.get('nodejs_eventloop_lag_min_seconds')!.samples[0].value).toBeGreaterThan(0);
  });

  it('does not sample the loop before anything scrapes', async () => {
    // prom-client calls it through the module object, as required: a spy there sees its monitor
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const perfHooks = require('node:perf_hooks') as typeof import('node:perf_hooks');
    const monitor = vi.spyOn(perfHooks, 'monitorEventLoopDelay');
    try {
      const m = metrics();
      await sleep(30);
      // prom-client's monitor, and it only with the period it never reaches
      const periods = monitor.mock.calls.map(([o]) => o?.resolution);
      expect(periods.length).toBeGreaterThan(0);
      expect(periods).toEqual(periods.map(() => EventLoopDelay.UNUSED_PERIOD_MS));
      await m.text();
    } finally {
      monitor.mockRestore();
    }
  });
});

describe('the counting histogram', () => {
  it('is written exactly as prom-client writes its Histogram of the same values', async () => {
    const bounds = [0.00001, 0.000025, 0.0001, 0.001, 0.1, 1, 10];
    const ours = new Registry();
    const theirs = new Registry();
    const h = new CountingHistogram('x_rtt_seconds', 'Round trips (SYN to final ACK)', bounds);
    ours.registerMetric(h as never);
    const ref = new Histogram({ name: 'x_rtt_seconds', help: 'Round trips (SYN to final ACK)', buckets: bounds, registers: [theirs] });
    expect(await ours.metrics()).toBe(await theirs.metrics());
    // on the bounds, between them, beyond the last, zero, and fractions whose sum rounds
    const values = [0, 0.00001, 0.0000100001, 0.000025, 0.00004, 0.0001, 0.1, 0.3, 1, 10, 10.5, 1e6, 0.000073, 0.000049];
    for (let i = 0; i < 2000; i++) values.push(((i * 7919) % 1000) / 1e6 + i / 3e5);
    for (const v of values) {
      h.observe(v);
      ref.observe(v);
    }
    const text = await ours.metrics();
    expect(text).toBe(await theirs.metrics());
    expect(text).toContain('x_rtt_seconds_bucket{le="+Inf"} 2014');
  });

  it('feeds tcpscope_handshake_rtt_seconds from handshake events', async () => {
    const bus = new EventBus();
    const m = new Metrics(new Engine(), () => ({ kind: 'file' }) as never, () => 0, bus);
    bus.publish({ type: 'handshake', connectionId: '1', ts: 1, phase: 'established', rttMs: 0.04 });
    bus.publish({ type: 'handshake', connectionId: '2', ts: 2, phase: 'established', rttMs: 3 });
    bus.publish({ type: 'handshake', connectionId: '3', ts: 3, phase: 'syn-ack' } as never);
    const f = parsePrometheus(await m.text()).get('tcpscope_handshake_rtt_seconds');
    expect(f?.type).toBe('histogram');
    const count = f!.samples.find((s) => s.name === 'tcpscope_handshake_rtt_seconds_count');
    const sum = f!.samples.find((s) => s.name === 'tcpscope_handshake_rtt_seconds_sum');
    expect(count?.value).toBe(2);
    expect(sum?.value).toBeCloseTo(0.00304, 12);
    const le = (b: string) => f!.samples.find((s) => s.name === 'tcpscope_handshake_rtt_seconds_bucket' && s.labels.le === b)?.value;
    expect(le('0.00005')).toBe(1);
    expect(le('0.0025')).toBe(1);
    expect(le('0.005')).toBe(2);
  });
});
