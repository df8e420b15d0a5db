import type { CaptureProcessStatus } from '../capture/live-process';
import { isDecodeError, type DecodeStatus } from '../decode/segment';
import type { SourceInfo } from '../capture/source';
import type { EngineLike } from './deps';
import type { RttWindow } from './rtt-window';

/** Decode outcomes split into damage (errors) and fine-but-not-tracked frames (skipped). */
export function decodeBreakdown(byCode: Record<string, number>): {
  errors: Record<string, number>;
  skipped: Record<string, number>;
  errorsTotal: number;
} {
  const errors: Record<string, number> = {};
  const skipped: Record<string, number> = {};
  let errorsTotal = 0;
  for (const [code, n] of Object.entries(byCode)) {
    if (code === 'ok') continue;
    if (isDecodeError(code as DecodeStatus)) {
      errors[code] = n;
      errorsTotal += n;
    } else skipped[code] = n;
  }
  return { errors, skipped, errorsTotal };
}

/** What the WebSocket hub reports about its clients. */
export interface WsHubStats {
  clients: number;
  refused: Record<string, number>;
  dropped: Record<string, number>;
  /** Resynchronisations of clients that fell a ring behind. */
  lagged: number;
  /** Passes that found a client held by its in-flight allowance (sent, not yet confirmed). */
  heldUnconfirmed: number;
  /** Events the furthest client still has to be sent. */
  behind: number;
  /** Flush passes run, and event messages sent in them (all clients). */
  passes: number;
  messages: number;
}

function captureProcessStats(p: CaptureProcessStatus) {
  return { pid: p.pid, state: p.state, restarts: p.restarts, faults: p.faults, lastFault: p.lastFault, holes: p.holes, handover: p.handover };
}

/** The body of GET /api/stats. */
export function buildStats(engine: EngineLike, rtt: RttWindow, source: SourceInfo, ws: WsHubStats, midstreamStarts = 0) {
  const t = engine.tracker.stats();
  const dec = decodeBreakdown(engine.decode.byCode());
  const [p50, p90, p99] = rtt.percentiles([50, 90, 99]);
  const cs = t.byClientState;
  const ss = t.byServerState;
  return {
    connections: {
      tracked: t.tracked,
      open: t.open,
      closed: t.closed,
      total: t.connectionsTotal,
    },
    endpoints: { client: cs, server: ss },
    connState: t.byConnState,
    handshakes: {
      completed: t.handshakesCompleted,
      rttMs: { p50, p90, p99, samples: rtt.samples, window: rtt.capacity },
    },
    resets: t.resets,
    refused: t.refused,
    halfOpen: t.halfOpen,
    timeWait: (cs.TIME_WAIT ?? 0) + (ss.TIME_WAIT ?? 0),
    closeWait: (cs.CLOSE_WAIT ?? 0) + (ss.CLOSE_WAIT ?? 0),
    anomalies: t.anomalies,
    capture: {
      packets: engine.frames,
      bytes: engine.bytes,
      tcpSegments: t.packets,
      decodeErrors: dec.errors,
      decodeErrorsTotal: dec.errorsTotal,
      skipped: dec.skipped,
      evictions: t.evictions,
      dropped: source.kind === 'live' ? source.dropped : null,
      // Live capture in its own process: its state and faults, and the holes they left.
      ...(source.kind === 'live' && source.captureProcess ? { process: captureProcessStats(source.captureProcess) } : {}),
      // Segments the capture must have missed, as the packets themselves show: data beyond what
      // the sender was seen sending (gap), acknowledgements of data never seen (bad-ack), and
      // connections first seen mid-stream. On loopback nothing is lost on the wire, so any growth
      // here is capture loss; elsewhere a gap may also be a loss upstream of the capture point.
      lossEvidence: {
        gaps: t.anomalies.gap ?? 0,
        acksOfUnseen: t.anomalies['bad-ack'] ?? 0,
        midstreamStarts,
        // Packets the capture process read but dropped because tcpscope fell behind it, and
        // intervals without capture (the capture process died or stalled).
        handoverLost: source.kind === 'live' ? source.captureProcess?.handoverLost ?? 0 : 0,
        captureHoles: source.kind === 'live' ? source.captureProcess?.holesTotal ?? 0 : 0,
        // packets the kernel dropped because its ring was full (libpcap's count; capture.dropped)
        kernelDropped: source.kind === 'live' ? source.dropped ?? 0 : 0,
      },
    },
    wsClients: ws.clients,
    ws,
  };
}
