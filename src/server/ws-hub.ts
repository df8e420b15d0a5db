import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import type { EventBus } from '../events/bus';
import { EVENT_SCHEMA_VERSION, type EventRecord, type EventType } from '../events/types';
import type { ConnectionView } from '../track/connection';
import { sameOrigin, type TokenCheck } from './auth';
import type { SourceInfo } from '../capture/source';
import type { EngineLike, WsOptions } from './deps';
import type { WsErrorCode } from './errors';
import { FLUSH_BLOCKED, FLUSH_DONE, FLUSH_MORE, WsClient, type FlushResult } from './ws-client';
import { StreamFilter, clientMessage, endpointsOf, endpointsOfFields, type EndpointsOf } from './ws-filter';
import { FrameSlabs, type Slab } from './ws-frames';
import { EventRing } from './ws-ring';

/** Least time between two passes that send events (see scheduleFlush). */
const FLUSH_EVERY_MS = 20;
/** How often clients whose sockets are full are looked at again. */
const BACKLOG_RETRY_MS = 20;
/**
 * How long one pass of writing to clients may hold the event loop: at least FLUSH_SLICE_MS, at
 * most FLUSH_SLICE_MAX_MS, in between as long as the rest of the loop took since the last pass.
 * The live capture ring holds about 500 packets on lo (BENCHMARKS.md, Live load), some 15 ms of a
 * busy loopback; writing a whole backlog at once held the loop for tens of milliseconds.
 */
const FLUSH_SLICE_MS = 2;
const FLUSH_SLICE_MAX_MS = 10;
/** The least time one client gets in a pass it takes part in. */
const MIN_SHARE_MS = 0.25;
/**
 * Most events in one `events` message. A client that is caught up gets every event of a flush in
 * one message; one further behind gets several, each checked against the clock and its socket.
 */
const MAX_BATCH_EVENTS = 1000;
/**
 * Version of the /ws message protocol, said in `hello`: 2 sends events in batches
 * (`{type:'events', seq, events}`, `seq` the number of the first), where 1 sent one
 * `{type:'event', seq, event}` each; 3 is 2 with a `connection` event carrying a summary of its
 * connection (src/events/encode.ts) instead of the whole Connection.
 */
export const STREAM_PROTOCOL = 3;
/** Endpoints remembered per connection id for port/host filters, before the cache is reset. */
const ENDPOINT_CACHE_MAX = 50_000;
/**
 * A snapshot (unfiltered) is shared by clients that connect within this long of each other, as
 * long as the ring still holds every event since (they get those next). Listing a full table
 * takes 100-200 ms here, a stall the capture ring only just absorbs: a crowd connecting must not
 * cause one every second.
 */
const SNAPSHOT_REUSE_MS = 5000;
/** How often sockets are checked for a stall. */
const STALL_CHECK_MS = 1000;
/** Messages a client may send per second, and in one burst. */
const CLIENT_MESSAGES_PER_S = 20;
const CLIENT_MESSAGE_BURST = 100;
/** New clients admitted at once before maxNewClientsPerSecond applies. */
const ADMIT_BURST = 50;

export interface WsHubDeps {
  engine: EngineLike;
  bus: EventBus;
  version: string;
  source: () => SourceInfo;
  token: TokenCheck;
  opts: WsOptions;
}

interface Snapshot {
  seq: number;
  frame: Buffer;
  at: number;
}

/**
 * The /ws stream: `hello`, `snapshot`, then the events in batches (`{type:'events', seq,
 * events}`), in the order of the global sequence number.
 *
 * Publishing an event only writes its text into a ring (EventRing), once, while some client is
 * connected; everything else happens in flush passes between bursts of packets, each at most a
 * couple of milliseconds long: filtering, building a batch (once per filter and range, shared by
 * every client that stands at the same place with the same filter), writing. A client that does
 * not read costs nothing per event; one whose socket has not moved for `stallTimeoutMs` is closed.
 */
