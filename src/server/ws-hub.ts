import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import type { EventBus } from '../events/bus';
import { EVENT_SCHEMA_VERSION, type TcpEvent } from '../events/types';
import type { ConnectionView } from '../track/connection';
import { sameOrigin, type TokenCheck } from './auth';
import type { EngineLike, SourceInfo, WsOptions } from './deps';
import { WsClient } from './ws-client';
import { StreamFilter, clientMessage, endpointsOf, type EndpointsOf } from './ws-filter';

/** How often clients with a backlog are retried while their sockets drain. */
const BACKLOG_RETRY_MS = 20;
/** Endpoints remembered per connection id for port/host filters, before the cache is reset. */
const ENDPOINT_CACHE_MAX = 50_000;

export interface WsHubDeps {
  engine: EngineLike;
  bus: EventBus;
  version: string;
  source: () => SourceInfo;
  token: TokenCheck;
  opts: WsOptions;
}

/**
 * The /ws stream: `hello`, `snapshot`, then one frame per event (`{type:'event', seq, event}`), in
 * the order of the global sequence number. Each event is serialised once and shared by every
 * client whose filter takes it.
 */
export class WsHub {
  private readonly wss: WebSocketServer;
  private readonly clients = new Set<WsClient>();
  private readonly backlog = new Set<WsClient>();
  private readonly endpoints = new Map<string, EndpointsOf>();
  private flushScheduled = false;
  private retryTimer: NodeJS.Timeout | null = null;
  private readonly heartbeat: NodeJS.Timeout;
  private readonly unsubscribe: () => void;
  /** Upgrades refused, by reason (visible to tests and /api/stats through the server). */
  readonly refused = { path: 0, token: 0, origin: 0, full: 0 };

