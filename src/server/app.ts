import { existsSync } from 'node:fs';
import path from 'node:path';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { TrackerOptions } from '../track/api';
import { transitionsDoc } from '../track/explanations';
import { DEFAULT_TRACKER_OPTIONS } from '../track/options';
import { TokenCheck } from './auth';
import type { ApiErrorCode } from './errors';
import { DEFAULT_WS_OPTIONS, type ServerDeps, type WsOptions } from './deps';
import { pageJsonOf } from './json';
import { captureHealth, MidstreamCounter } from './loss-evidence';
import { Metrics } from './metrics';
import { NAMES_MODULE, NAMES_MODULE_PATH } from './names';
import { encodeCursor, parseListQuery, parseNoQuery, type ListQuery } from './query';
import { mountSocketRoutes } from './routes-sockets';
import { RttWindow } from './rtt-window';
import { buildStats } from './stats';
import { WsHub } from './ws-hub';

/** What listen() needs beside the express app: the WebSocket hub sharing its state. */
export interface AppServices {
  deps: ServerDeps;
  token: TokenCheck;
  rtt: RttWindow;
  metrics: Metrics;
  ws: WsHub;
  startedAt: number;
}

export type TcpscopeApp = express.Express & { locals: { services: AppServices } };

/** The default dashboard folder: web/ at the top of the checkout (beside src/ and dist/). */
export const DEFAULT_WEB_ROOT = path.resolve(__dirname, '..', '..', 'web');

/**
 * Builds the HTTP API (REST, metrics, static dashboard) without listening, so tests and embedders
 * can mount it anywhere. Everything reads the tracker at request time; nothing here runs per packet
 * except the event-bus listeners (creation numbers, RTT window, histogram, WebSocket fan-out).
 */
export function createApp(deps: ServerDeps): TcpscopeApp {
  deps.engine.tracker.enableQueryIndex?.();
  const wsOpts: WsOptions = { ...DEFAULT_WS_OPTIONS, ...deps.ws };
  const token = new TokenCheck(deps.token);
  const rtt = new RttWindow(10_000, deps.bus);
  const midstream = new MidstreamCounter(deps.bus);
  const hub = new WsHub({ engine: deps.engine, bus: deps.bus, version: deps.version, source: deps.source, token, opts: wsOpts });
  const metrics = new Metrics(deps.engine, deps.source, () => hub.clientCount, deps.bus);
  const services: AppServices = { deps, token, rtt, metrics, ws: hub, startedAt: performance.now() };

  const app = express() as TcpscopeApp;
  app.locals.services = services;
  app.disable('x-powered-by');
  app.set('etag', false);

  app.use((_req, res, next) => {
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'no-referrer');
    next();
  });

  const guard = (req: Request, res: Response, next: NextFunction) => {
    if (token.allows(req)) return next();
    res.setHeader('WWW-Authenticate', 'Bearer');
    apiError(res, 401, 'unauthorized', 'missing or wrong token: send Authorization: Bearer TOKEN or add ?token=TOKEN');
  };
  app.use('/api', guard);
  app.use('/metrics', guard);
  // The API is read-only: anything but GET/HEAD is answered before routing.
  app.use(['/api', '/metrics'], (req, res, next) => {
    if (req.method === 'GET' || req.method === 'HEAD') return next();
    res.setHeader('Allow', 'GET, HEAD');
    apiError(res, 405, 'method-not-allowed', `${req.method} is not supported; the API is read-only`);
  });

  app.get('/api/health', (req, res) => {
    if (!noParams(req, res)) return;
    const source = deps.source();
    res.json({
      status: captureHealth(source),
      version: deps.version,
      uptimeS: Math.round((performance.now() - services.startedAt) / 10) / 100,
      source,
    });
  });

  app.get('/api/connections', (req, res) => {
    const q = parseListQuery(req.query as Record<string, unknown>);
    if (!q.ok) return badParam(res, q.parameter, q.detail);
    sendJson(res, listConnections(services, q.value));
  });

  app.get('/api/connections/:id', (req, res) => {
    if (!noParams(req, res)) return;
    const id = String(req.params.id);
    const d = id.length <= 200 ? deps.engine.tracker.detail(id) : undefined;
    if (!d) return apiError(res, 404, 'not-found', `no connection with id '${id.slice(0, 200)}'`);
    res.json(d);
  });

  // The transition table with its explanations, built once from the tracker's own table.
  const options = (deps.engine.tracker as { options?: TrackerOptions }).options ?? DEFAULT_TRACKER_OPTIONS;
  const transitions = transitionsDoc(options.mslMs);
  app.get('/api/transitions', (req, res) => {
    if (!noParams(req, res)) return;
    res.json(transitions);
  });

  app.get('/api/stats', (req, res) => {
    if (!noParams(req, res)) return;
    const stats = buildStats(deps.engine, rtt, deps.source(), hub.stats(), midstream.count);
    res.json(deps.sockets ? { ...stats, sockets: deps.sockets.stats() } : stats);
  });

  mountSocketRoutes(app, deps.sockets, badParam);

  app.get('/metrics', async (req, res) => {
    if (!noParams(req, res)) return;
    res.setHeader('Content-Type', metrics.contentType);
    res.send(await metrics.text());
  });

  app.use('/api', (req, res) => {
    apiError(res, 404, 'not-found', `no API endpoint ${req.method} ${req.baseUrl}${req.path}`);
  });

  app.get(NAMES_MODULE_PATH, (_req, res) => {
    res.type('text/javascript').send(NAMES_MODULE);
  });
  const webRoot = deps.webRoot ?? DEFAULT_WEB_ROOT;
  if (existsSync(webRoot)) app.use(express.static(webRoot, { index: 'index.html', dotfiles: 'ignore', fallthrough: true }));

  app.use((req, res) => {
    apiError(res, 404, 'not-found', `nothing at ${req.path}`);
  });

  // Express 5 passes rejected promises here; a failing request never takes the server down.
  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const status = typeof (err as { status?: unknown }).status === 'number' ? (err as { status: number }).status : 500;
    if (res.headersSent) return void res.end();
    apiError(res, status, status >= 500 ? 'internal-error' : 'bad-request', errorText(err));
  });

  return app;
}

function noParams(req: Request, res: Response): boolean {
  const q = parseNoQuery(req.query as Record<string, unknown>);
  if (q.ok) return true;
  badParam(res, q.parameter, q.detail);
  return false;
}

function apiError(res: Response, status: number, error: ApiErrorCode, detail: string): void {
  res.status(status).json({ error, detail });
}

/** A bad query parameter: its `error` names it (docs/API.md), `parameter` holds the name alone. */
function badParam(res: Response, parameter: string, detail: string): void {
  res.status(400).json({ error: `bad query parameter '${parameter}'`, parameter, detail: `${parameter}: ${detail}` });
}

/** A body already written as JSON, sent as res.json sends one. */
function sendJson(res: Response, body: Buffer): void {
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.send(body);
}

/** A page of the table as the tracker answers it from its columns (track/select.ts), written as JSON from them (json.ts), no view built. */
function listConnections(s: AppServices, q: ListQuery): Buffer {
  const r = s.deps.engine.tracker.selectRecords({
    status: q.status,
    state: q.state,
    port: q.port,
    host: q.host,
    afterId: q.after,
    limit: q.limit,
  });
  return pageJsonOf(r, r.more && r.lastId > 0 ? encodeCursor(r.lastId) : null, r.total);
}

function errorText(err: unknown): string {
  if (err instanceof Error) return err.message.split('\n')[0];
  return 'unexpected error';
}
