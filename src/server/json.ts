import type { ConnectionView, EndpointView, SideOptions } from '../track/connection';

// The list endpoint's body written field by field: the same text JSON.stringify makes of the same
// object (test/server/json.test.ts holds them equal), at a fraction of the generic walk's cost — a
// page of 1 000 connections is most of what a list query costs. The shape is fixed and no string
// in it needs escaping (decimal ids, addresses, state names, Zeek's history letters); what comes
// from outside the packets (an endpoint's process, the kernel's view) goes through JSON.stringify.

/** Every field of a ConnectionView, in the order the tracker builds them; the writer below writes these. */
const WRITTEN = [
  'id',
  'family',
  'client',
  'server',
  'status',
  'connState',
  'history',
  'partial',
  'captureGap',
  'rolesGuessed',
  'startedAt',
  'endedAt',
  'lastSeenAt',
  'handshake',
  'closedBy',
  'closeKind',
  'counts',
  'options',
  'synRetransmits',
  'anomalies',
  'missedBytes',
] as const satisfies readonly (keyof ConnectionView)[];
/** A field added to ConnectionView and not to the writer fails to compile here. */
const everyField: Exclude<keyof ConnectionView, (typeof WRITTEN)[number]> extends never ? true : never = true;
void everyField;

const num = (n: number | null): string => (n === null || !Number.isFinite(n) ? 'null' : String(n));
const str = (s: string | null): string => (s === null ? 'null' : `"${s}"`);

function opts(o: SideOptions): string {
  return `{"mss":${num(o.mss)},"wscale":${num(o.wscale)},"sackPermitted":${o.sackPermitted},"timestamps":${o.timestamps}}`;
}

/** An endpoint, with what is known of it beyond the packets in the view's own key order. */
function endpoint(e: EndpointView): string {
  let out = `{"ip":"${e.ip}","port":${e.port},"state":"${e.state}"`;
  if (e.process !== undefined || e.processReason !== undefined || e.kernel !== undefined) {
    for (const k of Object.keys(e) as (keyof EndpointView)[]) {
      const v = e[k];
      if (k !== 'ip' && k !== 'port' && k !== 'state' && v !== undefined) out += `,"${k}":${JSON.stringify(v)}`;
    }
  }
  return out + '}';
}

/** One connection as JSON.stringify writes it. */
export function connectionJson(c: ConnectionView): string {
  const h = c.handshake;
  const k = c.counts;
  // a number costs ~0.1 µs to print, and a connection's times repeat (its SYN is its start, its
  // last packet its end): each is printed once
  const started = num(c.startedAt);
  const ended = num(c.endedAt);
  const last = c.lastSeenAt === c.endedAt ? ended : num(c.lastSeenAt);
  const toSynAck = num(h.synToSynAckMs);
  return (
    `{"id":"${c.id}","family":${c.family},"client":${endpoint(c.client)},"server":${endpoint(c.server)},` +
    `"status":"${c.status}","connState":"${c.connState}","history":"${c.history}",` +
    `"partial":${c.partial},"captureGap":${c.captureGap},"rolesGuessed":${c.rolesGuessed},` +
    `"startedAt":${started},"endedAt":${ended},"lastSeenAt":${last},` +
    `"handshake":{"synAt":${h.synAt === c.startedAt ? started : num(h.synAt)},"synAckAt":${num(h.synAckAt)},"ackAt":${num(h.ackAt)},` +
    `"rttMs":${num(h.rttMs)},"synToSynAckMs":${toSynAck},"synAckToAckMs":${h.synAckToAckMs === h.synToSynAckMs ? toSynAck : num(h.synAckToAckMs)}},` +
    `"closedBy":${str(c.closedBy)},"closeKind":${str(c.closeKind)},` +
    `"counts":{"client":{"packets":${k.client.packets},"bytes":${k.client.bytes}},"server":{"packets":${k.server.packets},"bytes":${k.server.bytes}}},` +
    `"options":{"client":${opts(c.options.client)},"server":${opts(c.options.server)}},` +
    `"synRetransmits":${c.synRetransmits},"anomalies":${c.anomalies},"missedBytes":${c.missedBytes}}`
  );
}

/** A list page, as JSON.stringify writes `{ connections, nextCursor, total }`. */
export function pageJson(connections: readonly ConnectionView[], nextCursor: string | null, total: number): string {
  let out = '{"connections":[';
  for (let i = 0; i < connections.length; i++) {
    if (i > 0) out += ',';
    out += connectionJson(connections[i]);
  }
  return `${out}],"nextCursor":${nextCursor === null ? 'null' : `"${nextCursor}"`},"total":${total}}`;
}
