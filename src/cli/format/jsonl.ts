import type { ConnectionView, EndpointView, SideOptions } from '../../track/connection';

// One connection as a JSON line, the same text JSON.stringify makes (test/cli/format.test.ts holds
// them equal), written out field by field: the shape is fixed and every string in it (addresses,
// state names, history letters, ids) needs no escaping, so this costs a third of the generic walk.

const num = (n: number | null): string => (n === null || !Number.isFinite(n) ? 'null' : String(n));
const str = (s: string | null): string => (s === null ? 'null' : `"${s}"`);

function opts(o: SideOptions): string {
  return `{"mss":${num(o.mss)},"wscale":${num(o.wscale)},"sackPermitted":${o.sackPermitted},"timestamps":${o.timestamps}}`;
}

/** What is known of an endpoint beyond the packets (its owner, the kernel's view), in the view's own order. */
function notes(e: EndpointView): string {
  if (e.process === undefined && e.processReason === undefined && e.kernel === undefined) return '';
  let out = '';
  for (const [k, v] of Object.entries(e)) {
    if (k !== 'ip' && k !== 'port' && k !== 'state' && v !== undefined) out += `,"${k}":${JSON.stringify(v)}`;
  }
  return out;
}

export function jsonLine(c: ConnectionView): string {
  const h = c.handshake;
  const k = c.counts;
  return (
    `{"id":"${c.id}","family":${c.family},` +
    `"client":{"ip":"${c.client.ip}","port":${c.client.port},"state":"${c.client.state}"${notes(c.client)}},` +
    `"server":{"ip":"${c.server.ip}","port":${c.server.port},"state":"${c.server.state}"${notes(c.server)}},` +
    `"status":"${c.status}","connState":"${c.connState}","history":"${c.history}",` +
    `"partial":${c.partial},"rolesGuessed":${c.rolesGuessed},` +
    `"startedAt":${num(c.startedAt)},"endedAt":${num(c.endedAt)},"lastSeenAt":${num(c.lastSeenAt)},` +
    `"handshake":{"synAt":${num(h.synAt)},"synAckAt":${num(h.synAckAt)},"ackAt":${num(h.ackAt)},` +
    `"rttMs":${num(h.rttMs)},"synToSynAckMs":${num(h.synToSynAckMs)},"synAckToAckMs":${num(h.synAckToAckMs)}},` +
    `"closedBy":${str(c.closedBy)},"closeKind":${str(c.closeKind)},` +
    `"counts":{"client":{"packets":${k.client.packets},"bytes":${k.client.bytes}},"server":{"packets":${k.server.packets},"bytes":${k.server.bytes}}},` +
    `"options":{"client":${opts(c.options.client)},"server":${opts(c.options.server)}},` +
    `"synRetransmits":${c.synRetransmits},"anomalies":${c.anomalies},"missedBytes":${c.missedBytes}}\n`
  );
}
