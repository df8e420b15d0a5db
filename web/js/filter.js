// Which rows the table shows.

/** How long a connection that closed while the page watched stays in the open view, fading. */
export const FADE_MS = 8000;

/** Parses the filter inputs once per render instead of once per row. */
export function compileFilter({ port, host, state, text, showClosed }) {
  const portNum = /^\d{1,5}$/.test(port.trim()) ? Number(port.trim()) : null;
  const hostText = host.trim().toLowerCase();
  const words = text.trim().toLowerCase().split(/\s+/).filter(Boolean);
  return (row, pageNow) => {
    const c = row.c;
    if (c.status === 'closed' && !showClosed) {
      if (row.closedSeenAt == null || pageNow - row.closedSeenAt > FADE_MS) return false;
    }
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

/** 1 for an open row; a just-closed row fades down to the closed rows' dimming. */
export function rowOpacity(row, pageNow, showClosed) {
  if (row.c.status !== 'closed') return 1;
  if (showClosed || row.closedSeenAt == null) return CLOSED_OPACITY;
  const t = Math.min(1, (pageNow - row.closedSeenAt) / FADE_MS);
  return 1 - (1 - CLOSED_OPACITY) * t;
}
