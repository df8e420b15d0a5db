import type { TrackerOptions } from './api';

export const DEFAULT_TRACKER_OPTIONS: TrackerOptions = {
  mslMs: 30_000,
  maxConnections: 100_000,
  // Linux nf_conntrack's defaults (net/netfilter/nf_conntrack_proto_tcp.c)
  timeouts: {
    synSent: 120_000,
    synReceived: 60_000,
    established: 5 * 24 * 3600_000,
    finWait: 120_000,
    closeWait: 60_000,
    lastAck: 30_000,
    closedRetention: 300_000,
  },
  ladderHead: 16,
  ladderTail: 16,
  maxEventsPerConn: 32,
  eventLog: true,
};

/** The defaults with `opts` laid over them (timeouts one by one). */
export function resolveOptions(opts?: Partial<TrackerOptions>): TrackerOptions {
  return {
    ...DEFAULT_TRACKER_OPTIONS,
    ...opts,
    timeouts: { ...DEFAULT_TRACKER_OPTIONS.timeouts, ...opts?.timeouts },
  };
}

/**
 * What `tcpscope analyze` asks of the tracker: its records carry no ladder and no events, so none
 * is kept (nor, with no event sink, a single segment).
 */
export const ANALYZE_TRACKER_OPTIONS = {
  ladderHead: 0,
  ladderTail: 0,
  maxEventsPerConn: 0,
  eventLog: false,
} as const satisfies Partial<TrackerOptions>;
