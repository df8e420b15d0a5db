import type { ConnectionView, EndpointView, SideOptions } from '../../track/connection';

// One connection as a JSON line, the same text JSON.stringify makes (test/cli/format.test.ts holds
// them equal), written out field by field: the shape is fixed and every string in it (addresses,
// state names, history letters, ids) needs no escaping, so this costs a third of the generic walk.

/** '.ddd' for thousandths 0..999, trailing zeros dropped ('' for 0), and 3-digit groups '000'..'999'. */
const FRACTION = Array.from({ length: 1000 }, (_, i) => (i === 0 ? '' : `.${String(i).padStart(3, '0').replace(/0+$/, '')}`));
const GROUP = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, '0'));

/**
 * A number as JSON writes it (String(n)), cheaply for the common case: a time of microsecond
 * precision in epoch ms (1.7e12 with three decimals), whose shortest round-trip text V8 finds only
 * at several times the cost. When the decimal with those three digits is the one the number is
 * nearest to (m / 1000 === n, both correctly rounded), that decimal is the shortest text for it:
 * below 4e12 doubles lie less than 0.0005 apart, so no other decimal of three or fewer places reads
 * back as the same number. Anything else goes to String.
 */
function num(n: number | null): string {
  if (n === null) return 'null';
  if (n > 0 && n < 4e12) {
    const m = Math.round(n * 1000);
    if (m / 1000 === n) {
      const whole = Math.floor(m / 1000);
      const f = FRACTION[m - whole * 1000];
      if (whole < 1e9) return whole + f;
      const hi = Math.floor(whole / 1e6);
      const lo = whole - hi * 1e6;
      const mid = Math.floor(lo / 1000);
      return hi + GROUP[mid] + GROUP[lo - mid * 1000] + f;
    }
  }
  return Number.isFinite(n) ? String(n) : 'null';
}
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
    `"partial":${c.partial},"captureGap":${c.captureGap},"rolesGuessed":${c.rolesGuessed},` +
    `"startedAt":${num(c.startedAt)},"endedAt":${num(c.endedAt)},"lastSeenAt":${num(c.lastSeenAt)},` +
    `"handshake":{"synAt":${num(h.synAt)},"synAckAt":${num(h.synAckAt)},"ackAt":${num(h.ackAt)},` +
    `"rttMs":${num(h.rttMs)},"synToSynAckMs":${num(h.synToSynAckMs)},"synAckToAckMs":${num(h.synAckToAckMs)}},` +
    `"closedBy":${str(c.closedBy)},"closeKind":${str(c.closeKind)},` +
    `"counts":{"client":{"packets":${k.client.packets},"bytes":${k.client.bytes}},"server":{"packets":${k.server.packets},"bytes":${k.server.bytes}}},` +
    `"options":{"client":${opts(c.options.client)},"server":${opts(c.options.server)}},` +
    `"synRetransmits":${c.synRetransmits},"anomalies":${c.anomalies},"missedBytes":${c.missedBytes}}\n`
  );
}
