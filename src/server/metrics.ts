import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { CaptureProcessStatus } from '../capture/live-process';
import type { EventBus } from '../events/bus';
import type { TrackerStats } from '../track/api';
import { CONN_STATES, TCP_STATES } from '../track/states';
import type { SourceInfo } from '../capture/source';
import type { EngineLike } from './deps';
import { decodeBreakdown } from './stats';

/** Handshake RTT buckets in seconds: loopback handshakes take tens of µs, WAN ones up to seconds. */
export const RTT_BUCKETS = [
  0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
  2.5, 5, 10,
];

interface Snapshot {
  t: TrackerStats;
  decodeErrors: Record<string, number>;
  packets: number;
  bytes: number;
  dropped: number | null;
  wsClients: number;
  /** Live capture in its own process: its faults; null otherwise. */
  capture: CaptureProcessStatus | null;
}

/**
 * Prometheus metrics in a Registry of our own (never prom-client's global one, so two servers in one
 * process, as in tests, do not collide). Counters mirror the tracker's and engine's own totals at
 * scrape time; the RTT histogram is fed by handshake events.
 */
export class Metrics {
  readonly registry = new Registry();
  private snap: Snapshot | null = null;

  constructor(
    private readonly engine: EngineLike,
    private readonly source: () => SourceInfo,
    private readonly wsClients: () => number,
    bus: EventBus,
  ) {
    const registers = [this.registry];
    const self = this;
    const cur = (): Snapshot => {
      if (!self.snap) self.refresh();
      return self.snap!;
    };

    new Gauge({
      name: 'tcpscope_endpoints',
      help: 'Tracked connection endpoints by side and RFC 9293 state',
      labelNames: ['side', 'state'] as const,
      registers,
      collect() {
        const t = cur().t;
        for (const state of TCP_STATES) {
          this.set({ side: 'client', state }, t.byClientState[state] ?? 0);
          this.set({ side: 'server', state }, t.byServerState[state] ?? 0);
        }
      },
    });
    new Gauge({
      name: 'tcpscope_connections',
      help: 'Connections in the table by status',
      labelNames: ['status'] as const,
      registers,
      collect() {
        const t = cur().t;
        this.set({ status: 'open' }, t.open);
        this.set({ status: 'closed' }, t.closed);
      },
    });
    new Gauge({
      name: 'tcpscope_connections_by_conn_state',
      help: "Connections in the table by Zeek's conn_state",
      labelNames: ['conn_state'] as const,
      registers,
      collect() {
        const t = cur().t;
        for (const s of CONN_STATES) this.set({ conn_state: s }, t.byConnState[s] ?? 0);
      },
    });
    new Gauge({
      name: 'tcpscope_half_open_connections',
      help: 'Server endpoints in SYN_RECEIVED (handshake not completed)',
      registers,
      collect() {
        this.set(cur().t.halfOpen);
      },
    });
    const counter = (name: string, help: string, value: (s: Snapshot) => number) =>
      new Counter({
        name,
        help,
        registers,
        collect() {
          this.reset();
          this.inc(value(cur()));
        },
      });
    counter('tcpscope_connections_total', 'Connections seen since start', (s) => s.t.connectionsTotal);
    counter('tcpscope_handshakes_total', 'Three-way handshakes completed', (s) => s.t.handshakesCompleted);
    counter('tcpscope_resets_total', 'Connections reset', (s) => s.t.resets);
    counter('tcpscope_refused_total', 'Connection attempts refused (RST answering a SYN)', (s) => s.t.refused);
    counter('tcpscope_evictions_total', 'Connections evicted because the table was full', (s) => s.t.evictions);
    counter('tcpscope_packets_total', 'Frames captured or read', (s) => s.packets);
    counter('tcpscope_captured_bytes_total', 'Bytes of the frames captured or read (original lengths)', (s) => s.bytes);
    counter('tcpscope_tcp_segments_total', 'TCP segments fed to the tracker', (s) => s.t.packets);
    counter('tcpscope_capture_faults_total', 'Faults of the capture process (died, stalled, fell behind, the kernel dropped packets, failed to restart)', (s) => s.capture?.faults ?? 0);
    counter('tcpscope_capture_restarts_total', 'Capture processes started after the first', (s) => s.capture?.restarts ?? 0);
    counter('tcpscope_capture_holes_total', 'Intervals in which packets were not captured or not handed over', (s) => s.capture?.holesTotal ?? 0);
    counter('tcpscope_capture_handover_lost_packets_total', 'Packets the capture process read but dropped because tcpscope fell behind', (s) => s.capture?.handoverLost ?? 0);
    // a gauge with no sample while its value is unknown (null)
    const gaugeOrAbsent = (name: string, help: string, value: (s: Snapshot) => number | null) =>
      new Gauge({
        name,
        help,
        registers,
        collect() {
          const v = value(cur());
          if (v === null) this.reset();
          else this.set(v);
        },
      });
    gaugeOrAbsent(
      'tcpscope_capture_up',
      'Whether the capture process is capturing (1) or down, stalled or restarting (0); absent for files',
      (s) => (s.capture === null ? null : s.capture.state === 'running' ? 1 : 0),
    );
    new Counter({
      name: 'tcpscope_decode_errors_total',
      help: 'Frames that could not be decoded, by error code',
      labelNames: ['code'] as const,
      registers,
      collect() {
        this.reset();
        for (const [code, n] of Object.entries(cur().decodeErrors)) this.inc({ code }, n);
      },
    });
    new Counter({
      name: 'tcpscope_anomalies_total',
      help: 'TCP anomalies seen, by kind',
      labelNames: ['kind'] as const,
      registers,
      collect() {
        this.reset();
        for (const [kind, n] of Object.entries(cur().t.anomalies)) this.inc({ kind }, n);
      },
    });
    gaugeOrAbsent('tcpscope_capture_dropped_packets', 'Packets the kernel dropped before capture (libpcap statistics; absent for files)', (s) => s.dropped);
    new Gauge({
      name: 'tcpscope_websocket_clients',
      help: 'Connected WebSocket clients',
      registers,
      collect() {
        this.set(cur().wsClients);
      },
    });
    const rtt = new CountingHistogram('tcpscope_handshake_rtt_seconds', 'Handshake round-trip time seen by the observer (SYN to final ACK)', RTT_BUCKETS);
    this.registry.registerMetric(rtt as unknown as Parameters<Registry['registerMetric']>[0]);
    bus.subscribe((_s, e) => {
      if (e.type === 'handshake' && e.phase === 'established') {
        const ms = e.rttMs;
        if (typeof ms === 'number' && ms >= 0) rtt.observe(ms / 1000);
      }
    });
    // The standard process_* and nodejs_* series, under their usual names; the event loop's delay
    // from a monitor of our own (EventLoopDelay), in place of prom-client's, which samples the loop
    // every 10 ms from the start whether or not anything scrapes: 100 wakeups a second of an
    // otherwise idle process. prom-client's is given a period it never reaches and unregistered,
    // every series of its by their common prefix, so that one added in a later release goes too.
    collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: EventLoopDelay.UNUSED_PERIOD_MS });
    for (const m of this.registry.getMetricsAsArray()) {
      if (m.name.startsWith(EventLoopDelay.PREFIX)) this.registry.removeSingleMetric(m.name);
    }
    new EventLoopDelay(registers);
  }

  /** Takes one consistent reading of every counter for the scrape about to run. */
  refresh(): void {
    const src = this.source();
    this.snap = {
      t: this.engine.tracker.stats(),
      decodeErrors: decodeBreakdown(this.engine.decode.byCode()).errors,
      packets: this.engine.frames,
      bytes: this.engine.bytes,
      dropped: src.kind === 'live' ? src.dropped : null,
      wsClients: this.wsClients(),
      capture: src.kind === 'live' ? src.captureProcess ?? null : null,
    };
  }

  async text(): Promise<string> {
    this.refresh();
    try {
      return await this.registry.metrics();
    } finally {
      this.snap = null;
    }
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}

