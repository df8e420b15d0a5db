import { isIP } from 'node:net';
import type { LiveError } from './errors';

/** What narrows a live capture; every part is optional and the parts are AND-ed. */
export interface FilterOptions {
  ports?: readonly number[];
  hosts?: readonly string[];
  /** A raw BPF expression, wrapped as `tcp and (EXPR)`. */
  filter?: string;
}

// RFC 1123 host names: letters, digits and inner hyphens per label. Nothing here can be a BPF
// operator, parenthesis or space, so a name stays one token of the `host` primitive.
const HOST_NAME = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/;

function badFilter(message: string): LiveError {
  return { code: 'bad-filter', message };
}

/**
 * Checks the parts that buildFilter splices into the expression: ports must be integers 0..65535,
 * hosts IP literals or host names, and a raw expression must keep its parentheses balanced so it
 * cannot close the `tcp and (` around it. Returns null when everything is usable.
 */
export function checkFilterOptions(opts: FilterOptions): LiveError | null {
  for (const p of opts.ports ?? []) {
    if (typeof p !== 'number' || !Number.isInteger(p) || p < 0 || p > 65535) {
      return badFilter(`invalid port ${JSON.stringify(p)}: a port is an integer from 0 to 65535`);
    }
  }
  for (const h of opts.hosts ?? []) {
    // libpcap's grammar has no IPv6 zone (fe80::1%eth0); '%' is its modulo operator.
    const ip = typeof h === 'string' && isIP(h) !== 0 && !h.includes('%');
    if (typeof h !== 'string' || (!ip && !HOST_NAME.test(h))) {
      return badFilter(`invalid host ${JSON.stringify(h)}: give an IPv4 or IPv6 address (no zone) or a host name`);
    }
  }
  const expr = opts.filter;
  if (expr !== undefined) {
    if (typeof expr !== 'string') return badFilter('invalid capture filter: not a string');
    // Control characters other than ordinary white space have no place in a filter; NUL would
    // even cut the string short on its way into libpcap.
    if (/[\u0000-\u0008\u000e-\u001f\u007f]/.test(expr)) {
      return badFilter(`invalid capture filter ${JSON.stringify(expr)}: it contains control characters`);
    }
    let depth = 0;
    for (let i = 0; i < expr.length; i++) {
      const c = expr.charCodeAt(i);
      if (c === 0x28) depth++;
      else if (c === 0x29 && --depth < 0) break;
    }
    if (depth !== 0) {
      return badFilter(`invalid capture filter ${JSON.stringify(expr)}: unbalanced parentheses`);
    }
  }
  return null;
}

/**
 * The BPF expression for a live capture: `tcp`, narrowed by ports (`port a or port b`), hosts
 * (`host x or host y`) and a raw expression, each group in parentheses and AND-ed. Throws a
 * RangeError on input checkFilterOptions rejects (openLive checks first and returns the error
 * as a value).
 */
export function buildFilter(opts: FilterOptions = {}): string {
  const err = checkFilterOptions(opts);
  if (err) throw new RangeError(err.message);
  const parts = ['tcp'];
  const ports = [...new Set(opts.ports ?? [])];
  if (ports.length > 0) parts.push(group(ports.map((p) => `port ${p}`)));
  const hosts = [...new Set(opts.hosts ?? [])];
  if (hosts.length > 0) parts.push(group(hosts.map((h) => `host ${h}`)));
  const expr = opts.filter?.trim();
  if (expr) parts.push(`(${expr})`);
  return parts.join(' and ');
}

function group(terms: string[]): string {
  return `(${terms.join(' or ')})`;
}
