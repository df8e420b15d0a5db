import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/**
 * Checks the shared token of a request: `Authorization: Bearer TOKEN`, or `?token=TOKEN` for
 * browsers (which cannot put headers on a WebSocket or a plain link).
 */
export class TokenCheck {
  private readonly digest: Buffer | null;

  constructor(token: string | null | undefined) {
    this.digest = token ? sha256(token) : null;
  }

  get required(): boolean {
    return this.digest !== null;
  }

  allows(req: IncomingMessage): boolean {
    if (this.digest === null) return true;
    const given = tokenOf(req);
    if (given === null) return false;
    // Hashing first makes both sides the same length, so the comparison time says nothing about it.
    return timingSafeEqual(sha256(given), this.digest);
  }
}

function sha256(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}

function tokenOf(req: IncomingMessage): string | null {
  const h = req.headers.authorization;
  if (typeof h === 'string') {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(h);
    if (m) return m[1];
  }
  const url = req.url ?? '';
  const q = url.indexOf('?');
  if (q >= 0) {
    const t = new URLSearchParams(url.slice(q + 1)).getAll('token');
    if (t.length === 1) return t[0];
  }
  return null;
}

/** A browser's Origin names the server itself (same host and port), or there is no Origin at all. */
export function sameOrigin(req: IncomingMessage): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return true; // not a browser: curl, scripts, the ws package
  const host = req.headers.host;
  if (!host) return false;
  try {
    const o = new URL(origin);
    if (o.protocol !== 'http:' && o.protocol !== 'https:') return false;
    return o.host.toLowerCase() === new URL(`http://${host}`).host.toLowerCase();
  } catch {
    return false;
  }
}