interface HistogramValue {
  labels: { le?: number | string };
  value: number;
  metricName: string;
}

/**
 * A histogram without labels that prom-client's registry writes exactly as it writes its own
 * Histogram's (the same lines, bounds, sums and counts), counting an observation in a typed array:
 * prom-client's observe() builds and checks a label set per call, the largest cost of a handshake's
 * event on the metrics' side and most of what the metrics allocated at thousands of connections a
 * second.
 */
export class CountingHistogram {
  readonly type = 'histogram' as const;
  readonly aggregator = 'sum' as const;
  private readonly counts: Float64Array;
  private sum = 0;
  private count = 0;

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly bounds: readonly number[],
  ) {
    this.counts = new Float64Array(bounds.length);
  }

  /** One value (finite), counted in the first bucket whose bound it does not exceed. */
  observe(v: number): void {
    const b = this.bounds;
    for (let i = 0; i < b.length; i++) {
      if (v <= b[i]) {
        this.counts[i]++;
        break;
      }
    }
    this.sum += v;
    this.count++;
  }

  /** What the registry writes: cumulative buckets, then +Inf, the sum and the count (prom-client's order). */
  get(): { name: string; help: string; type: 'histogram'; values: HistogramValue[]; aggregator: 'sum' } {
    const bucket = `${this.name}_bucket`;
    const values: HistogramValue[] = [];
    let acc = 0;
    for (let i = 0; i < this.bounds.length; i++) {
      acc += this.counts[i];
      values.push({ labels: { le: this.bounds[i] }, value: acc, metricName: bucket });
    }
    values.push(
      { labels: { le: '+Inf' }, value: this.count, metricName: bucket },
      { labels: {}, value: this.sum, metricName: `${this.name}_sum` },
      { labels: {}, value: this.count, metricName: `${this.name}_count` },
    );
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }
}

