import { isIP } from 'node:net';

export interface ListenAddress {
  host: string;
  port: number;
}

export const DEFAULT_LISTEN: ListenAddress = { host: '127.0.0.1', port: 7070 };

/**
 * Parses `HOST:PORT`, `[V6]:PORT`, `:PORT` or `PORT` (loopback is the default host). Returns an
 * error text for the usage message instead of throwing.
 */
export function parseListen(text: string): ListenAddress | string {
  const t = text.trim();
  let host = DEFAULT_LISTEN.host;
  let portText = t;
  const v6 = /^\[([^\]]+)\]:(\d+)$/.exec(t);
  if (v6) {
    host = v6[1];
    portText = v6[2];
  } else if (t.includes(':')) {
    const i = t.lastIndexOf(':');
    if (t.indexOf(':') !== i) return `'${text}': write IPv6 addresses in brackets, e.g. [::1]:7070`;
    host = t.slice(0, i) || DEFAULT_LISTEN.host;
    portText = t.slice(i + 1);
  }
  if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65535) return `'${text}': the port must be 0..65535`;
  if (host !== 'localhost' && isIP(host) === 0) return `'${text}': the host must be an IP address or localhost`;
  return { host, port: Number(portText) };
}

/** Only these addresses keep the API to this machine; anything else needs a token. */
export function isLoopback(host: string): boolean {
  if (host === 'localhost' || host === '::1') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  if (/^::ffff:127\./i.test(host)) return true;
  return false;
}

export function urlOf(host: string, port: number): string {
  const h = isIP(host) === 6 ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '[::1]' : host;
  return `http://${h}:${port}/`;
}
