// Which rows the table shows.

/** How long a closed connection stays in view by default, fading (the dashboard's control changes it). */
export const DEFAULT_RECENT_MS = 60_000;

/** When a closed row ended (source clock): its end, or the last packet seen when that is unknown. */
function endOf(row) {
  return row.c.endedAt ?? row.c.lastSeenAt;
}

/** Whether a closed row ended within `recentMs` of `now` (the source's clock, as its endedAt). */
export function closedRecently(row, now, recentMs) {
  const end = endOf(row);
  return recentMs > 0 && end != null && now - end <= recentMs;
}

/**
 * Parses the filter inputs once per render instead of once per row. The returned keep(row, now)
 * shows open rows, rows that closed within recentMs of now (source clock), and every closed row
 * when showClosed; keep.match(row) is the rest of the filter alone, for counting what it hides.
 */
export function compileFilter({ port, host, state, text, showClosed, recentMs = DEFAULT_RECENT_MS }) {
  const match = compileMatch({ port, host, state, text });
  const keep = (row, now) => {
    if (row.c.status === 'closed' && !showClosed && !closedRecently(row, now, recentMs)) return false;
    return match(row);
  };
  keep.match = match;
  return keep;
}

function compileMatch({ port, host, state, text }) {
  const portNum = /^\d{1,5}$/.test(port.trim()) ? Number(port.trim()) : null;
  const hostText = host.trim().toLowerCase();
  const words = text.trim().toLowerCase().split(/\s+/).filter(Boolean);
  return (row) => {
    const c = row.c;
    if (portNum !== null && c.client.port !== portNum && c.server.port !== portNum) return false;
    if (hostText && !c.client.ip.toLowerCase().includes(hostText) && !c.server.ip.toLowerCase().includes(hostText)) return false;
    if (state && c.client.state !== state && c.server.state !== state) return false;
    if (words.length) {
      const hay = searchText(c);
      for (const w of words) if (!hay.includes(w)) return false;
    }
    return true;
  };
}

function searchText(c) {
  return [
    c.id, `${c.client.ip}:${c.client.port}`, `${c.server.ip}:${c.server.port}`,
    c.client.state, c.server.state, c.connState, c.history, c.status, c.closeKind ?? '',
    c.partial ? 'partial' : '',
    ...[c.client.process, c.server.process].filter(Boolean).map((p) => `${p.command} ${p.pid} ${p.cmdline} ${p.user ?? ''}`),
  ].join(' ').toLowerCase();
}

// Dimmed enough to tell apart, not so much that the state badges lose their contrast.
const CLOSED_OPACITY = 0.72;
// Where a recently closed row has faded to when its time in view runs out.
const FADED_OPACITY = 0.35;

/**
 * 1 for an open row; a closed row fades from 1 over recentMs after it ended (source clock), and
 * with "Closed" ticked it never goes below the closed rows' dimming.
 */
export function rowOpacity(row, now, showClosed, recentMs = DEFAULT_RECENT_MS) {
  if (row.c.status !== 'closed') return 1;
  const end = endOf(row);
  const t = recentMs > 0 && end != null ? Math.max(0, Math.min(1, (now - end) / recentMs)) : 1;
  const fade = 1 - (1 - FADED_OPACITY) * t;
  return showClosed ? Math.max(CLOSED_OPACITY, fade) : fade;
}
