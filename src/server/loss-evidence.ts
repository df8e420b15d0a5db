import type { EventBus } from '../events/bus';
import type { SourceInfo } from '../capture/source';
import { FL } from '../track/record';

/**
 * Connections picked up mid-stream (their first segment was neither a SYN nor a SYN+ACK), counted
 * from the event stream. With the tracker's `gap` and `bad-ack` anomalies this is what tells, from
 * the packets alone, that the capture missed some, wherever it was lost (the kernel's own drop
 * count is capture.dropped). Connections already open when capture started count too, so the
 * number that matters is its growth.
 */
export class MidstreamCounter {
  count = 0;

  constructor(bus: EventBus) {
    bus.subscribe((_seq, e) => {
      if (e.type === 'connection' && e.phase === 'opened' && ((e.connection()?.flags ?? 0) & FL.PARTIAL) !== 0) this.count++;
    });
  }
}

/**
 * `status` of GET /api/health: 'degraded' while live capture has a fault (its process died, is
 * being restarted or has stopped answering), so that a monitor sees the hole as it happens.
 */
export function captureHealth(source: SourceInfo): 'ok' | 'degraded' {
  if (source.kind !== 'live' || !source.captureProcess) return 'ok';
  return source.captureProcess.state === 'running' ? 'ok' : 'degraded';
}