export class WsHub {
  private readonly wss: WebSocketServer;
  private readonly clients = new Set<WsClient>();
  private readonly backlog = new Set<WsClient>();
  private readonly perAddress = new Map<string, number>();
  private readonly endpoints = new Map<string, EndpointsOf>();
  private readonly ring: EventRing;
  private snapshot: Snapshot | null = null;
  /** Batches built in this flush pass, by filter and range (null: none of the events matched). */
  private readonly batches = new Map<string, { frame: Buffer; slab: Slab | null } | null>();
  /** What the batches are written into. */
  private readonly slabs = new FrameSlabs();
  private flushScheduled = false;
  private lastPassEnd = 0;
  private retryTimer: NodeJS.Timeout | null = null;
  private readonly heartbeat: NodeJS.Timeout;
  private readonly stallTimer: NodeJS.Timeout;
  private readonly unsubscribe: () => void;
  /** Upgrades refused, by reason (visible to tests and /api/stats through the server). */
  readonly refused = { path: 0, token: 0, origin: 0, full: 0, address: 0, rate: 0 };
  private admitTokens = ADMIT_BURST;
  private admitAt = performance.now();
  /** Clients closed by the server, by reason. */
  readonly dropped = { stalled: 0, unresponsive: 0, flooding: 0 };
  /**
   * How the stream kept up: resynchronisations after a client fell a ring behind (`lagged`), and
   * passes that found a client held by the in-flight allowance (sent, not yet confirmed by a pong)
   * rather than by its socket.
   */
  private readonly flow = { lagged: 0, heldUnconfirmed: 0, passes: 0, messages: 0 };

