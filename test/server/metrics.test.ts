// The event loop's delay in /metrics: prom-client's names, types and help texts, numbers from the
// first scrape on (never NaN), and no sampling of the loop until something scrapes.
import { describe, expect, it, vi } from 'vitest';
import { EventBus } from '../../src/events/bus';
import { Engine } from '../../src/ingest/engine';
import { EventLoopDelay, Metrics } from '../../src/server/metrics';
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
