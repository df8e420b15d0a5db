import { isIP } from 'node:net';
import { z } from 'zod';
import { TCP_STATES, type TcpState } from '../track/states';

/** Which connections a list holds: those still open, those closed, or both. */
export const LIST_STATUSES = ['open', 'closed', 'all'] as const;
export type ListStatus = (typeof LIST_STATUSES)[number];

export interface ListQuery {
  status: ListStatus;
  state: TcpState | null;
  port: number | null;
  host: string | null;
  limit: number;
  /** Connection id number to continue after (ids are creation numbers; 0 = from the start). */
  after: number;
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; parameter: string; detail: string };

/** An address as the tracker prints it (IPv6 compressed as RFC 5952 says), so comparisons are exact. */
export function canonicalIp(text: string): string | null {
  const v = isIP(text);
  if (v === 4) return text.split('.').map((p) => String(Number(p))).join('.');
  if (v === 6) {
    try {
      const h = new URL(`http://[${text}]/`).hostname;
      return h.slice(1, -1);
    } catch {
      return null;
    }
  }
  return null;
}

// One string each: a repeated parameter (?port=1&port=2) arrives as an array and is refused.
const one = z.string({ error: 'give it once, as a single value' });

export const port = one
  .regex(/^\d{1,5}$/, { error: 'must be a port number 0..65535' })
  .transform(Number)
  .refine((n) => n <= 65535, { error: 'must be a port number 0..65535' });

export const host = one.transform((s, ctx) => {
  const ip = canonicalIp(s);
  if (ip === null) {
    ctx.addIssue({ code: 'custom', message: 'must be an IPv4 or IPv6 address' });
    return z.NEVER;
  }
  return ip;
});

const LIST_PARAMS = {
  status: one.pipe(z.enum(LIST_STATUSES, { error: `must be one of ${LIST_STATUSES.join(', ')}` })),
  state: one
    .transform((s) => s.toUpperCase())
    .pipe(z.enum(TCP_STATES, { error: `must be one of ${TCP_STATES.join(', ')}` })),
  port,
  host,
  limit: one
    .regex(/^\d{1,4}$/, { error: 'must be an integer from 1 to 1000' })
    .transform(Number)
    .refine((n) => n >= 1 && n <= 1000, { error: 'must be an integer from 1 to 1000' }),
  cursor: one.transform((s, ctx) => {
    const n = decodeCursor(s);
    if (n === null) {
      ctx.addIssue({ code: 'custom', message: 'not a cursor this server issued (use nextCursor as given)' });
      return z.NEVER;
    }
    return n;
  }),
  // Browsers cannot send headers on every request; the auth layer reads it.
  token: z.unknown(),
} as const;

function firstMessage(err: z.ZodError): string {
  return err.issues[0]?.message ?? 'invalid value';
}

/** Validates each parameter on its own so the error names exactly the one that is wrong. */
export function parseListQuery(query: Record<string, unknown>): Parsed<ListQuery> {
  const value: ListQuery = { status: 'open', state: null, port: null, host: null, limit: 100, after: 0 };
  for (const [key, raw] of Object.entries(query)) {
    if (!Object.hasOwn(LIST_PARAMS, key)) {
      return { ok: false, parameter: key, detail: `unknown parameter; known: ${Object.keys(LIST_PARAMS).filter((k) => k !== 'token').join(', ')}` };
    }
    const schema = LIST_PARAMS[key as keyof typeof LIST_PARAMS] as z.ZodType;
    const r = schema.safeParse(raw);
    if (!r.success) return { ok: false, parameter: key, detail: firstMessage(r.error) };
    switch (key) {
      case 'status':
        value.status = r.data as ListQuery['status'];
        break;
      case 'state':
        value.state = r.data as TcpState;
        break;
      case 'port':
        value.port = r.data as number;
        break;
      case 'host':
        value.host = r.data as string;
        break;
      case 'limit':
        value.limit = r.data as number;
        break;
      case 'cursor':
        value.after = r.data as number;
        break;
    }
  }
  return { ok: true, value };
}

/** Endpoints that take no parameters still refuse unknown ones, so a typo is never silently ignored. */
export function parseNoQuery(query: Record<string, unknown>): Parsed<null> {
  for (const key of Object.keys(query)) {
    if (key !== 'token') return { ok: false, parameter: key, detail: 'this endpoint takes no parameters' };
  }
  return { ok: true, value: null };
}

/*
 * A cursor names "after the connection with id number N": ids are handed out in creation order,
 * so it survives connections coming and going, where a position in a list would shift.
 */
const CURSOR_PREFIX = 'c1.';

export function encodeCursor(seq: number): string {
  return Buffer.from(CURSOR_PREFIX + seq.toString(36)).toString('base64url');
}

/** The creation number a cursor stands for, or null when it is not one of ours. */
export function decodeCursor(cursor: string): number | null {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(cursor)) return null;
  const text = Buffer.from(cursor, 'base64url').toString('latin1');
  if (!text.startsWith(CURSOR_PREFIX)) return null;
  const body = text.slice(CURSOR_PREFIX.length);
  if (!/^[0-9a-z]{1,11}$/.test(body)) return null;
  const n = parseInt(body, 36);
  return Number.isSafeInteger(n) ? n : null;
}
