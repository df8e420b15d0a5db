import type { ConnectionView, EndpointView } from '../track/connection';
import type { ConnectionEvent, TcpEvent } from './types';

/**
 * The wire form of one event for the /ws stream (protocol 3), written field by field from the
 * event instead of through JSON.stringify: the same text JSON.stringify gives for every event type
 * but `connection`, in a fraction of the time (BENCHMARKS.md, the live path per connection).
 *
 * A `connection` event carries a summary of the connection (see ConnectionSummary), not the whole
 * Connection: at ~850-940 bytes the whole one made the two connection events of a short
 * connection half of its stream. The rest is one request away (GET /api/connections/:id).
 *
 * Strings the tracker takes from its own name lists (sides, states, phases, kinds, flag letters)
 * need no escaping; the others (ids, addresses, history, an anomaly's detail) go through
 * JSON.stringify when they hold anything that would need it.
 */
export function eventJson(e: TcpEvent): string {
  const head = `{"type":"${e.type}","connectionId":${str(e.connectionId)},"ts":${tsText(e.ts)}`;
  switch (e.type) {
    case 'state': {
      const c = e.cause;
      const cause = c === null ? 'null' : `{"flags":"${c.flags}","seq":${c.seq},"ack":${c.ack},"len":${c.len}}`;
      return `${head},"side":"${e.side}","from":"${e.from}","to":"${e.to}","cause":${cause}}`;
    }
    case 'handshake': {
      let t = `${head},"phase":"${e.phase}"`;
      if (e.rttMs !== undefined) t += `,"rttMs":${num(e.rttMs)}`;
      if (e.synToSynAckMs !== undefined) t += `,"synToSynAckMs":${num(e.synToSynAckMs)}`;
      if (e.synAckToAckMs !== undefined) t += `,"synAckToAckMs":${num(e.synAckToAckMs)}`;
      return t + '}';
    }
    case 'teardown':
      return `${head},"phase":"${e.phase}","kind":"${e.kind}"${e.side === undefined ? '' : `,"side":"${e.side}"`}}`;
    case 'reset':
      return `${head},"side":"${e.side}"}`;
    case 'refused':
      return head + '}';
    case 'anomaly':
      return `${head},"kind":"${e.kind}","side":"${e.side}"${e.detail === undefined ? '' : `,"detail":${str(e.detail)}`}}`;
    case 'connection':
      return `${head},"phase":"${e.phase}"${e.connection === undefined ? '' : `,"connection":${summaryJson(e)}`}}`;
  }
}

/**
 * What a `connection` event says of its connection on the stream: where it runs and how it stands
 * after the event. Always: the endpoints (`ip`, `port`, `state`), `status`, `connState`, `history`,
 * `partial`, `rolesGuessed`, `captureGap`, `startedAt`; `closed` and `evicted` add how it ended:
 * `closedBy`, `closeKind`, `endedAt`, the handshake's `rttMs` and the `counts`. The field names
 * and meanings are the Connection's.
 */
export type ConnectionSummary = Pick<ConnectionView, 'status' | 'connState' | 'history' | 'partial' | 'rolesGuessed' | 'captureGap' | 'startedAt'> & {
  client: Pick<EndpointView, 'ip' | 'port' | 'state'>;
  server: Pick<EndpointView, 'ip' | 'port' | 'state'>;
} & Partial<Pick<ConnectionView, 'closedBy' | 'closeKind' | 'endedAt' | 'counts'> & { rttMs: number | null }>;

/** The summary as an object (what the stream's text parses to), for tests and other writers. */
export function connectionSummary(phase: ConnectionEvent['phase'], c: ConnectionView): ConnectionSummary {
  const s: ConnectionSummary = {
    client: { ip: c.client.ip, port: c.client.port, state: c.client.state },
    server: { ip: c.server.ip, port: c.server.port, state: c.server.state },
    status: c.status,
    connState: c.connState,
    history: c.history,
    partial: c.partial,
    rolesGuessed: c.rolesGuessed,
    captureGap: c.captureGap,
    startedAt: c.startedAt,
  };
  if (phase === 'opened') return s;
  return {
    ...s,
    closedBy: c.closedBy,
    closeKind: c.closeKind,
    endedAt: c.endedAt,
    rttMs: c.handshake.rttMs,
    counts: { client: { ...c.counts.client }, server: { ...c.counts.server } },
  };
}

function summaryJson(e: ConnectionEvent): string {
  const c = e.connection!;
  const a = c.client;
  const b = c.server;
  const t =
    `{"client":{"ip":${str(a.ip)},"port":${a.port},"state":"${a.state}"},"server":{"ip":${str(b.ip)},"port":${b.port},"state":"${b.state}"}` +
    `,"status":"${c.status}","connState":"${c.connState}","history":${str(c.history)},"partial":${c.partial},"rolesGuessed":${c.rolesGuessed},"captureGap":${c.captureGap},"startedAt":${num(c.startedAt)}`;
  if (e.phase === 'opened') return t + '}';
  const n = c.counts;
  return (
    t +
    `,"closedBy":${c.closedBy === null ? 'null' : `"${c.closedBy}"`}` +
    `,"closeKind":${c.closeKind === null ? 'null' : `"${c.closeKind}"`},"endedAt":${num(c.endedAt)},"rttMs":${num(c.handshake.rttMs)}` +
    `,"counts":{"client":{"packets":${n.client.packets},"bytes":${n.client.bytes}},"server":{"packets":${n.server.packets},"bytes":${n.server.bytes}}}}`
  );
}

// The events of one packet share its time, and writing a fractional number is the dearest part of
// most events: the last one's text is kept.
let lastTs = NaN;
let lastTsText = 'null';

function tsText(ts: number): string {
  if (ts !== lastTs) {
    lastTs = ts;
    lastTsText = num(ts);
  }
  return lastTsText;
}

/** A number as JSON writes it (NaN and ±Infinity become null). */
function num(n: number | null): string {
  return n !== null && Number.isFinite(n) ? String(n) : 'null';
}

/** A string as JSON writes it; plain ones (the usual ids, addresses, history letters) without a call. */
function str(s: string): string {
  for (let i = 0; i < s.length; i++) {
    const ch = s.charCodeAt(i);
    if (ch < 0x20 || ch === 0x22 || ch === 0x5c || ch > 0x7e) return JSON.stringify(s);
  }
  return `"${s}"`;
}