/**
 * The event loop's delay under prom-client's names, types, help texts and meaning: `nodejs_eventloop_lag_seconds`
 * the time a setImmediate took to run at the scrape; the others the minimum, maximum, mean, standard
 * deviation and percentiles of the delays sampled every PERIOD_MS (prom-client's default) since the
 * scrape before. Unlike prom-client's, sampling starts at the first scrape: a process nobody
 * scrapes is not woken PERIOD_MS after PERIOD_MS for a histogram nobody reads. A scrape that finds
 * no sample (the first, or one within about PERIOD_MS of the last) writes 0 for them, not NaN.
 */
export class EventLoopDelay {
  static readonly PERIOD_MS = 10;
  /** The period prom-client's own monitor is given before it is unregistered: about 24 days. */
  static readonly UNUSED_PERIOD_MS = 2 ** 31 - 1;
  /** Every series of the event loop's delay, prom-client's and these, begins with it. */
  static readonly PREFIX = 'nodejs_eventloop_lag_';
  static readonly NAMES = [
    'nodejs_eventloop_lag_seconds',
    'nodejs_eventloop_lag_min_seconds',
    'nodejs_eventloop_lag_max_seconds',
    'nodejs_eventloop_lag_mean_seconds',
    'nodejs_eventloop_lag_stddev_seconds',
    'nodejs_eventloop_lag_p50_seconds',
    'nodejs_eventloop_lag_p90_seconds',
    'nodejs_eventloop_lag_p99_seconds',
  ] as const;
  private histogram: IntervalHistogram | null = null;

  constructor(registers: Registry[]) {
    const self = this;
    // Registered first: prom-client reads the metrics in the order they were registered, and this
    // one's collect sets the others.
    new Gauge({
      name: EventLoopDelay.NAMES[0],
      help: 'Lag of event loop in seconds.',
      registers,
      aggregator: 'average',
      async collect() {
        const h = self.histogram;
        for (const [g, read] of stats) g.set(h !== null && h.count > 0 ? read(h) / 1e9 : 0);
        h?.reset();
        self.start();
        const t0 = process.hrtime.bigint();
        await new Promise<void>((r) => setImmediate(r));
        this.set(Number(process.hrtime.bigint() - t0) / 1e9);
      },
    });
    const gauge = (name: string, help: string, aggregator: 'min' | 'max' | 'average') => new Gauge({ name, help, registers, aggregator });
    const [, min, max, mean, stddev, p50, p90, p99] = EventLoopDelay.NAMES;
    const stats = [
      [gauge(min, 'The minimum recorded event loop delay.', 'min'), (h: IntervalHistogram) => h.min],
      [gauge(max, 'The maximum recorded event loop delay.', 'max'), (h: IntervalHistogram) => h.max],
      [gauge(mean, 'The mean of the recorded event loop delays.', 'average'), (h: IntervalHistogram) => h.mean],
      [gauge(stddev, 'The standard deviation of the recorded event loop delays.', 'average'), (h: IntervalHistogram) => h.stddev],
      [gauge(p50, 'The 50th percentile of the recorded event loop delays.', 'average'), (h: IntervalHistogram) => h.percentile(50)],
      [gauge(p90, 'The 90th percentile of the recorded event loop delays.', 'average'), (h: IntervalHistogram) => h.percentile(90)],
      [gauge(p99, 'The 99th percentile of the recorded event loop delays.', 'average'), (h: IntervalHistogram) => h.percentile(99)],
    ] as const;
  }

  /** Starts sampling (the first scrape does). */
  start(): void {
    if (this.histogram !== null) return;
    this.histogram = monitorEventLoopDelay({ resolution: EventLoopDelay.PERIOD_MS });
    this.histogram.enable();
  }
}
