// REST client for /api. The page's ?token= travels as a Bearer header, never in API URLs.

const token = new URLSearchParams(location.search).get('token');

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.detail || body?.error || `HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}

export async function getJson(path, signal) {
  const headers = { Accept: 'application/json' };
  if (token) headers.Authorization = `Bearer ${token}`;
  const res = await fetch(path, { headers, signal, cache: 'no-store' });
  let body = null;
  try { body = await res.json(); } catch { /* an empty or non-JSON error body */ }
  if (!res.ok) throw new ApiError(res.status, body);
  return body;
}

/** Every tracked connection, following cursors; `complete` is false when it stopped early. */
export async function listAll({ status = 'all', pageSize = 1000, maxPages = 50, signal } = {}) {
  const out = [];
  let cursor = null;
  for (let page = 0; page < maxPages; page++) {
    const q = new URLSearchParams({ status, limit: String(pageSize) });
    if (cursor) q.set('cursor', cursor);
    const body = await getJson(`/api/connections?${q}`, signal);
    for (const c of body.connections) out.push(c);
    cursor = body.nextCursor;
    if (!cursor) return { connections: out, complete: true, total: body.total };
  }
  return { connections: out, complete: false, total: null };
}

/** The connections of one endpoint (a client's ephemeral port and address name one, or a few over port reuse). */
export async function listEndpoint(ip, port, signal) {
  const q = new URLSearchParams({ status: 'all', port: String(port), host: ip, limit: '20' });
  return (await getJson(`/api/connections?${q}`, signal)).connections;
}

export function getDetail(id, signal) {
  return getJson(`/api/connections/${encodeURIComponent(id)}`, signal);
}

export function getStats(signal) {
  return getJson('/api/stats', signal);
}

let transitions = null;
/** The tracker's transition table with its explanations; it never changes, so it is fetched once. */
export function getTransitions() {
  transitions ??= getJson('/api/transitions').catch((err) => {
    transitions = null;
    throw err;
  });
  return transitions;
}

export function getHealth(signal) {
  return getJson('/api/health', signal);
}

export function wsUrl() {
  const u = new URL('/ws', location.href);
  u.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
  if (token) u.searchParams.set('token', token);
  return u.href;
}
