// The capture fault banner: live capture runs in a process of its own, and when that process dies,
// stops answering or falls behind, packets are lost. Say so while it happens, and afterwards that
// there were holes (connections open across one are flagged `captureGap`).
import { int } from './format.js';

/** { level: 'down' | 'holes', text } from GET /api/stats, or null when there is nothing to say. */
export function captureFault(stats) {
  const cp = stats?.capture?.process;
  if (!cp) return null;
  const f = cp.lastFault;
  if (cp.state !== 'running' && cp.state !== 'stopped') {
    const what = cp.state === 'stalled' ? 'has stopped answering' : 'is down, restarting';
    return { level: 'down', text: `Capture ${what}: packets are being lost now.${f ? ` ${f.message}.` : ''} Open connections are flagged.` };
  }
  const holes = stats.capture.lossEvidence?.captureHoles ?? 0;
  if (holes === 0) return null;
  const when = f ? ` Last: ${new Date(f.atMs).toLocaleTimeString()}, ${f.message}.` : '';
  return { level: 'holes', text: `Capture had ${int(holes)} hole${holes === 1 ? '' : 's'} (${int(cp.restarts)} restarts).${when} Connections open across one are flagged.` };
}