  constructor(private readonly deps: WsHubDeps) {
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: deps.opts.maxPayload,
      perMessageDeflate: false,
      clientTracking: false,
    });
    this.unsubscribe = deps.bus.subscribe((seq, e) => this.onEvent(seq, e));
    this.heartbeat = setInterval(() => this.beat(), deps.opts.heartbeatMs);
    this.heartbeat.unref();
  }

  get clientCount(): number {
    return this.clients.size;
  }

  /** For the HTTP server's 'upgrade' event. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => socket.destroy());
    const path = (req.url ?? '').split('?')[0];
    if (path !== '/ws') {
      this.refused.path++;
      return reject(socket, 404, 'not-found', 'the WebSocket stream is at /ws');
    }
    if (!this.deps.token.allows(req)) {
      this.refused.token++;
      return reject(socket, 401, 'unauthorized', 'missing or wrong token: send Authorization: Bearer TOKEN or ?token=TOKEN');
    }
    if (!sameOrigin(req)) {
      this.refused.origin++;
      return reject(socket, 403, 'forbidden-origin', 'the page connecting is not served by this tcpscope');
    }
    if (this.clients.size >= this.deps.opts.maxClients) {
      this.refused.full++;
      return reject(socket, 503, 'too-many-clients', `at most ${this.deps.opts.maxClients} WebSocket clients`);
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws));
  }

  private accept(ws: WebSocket): void {
    const c = new WsClient(ws, this.deps.opts.maxQueue, this.deps.opts.highWaterBytes);
    this.clients.add(c);
    ws.on('pong', () => {
      c.alive = true;
    });
    // Oversized or broken frames surface here; ws closes the socket itself, we only forget it.
    ws.on('error', () => this.drop(c));
    ws.on('close', () => this.drop(c));
    ws.on('message', (data, isBinary) => this.onMessage(c, data, isBinary));
    c.enqueue(
      JSON.stringify({
        type: 'hello',
        version: this.deps.version,
        eventSchema: EVENT_SCHEMA_VERSION,
        source: this.deps.source(),
      }),
    );
    this.sendSnapshot(c);
    this.flushClient(c);
  }

  private drop(c: WsClient): void {
    this.clients.delete(c);
    this.backlog.delete(c);
  }

  private onMessage(c: WsClient, data: RawData, isBinary: boolean): void {
    if (isBinary) return this.replyError(c, 'bad-message', 'messages are JSON text');
    let parsed: unknown;
    try {
      parsed = JSON.parse(data.toString());
    } catch {
      return this.replyError(c, 'bad-message', 'not valid JSON');
    }
    const r = clientMessage.safeParse(parsed);
    if (!r.success) {
      const i = r.error.issues[0];
      const where = i && i.path.length ? i.path.join('.') + ': ' : '';
      return this.replyError(c, 'bad-message', where + (i?.message ?? 'invalid message'));
    }
    c.filter = new StreamFilter(r.data.filter);
    c.enqueue(JSON.stringify({ type: 'subscribed', filter: c.filter.toJSON() }));
    this.sendSnapshot(c);
    this.flushClient(c);
  }

  private replyError(c: WsClient, error: string, detail: string): void {
    c.enqueue(JSON.stringify({ type: 'error', error, detail }));
    this.flushClient(c);
  }

  /** The connections a client should start from, at the sequence number of the newest event. */
  private sendSnapshot(c: WsClient): void {
    const all = this.deps.engine.tracker.list();
    const f = c.filter;
    const matching = f && f.needsEndpoints ? all.filter((x) => f.matchesConnection(x)) : all;
    const { connections, truncated } = newestFirstOpen(matching, this.deps.opts.snapshotLimit);
    c.enqueue(
      JSON.stringify({
        type: 'snapshot',
        seq: this.deps.bus.lastSeq,
        connections,
        ...(truncated ? { truncated: true, total: matching.length } : {}),
      }),
    );
  }

  private onEvent(seq: number, e: TcpEvent): void {
    if (this.clients.size === 0) return;
    if (e.type === 'connection' && e.connection) this.remember(e.connection);
    let msg: string | null = null;
    let ep: EndpointsOf | undefined | null = null;
    const lookup = () => {
      if (ep === null) ep = this.endpointsFor(e);
      return ep;
    };
    for (const c of this.clients) {
      if (c.filter && !c.filter.matchesEvent(e, lookup)) continue;
      msg ??= JSON.stringify({ type: 'event', seq, event: e });
      c.enqueue(msg);
      this.backlog.add(c);
    }
    if (msg !== null) this.scheduleFlush();
  }

  private endpointsFor(e: TcpEvent): EndpointsOf | undefined {
    const known = this.endpoints.get(e.connectionId);
    if (known) return known;
    const c = e.type === 'connection' && e.connection ? e.connection : this.deps.engine.tracker.get(e.connectionId);
    return c ? this.remember(c) : undefined;
  }

  private remember(c: ConnectionView): EndpointsOf {
    if (this.endpoints.size >= ENDPOINT_CACHE_MAX) this.endpoints.clear();
    const ep = endpointsOf(c);
    this.endpoints.set(c.id, ep);
    return ep;
  }

  /** Sending waits for the end of the current burst of packets, so capture is never held up. */
  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      this.flushBacklog();
    });
  }

  private flushClient(c: WsClient): void {
    this.backlog.add(c);
    this.scheduleFlush();
  }

  private flushBacklog(): void {
    for (const c of this.backlog) {
      if (!c.flush((x) => this.sendSnapshot(x))) this.backlog.delete(c);
    }
    if (this.backlog.size > 0 && this.retryTimer === null) {
      this.retryTimer = setTimeout(() => {
        this.retryTimer = null;
        this.flushBacklog();
      }, BACKLOG_RETRY_MS);
      this.retryTimer.unref();
    }
  }

  private beat(): void {
    for (const c of this.clients) {
      if (!c.alive) {
        c.ws.terminate();
        this.drop(c);
        continue;
      }
      c.alive = false;
      try {
        c.ws.ping();
      } catch {
        this.drop(c);
      }
    }
  }

  close(): void {
    this.unsubscribe();
    clearInterval(this.heartbeat);
    if (this.retryTimer) clearTimeout(this.retryTimer);
    for (const c of this.clients) c.ws.close(1001, 'server shutting down');
    this.clients.clear();
    this.backlog.clear();
    this.wss.close();
  }
}

/**
 * At most `limit` connections, preferring open ones and then the newest, returned in creation
 * order (the order `list()` gives).
 */
function newestFirstOpen(list: ConnectionView[], limit: number): { connections: ConnectionView[]; truncated: boolean } {
  if (list.length <= limit) return { connections: list, truncated: false };
  const keep: number[] = [];
  for (let i = list.length - 1; i >= 0 && keep.length < limit; i--) if (list[i].status === 'open') keep.push(i);
  for (let i = list.length - 1; i >= 0 && keep.length < limit; i--) if (list[i].status !== 'open') keep.push(i);
  keep.sort((a, b) => a - b);
  return { connections: keep.map((i) => list[i]), truncated: true };
}

function reject(socket: Duplex, status: number, error: string, detail: string): void {
  const body = JSON.stringify({ error, detail });
  const reason = { 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 503: 'Service Unavailable' }[status] ?? 'Error';
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Type: application/json\r\n` +
      (status === 401 ? 'WWW-Authenticate: Bearer\r\n' : '') +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}