  constructor(private readonly deps: WsHubDeps) {
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: deps.opts.maxPayload,
      perMessageDeflate: false,
      clientTracking: false,
    });
    this.ring = new EventRing(deps.opts.maxQueue);
    this.unsubscribe = deps.bus.subscribe((seq, e) => this.onEvent(seq, e));
    this.heartbeat = setInterval(() => this.beat(), deps.opts.heartbeatMs);
    this.heartbeat.unref();
    this.stallTimer = setInterval(() => this.checkStalls(), Math.min(STALL_CHECK_MS, deps.opts.stallTimeoutMs));
    this.stallTimer.unref();
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
    const { maxClients, maxClientsPerAddress } = this.deps.opts;
    if (this.clients.size >= maxClients) {
      this.refused.full++;
      return reject(socket, 503, 'too-many-clients', `at most ${maxClients} WebSocket clients`);
    }
    // Each new client is sent a snapshot (megabytes with a full table) that a socket which never
    // reads still takes into its kernel buffers: a crowd connecting at once would hold the loop
    // for seconds. Admissions are paced instead; a refused dashboard retries with backoff.
    const now = performance.now();
    this.admitTokens = Math.min(ADMIT_BURST, this.admitTokens + ((now - this.admitAt) / 1000) * this.deps.opts.maxNewClientsPerSecond);
    this.admitAt = now;
    if (this.admitTokens < 1) {
      this.refused.rate++;
      return reject(socket, 503, 'too-many-clients', 'too many WebSocket clients connecting at once: retry in a second');
    }
    const address = req.socket.remoteAddress ?? '';
    if ((this.perAddress.get(address) ?? 0) >= maxClientsPerAddress) {
      this.refused.address++;
      return reject(socket, 503, 'too-many-clients', `at most ${maxClientsPerAddress} WebSocket clients from one address`);
    }
    this.admitTokens--;
    this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws, address));
  }

  private accept(ws: WebSocket, address: string): void {
    const o = this.deps.opts;
    const c = new WsClient(ws, address, o.highWaterBytes, o.maxInFlightBytes, CLIENT_MESSAGE_BURST, performance.now());
    this.clients.add(c);
    this.perAddress.set(address, (this.perAddress.get(address) ?? 0) + 1);
    ws.on('pong', (data) => {
      c.onPong(data);
      // what it just confirmed may be what it was waiting for
      this.flushClient(c);
    });
    // Oversized or broken frames surface here; ws closes the socket itself, we only forget it.
    ws.on('error', () => this.drop(c));
    ws.on('close', () => this.drop(c));
    ws.on('message', (data, isBinary) => this.onMessage(c, data, isBinary));
    c.enqueueControl(
      JSON.stringify({
        type: 'hello',
        version: this.deps.version,
        protocol: STREAM_PROTOCOL,
        eventSchema: EVENT_SCHEMA_VERSION,
        source: this.deps.source(),
      }),
    );
    this.flushClient(c);
  }

  private drop(c: WsClient): void {
    if (!this.clients.delete(c)) return;
    this.backlog.delete(c);
    if (c.filter?.needsEndpoints) this.noteFilters();
    const n = (this.perAddress.get(c.address) ?? 1) - 1;
    if (n > 0) this.perAddress.set(c.address, n);
    else this.perAddress.delete(c.address);
  }

  private onMessage(c: WsClient, data: RawData, isBinary: boolean): void {
    if (!c.takeToken(performance.now(), CLIENT_MESSAGES_PER_S)) {
      // One clear word, then the door: a client this chatty is not a dashboard.
      c.ws.close(1008, 'too many messages');
      this.dropped.flooding++;
      this.drop(c);
      return;
    }
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
    this.noteFilters();
    c.enqueueControl(JSON.stringify({ type: 'subscribed', filter: c.filter.toJSON() }));
    // Many subscribes in a row still cost one snapshot: it is made when the client is next written to.
    c.wantSnapshot = true;
    c.lagging = false;
    this.flushClient(c);
  }

  private replyError(c: WsClient, error: WsErrorCode, detail: string): void {
    c.enqueueControl(JSON.stringify({ type: 'error', error, detail }));
    this.flushClient(c);
  }

  private noteFilters(): void {
    let any = false;
    for (const c of this.clients) if (c.filter?.needsEndpoints) any = true;
    this.ring.keepIds = any;
    if (!any) this.endpoints.clear();
  }

  private onEvent(seq: number, e: EventRecord): void {
    if (this.clients.size === 0) {
      // Nobody to keep it for: a client that connects starts from a snapshot after it.
      this.ring.skip(seq);
      this.snapshot = null;
      return;
    }
    // Written out now, once, from the tracker's record of it: the ring keeps the text.
    this.ring.push(seq, e);
    // a client filters by port or host (the ring keeps ids for it): remember connection events' endpoints
    if (this.ring.keepIds && e.type === 'connection') {
      const f = e.connection();
      if (f !== null) this.rememberAs(e.connectionId, endpointsOfFields(f));
    }
    if (!this.flushScheduled) this.scheduleFlush();
  }

  /** The snapshot a client starts from, and the sequence number it stands at. */
  private snapshotFor(c: WsClient, now: number): Snapshot {
    const f = c.filter;
    if (f && f.needsEndpoints) return this.makeSnapshot(f, now);
    // Shared while fresh and while the ring still holds every event after it, so a crowd of
    // clients connecting at once costs one listing of the table, not one each.
    const s = this.snapshot;
    if (s && now - s.at < SNAPSHOT_REUSE_MS && (s.seq === this.ring.head || this.ring.has(s.seq + 1))) return s;
    this.snapshot = this.makeSnapshot(null, now);
    return this.snapshot;
  }

  private makeSnapshot(f: StreamFilter | null, now: number): Snapshot {
    const limit = this.deps.opts.snapshotLimit;
    const { connections, total } = this.deps.engine.tracker.snapshot(limit, f ? (x) => f.matchesConnection(x) : null);
    const seq = this.deps.bus.lastSeq;
    const truncated = total > connections.length;
    const body = { type: 'snapshot', seq, connections, ...(truncated ? { truncated: true, total } : {}) };
    return { seq, frame: Buffer.from(JSON.stringify(body)), at: now };
  }

  private endpointsFor(id: string): EndpointsOf | undefined {
    const known = this.endpoints.get(id);
    if (known) return known;
    const c = this.deps.engine.tracker.get(id);
    return c ? this.remember(c) : undefined;
  }

  private remember(c: ConnectionView): EndpointsOf {
    return this.rememberAs(c.id, endpointsOf(c));
  }

  private rememberAs(id: string, ep: EndpointsOf): EndpointsOf {
    if (this.endpoints.size >= ENDPOINT_CACHE_MAX) this.endpoints.clear();
    this.endpoints.set(id, ep);
    return ep;
  }

  /**
   * Sending waits for the end of the current burst of packets, so capture is never held up, and
   * at least FLUSH_EVERY_MS after the last pass (`soon`: only for the burst), so that a busy
   * stream goes out in a few large messages a second rather than one small one per burst.
   */
  private scheduleFlush(soon = false): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    const run = () => {
      this.flushScheduled = false;
      this.flushBacklog();
    };
    const wait = soon ? 0 : this.lastPassEnd + FLUSH_EVERY_MS - performance.now();
    if (wait >= 1) setTimeout(run, wait);
    else setImmediate(run);
  }

  private flushClient(c: WsClient): void {
    this.backlog.add(c);
    this.scheduleFlush();
  }

  /**
   * One pass over the clients with something to send, time-boxed (see FLUSH_SLICE_MS), the longest
   * while a reading client is more than half a ring behind, so that it catches up rather than
   * lose events whenever the machine can afford it. Clients with new events join through the ring.
   */
  private flushBacklog(retry = false): void {
    const start = performance.now();
    this.flow.passes++;
    this.batches.clear();
    const ring = this.ring;
    let more = false;
    let blocked = false;
    let farBehind = false;
    let writable = 0;
    for (const c of this.clients) {
      if (c.next <= ring.head || c.wantSnapshot || c.lagging || c.hasControl) this.backlog.add(c);
    }
    for (const c of this.backlog) {
      if (c.blocked) continue;
      writable++;
      if (!c.lagging && ring.head - c.next > ring.capacity / 2) farBehind = true;
    }
    // Writing gets about as long as everything else had since the last pass (capture, mostly),
    // so under load the two share the loop evenly and neither starves.
    const since = start - this.lastPassEnd;
    const budget = farBehind ? FLUSH_SLICE_MAX_MS : Math.min(FLUSH_SLICE_MAX_MS, Math.max(FLUSH_SLICE_MS, since));
    const deadline = start + budget;
    // Shared out, so that one client (say, one whose kernel buffers are still filling) cannot
    // take the whole pass from the others.
    const share = Math.max(MIN_SHARE_MS, budget / Math.max(1, writable));
    // A copy: clients are re-added while going through it, and a Set's iterator would visit them again.
    for (const c of [...this.backlog]) {
      // A full socket is looked at again only on the retry timer: a thousand stalled clients
      // must not cost a thousand calls on every pass.
      if (!retry && c.blocked) {
        blocked = true;
        continue;
      }
      if (performance.now() >= deadline) {
        more = true;
        break;
      }
      const r = this.pump(c, Math.min(deadline, performance.now() + share), start);
      this.backlog.delete(c);
      if (r === FLUSH_DONE) continue;
      // Re-added at the end, so the next pass starts with the clients this one did not reach.
      this.backlog.add(c);
      if (r === FLUSH_MORE) more = true;
      else blocked = true;
    }
    this.release();
    this.batches.clear();
    this.slabs.endPass();
    this.lastPassEnd = performance.now();
    // Time ran out with sockets still writable: go on after the capture had its turn (poll phase).
    if (more) this.scheduleFlush(true);
    else if (blocked && this.retryTimer === null) {
      this.retryTimer = setTimeout(() => {
        this.retryTimer = null;
        this.flushBacklog(true);
      }, BACKLOG_RETRY_MS);
      this.retryTimer.unref();
    }
  }

  /** Writes what client c can take now: control messages, then a snapshot if due, then events. */
  private pump(c: WsClient, deadline: number, now: number): FlushResult {
    if (!c.open) return FLUSH_DONE;
    const ring = this.ring;
    // A snapshot under way is one message: nothing else may be sent until its last fragment.
    if (!c.sendSnapshotPart()) return FLUSH_BLOCKED;
    if (!c.sendControl()) return FLUSH_BLOCKED;
    if (!c.wantSnapshot && !c.lagging && c.next <= ring.head && !ring.has(c.next)) c.lagging = true;
    if (c.lagging) {
      // Resynchronise only once the socket has drained, so the snapshot is not stale on arrival.
      if (!c.drained) {
        c.probe();
        return FLUSH_BLOCKED;
      }
      const snap = this.snapshotFor(c, now);
      this.flow.lagged++;
      c.send(JSON.stringify({ type: 'lagged', dropped: Math.max(0, snap.seq - c.next + 1) }));
      c.lagging = false;
      if (!this.sendSnapshot(c, snap)) return FLUSH_BLOCKED;
    } else if (c.wantSnapshot) {
      if (!this.sendSnapshot(c, this.snapshotFor(c, now))) return FLUSH_BLOCKED;
    }
    while (c.next <= ring.head) {
      if (c.blocked) {
        if (c.unconfirmedFull) this.flow.heldUnconfirmed++;
        return FLUSH_BLOCKED;
      }
      if (performance.now() >= deadline) return FLUSH_MORE;
      const from = c.next;
      if (!ring.has(from)) {
        c.lagging = true;
        return FLUSH_BLOCKED;
      }
      const to = Math.min(ring.head, from + MAX_BATCH_EVENTS - 1);
      const b = this.batch(c.filter, from, to);
      if (b !== null) {
        c.send(b.frame, b.slab);
        this.flow.messages++;
      }
      c.next = to + 1;
      c.probe();
    }
    return FLUSH_DONE;
  }

  /**
   * The `events` message of ring entries from..to (all held) as `f` lets them through, built once
   * per flush pass for every client at the same place with the same filter; null when none pass.
   * `seq` is the number of its first event; an unfiltered batch holds every event from there on,
   * so the i-th is number seq + i, and a filtered one lists each event's number (`seqs`).
   */
  private batch(filter: StreamFilter | null, from: number, to: number): { frame: Buffer; slab: Slab | null } | null {
    const f = filter === null || filter.empty ? null : filter;
    const key = `${f === null ? '' : f.key}|${from}|${to}`;
    const known = this.batches.get(key);
    if (known !== undefined) return known;
    const ring = this.ring;
    const seqs: number[] = [];
    let bytes = 0;
    let ep: EndpointsOf | undefined | null = null;
    let epFor = '';
    let id = '';
    const lookup = () => {
      if (ep === null || epFor !== id) {
        ep = this.endpointsFor(id);
        epFor = id;
      }
      return ep;
    };
    if (f === null) {
      for (let seq = from; seq <= to; seq++) bytes += ring.size(seq) + 1;
    } else {
      let type: EventType;
      for (let seq = from; seq <= to; seq++) {
        type = ring.type(seq);
        id = ring.connectionId(seq) ?? '';
        if (!f.matchesEvent(type, lookup)) continue;
        seqs.push(seq);
        bytes += ring.size(seq) + 1;
      }
      if (seqs.length === 0) {
        this.batches.set(key, null);
        return null;
      }
    }
    // The texts are copied from the ring's chunks into the frame between its head and its tail.
    const head = `{"type":"events","seq":${f === null ? from : seqs[0]},${f === null ? '' : `"seqs":[${seqs.join(',')}],`}"events":[`;
    const taken = this.slabs.take(head.length + bytes - 1 + 2);
    const frame = taken.frame;
    let off = frame.write(head, 0, 'latin1');
    if (f === null) off = ring.copyRun(from, to, frame, off, false);
    else for (let k = 0; k < seqs.length; k++) off = ring.copyRun(seqs[k], seqs[k], frame, off, k > 0);
    frame[off++] = 0x5d; // ']'
    frame[off++] = 0x7d; // '}'
    this.batches.set(key, taken);
    return taken;
  }

  /** Starts a snapshot; true when it went out whole. */
  private sendSnapshot(c: WsClient, snap: Snapshot): boolean {
    c.startSnapshot(snap.frame);
    c.next = snap.seq + 1;
    c.wantSnapshot = false;
    return c.sendSnapshotPart();
  }

  /** Frees ring entries every client is past (and the shared snapshot still needs none of). */
  private release(): void {
    let min = this.ring.head + 1;
    const oldest = this.ring.oldest;
    // Clients already behind the ring's start (lagging, known or not) will resynchronise from a snapshot.
    for (const c of this.clients) if (!c.lagging && !c.wantSnapshot && c.next >= oldest && c.next < min) min = c.next;
    const s = this.snapshot;
    if (s && performance.now() - s.at < SNAPSHOT_REUSE_MS && s.seq + 1 < min) min = s.seq + 1;
    this.ring.releaseBefore(min);
  }

  /**
   * Closes clients whose socket has taken nothing for stallTimeoutMs while data waited for them:
   * they pin memory (their unsent frames) and will only ever be resynchronised from scratch.
   */
  private checkStalls(): void {
    const now = performance.now();
    for (const c of this.clients) {
      // Waiting: frames unsent, or more sent than it confirmed reading; progress: either moves.
      const waiting = c.ws.bufferedAmount > 0 || c.blocked;
      const progress = c.sentBytes - c.ws.bufferedAmount + c.ackedBytes;
      if (!waiting || progress > c.flushedAtCheck) {
        c.flushedAtCheck = progress;
        c.stalledSince = 0;
        continue;
      }
      // make sure a client that does read gets the chance to say so
      c.probe();
      if (c.stalledSince === 0) c.stalledSince = now;
      else if (now - c.stalledSince >= this.deps.opts.stallTimeoutMs) this.evict(c, 'stalled');
    }
  }

  private beat(): void {
    for (const c of this.clients) {
      if (!c.alive) {
        this.evict(c, 'unresponsive');
        continue;
      }
      c.alive = false;
      try {
        c.ping();
      } catch {
        this.drop(c);
      }
    }
  }

  /** Counters for /api/stats; `behind`: events the furthest client still has to be sent. */
  stats() {
    let behind = 0;
    for (const c of this.clients) if (!c.lagging && !c.wantSnapshot) behind = Math.max(behind, this.ring.head - c.next + 1);
    return { clients: this.clients.size, refused: { ...this.refused }, dropped: { ...this.dropped }, ...this.flow, behind };
  }

  close(): void {
    this.unsubscribe();
    clearInterval(this.heartbeat);
    clearInterval(this.stallTimer);
    if (this.retryTimer) clearTimeout(this.retryTimer);
    for (const x of this.clients) x.ws.close(1001, 'server shutting down');
    this.clients.clear();
    this.backlog.clear();
    this.perAddress.clear();
    this.wss.close();
  }

  private evict(c: WsClient, why: keyof WsHub['dropped']): void {
    this.dropped[why]++;
    c.ws.terminate();
    this.drop(c);
  }
}

function reject(socket: Duplex, status: number, error: WsErrorCode, detail: string): void {
  const body = JSON.stringify({ error, detail });
  const reason = { 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 503: 'Service Unavailable' }[status] ?? 'Error';
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Type: application/json\r\n` +
      (status === 401 ? 'WWW-Authenticate: Bearer\r\n' : '') +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}
