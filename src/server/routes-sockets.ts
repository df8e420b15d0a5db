import type { Express, Request, Response } from 'express';
import { z } from 'zod';
import type { Listener } from '../sockets/attribute';
import type { Diagnosis } from '../sockets/diagnose';
import type { SocketStats } from '../sockets/watch';
import { port, type Parsed } from './query';

/** What the server reads of the kernel's view of the host's sockets (live mode only). */
export interface SocketsSource {
  /** Listening sockets on the captured ports, or all of them. */
  listeners(all: boolean): Listener[];
  stats(): SocketStats;
  diagnoses(): Diagnosis[];
}

const one = z.string({ error: 'give it once, as a single value' });
const LISTENER_PARAMS = {
  all: one.pipe(z.enum(['true', 'false', '1', '0'], { error: "must be 'true' or 'false'" })).transform((s) => s === 'true' || s === '1'),
  port,
  token: z.unknown(),
} as const;

interface ListenerQuery {
  all: boolean;
  port: number | null;
}

export function parseListenerQuery(query: Record<string, unknown>): Parsed<ListenerQuery> {
  const value: ListenerQuery = { all: false, port: null };
  for (const [key, raw] of Object.entries(query)) {
    if (!Object.hasOwn(LISTENER_PARAMS, key)) return { ok: false, parameter: key, detail: 'unknown parameter; known: all, port' };
    const r = (LISTENER_PARAMS[key as keyof typeof LISTENER_PARAMS] as z.ZodType).safeParse(raw);
    if (!r.success) return { ok: false, parameter: key, detail: r.error.issues[0]?.message ?? 'invalid value' };
    if (key === 'all') value.all = r.data as boolean;
    if (key === 'port') value.port = r.data as number;
  }
  return { ok: true, value };
}

/**
 * GET /api/listeners: the listening sockets with their owners, backlog and accept-queue length.
 * GET /api/diagnoses: what is wrong, in words, with its evidence.
 * Without a socket source (replay, analyze) the list is empty and says why.
 */
export function mountSocketRoutes(app: Express, sockets: SocketsSource | undefined, badParam: (res: Response, p: string, d: string) => void): void {
  app.get('/api/listeners', (req: Request, res: Response) => {
    const q = parseListenerQuery(req.query as Record<string, unknown>);
    if (!q.ok) return badParam(res, q.parameter, q.detail);
    if (!sockets) return void res.json({ listeners: [], available: false, detail: 'listeners are read from this machine in live mode' });
    let list = sockets.listeners(q.value.all || q.value.port !== null);
    if (q.value.port !== null) list = list.filter((l) => l.port === q.value.port);
    res.json({ listeners: list, available: true });
  });

  app.get('/api/diagnoses', (req: Request, res: Response) => {
    for (const key of Object.keys(req.query)) {
      if (key !== 'token') return badParam(res, key, 'this endpoint takes no parameters');
    }
    if (!sockets) return void res.json({ diagnoses: [], available: false, detail: "diagnoses need this machine's socket tables (live mode)" });
    res.json({ diagnoses: sockets.diagnoses(), available: true });
  });
}
