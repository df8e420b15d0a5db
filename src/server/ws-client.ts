import type { WebSocket } from 'ws';
import type { StreamFilter } from './ws-filter';
import type { Slab } from './ws-frames';

/** Text frames from Buffers: ws sends a Buffer as it is, so one frame can go to many sockets. */
const TEXT = { binary: false } as const;
/**
 * How far a reading client's in-flight allowance may grow, in multiples of maxInFlightBytes. At
 * 4 (4 MiB, some 270 ms of a flat-out stream) a dashboard that read everything was still found
 * held by it dozens of times a run whenever this process was late to read its pongs
 * (BENCHMARKS.md, "Timers on packet time"); a client that stops reading holds its socket's kernel
 * buffers (a few MiB) and highWaterBytes, whatever this allows.
 */
const GROWTH = 16;
/** Pings (with their marks) a client may have unanswered at once. */
const MAX_PINGS_OUT = 4;
/** Snapshots leave in fragments of this size (parts of one WebSocket message). */
const SNAPSHOT_FRAGMENT = 64 * 1024;

/**
 * One WebSocket client: a cursor into the shared event ring (see EventRing), a few control
 * messages of its own, and what is needed to tell a slow reader from a stalled one.
 *
 * Nothing here runs per captured packet. The hub's flush pass writes to the socket only while it
 * holds less than `highWaterBytes` unsent; past that, events simply wait in the ring. A client
 * that falls a whole ring behind is "lagging": once its socket drains it gets
 * `lagged {dropped}` and a fresh snapshot, and goes on from there.
 */
export class WsClient {
  filter: StreamFilter | null = null;
  alive = true;
  /** Sequence number of the next event to consider sending. */
  next = 0;
  /** Events were overwritten before it was sent them; resynchronise when the socket drains. */
  lagging = false;
  /** Send a snapshot before any further event (on connect, after subscribe, after lagging). */
  wantSnapshot = true;
  /** Frame bytes handed to ws so far; with bufferedAmount it tells whether the socket moves. */
  sentBytes = 0;
  /**
   * Bytes the client has certainly read: everything sent before a ping it answered (a pong
   * comes back only after the frames before its ping were taken in).
   */
  ackedBytes = 0;
  /** sentBytes when the last ping was sent, and how many pings are unanswered. */
  private pingMark = 0;
  private pingsOut = 0;
  /** A snapshot being sent in fragments, and how far it got. */
  private snap: Buffer | null = null;
  private snapOff = 0;
  /** sentBytes − bufferedAmount at the last stall check, and since when it has not grown. */
  flushedAtCheck = 0;
  stalledSince = 0;
  /** Messages the client may still send before it is cut off (refilled over time). */
  tokens: number;
  tokensAt: number;
  private control: (string | Buffer)[] = [];

  constructor(
    readonly ws: WebSocket,
    readonly address: string,
    readonly highWaterBytes: number,
    readonly maxInFlightBytes: number,
    readonly messageBurst: number,
    now: number,
  ) {
    this.tokens = messageBurst;
    this.tokensAt = now;
  }

  get open(): boolean {
    return this.ws.readyState === this.ws.OPEN;
  }

  /**
   * Nothing more should be written now: the socket holds highWaterBytes unsent, or the client has
   * not confirmed reading what it was sent beyond maxInFlightBytes. On loopback a socket that is
   * never read still takes megabytes into kernel buffers before bufferedAmount moves at all; the
   * second bound keeps a client that does not read from costing more than that.
   */
  get blocked(): boolean {
    return this.ws.bufferedAmount >= this.highWaterBytes || this.unconfirmedFull;
  }

  /** The client has been sent its whole in-flight allowance beyond what it confirmed reading. */
  get unconfirmedFull(): boolean {
    return this.sentBytes - this.ackedBytes >= this.allowance;
  }

  /**
   * What the client may have unconfirmed: maxInFlightBytes to begin with, growing with what it has
   * confirmed reading (an eighth of it) up to GROWTH times that. A busy stream is confirmed one
   * round trip late, and a round trip on a loaded machine is tens of milliseconds: 1 MiB a round
   * trip held a reading dashboard below the stream's rate (BENCHMARKS.md). A client that never
   * read costs no more than before; one that read and then stopped, at most the grown allowance.
   */
  get allowance(): number {
    return Math.min(this.maxInFlightBytes * GROWTH, this.maxInFlightBytes + this.ackedBytes / 8);
  }

  /** Unsent and unconfirmed bytes are both well below their bounds: a good moment to resynchronise. */
  get drained(): boolean {
    return this.ws.bufferedAmount < this.highWaterBytes / 4 && this.sentBytes - this.ackedBytes < this.allowance / 2;
  }

  /**
   * Asks for a pong after every quarter of the in-flight allowance sent, several pings under way at
   * once, so that confirmations come back while the client reads and one that keeps up is never
   * held up: with one ping at a time (at half the allowance) a reading client got at most half the
   * allowance per round trip, which a busy stream outran (BENCHMARKS.md, the live path).
   */
  probe(): void {
    const since = this.sentBytes - Math.max(this.ackedBytes, this.pingMark);
    if (since >= this.allowance / 4 && this.pingsOut < MAX_PINGS_OUT) this.ping();
  }

  /** A ping that carries sentBytes: the pong echoes it, and the client has read that much. */
  ping(): void {
    this.pingMark = this.sentBytes;
    this.pingsOut++;
    this.ws.ping(String(this.sentBytes));
  }

  /**
   * A pong confirms what its ping carried. A peer may answer only the latest of several pings
   * (RFC 6455 allows it), so the mark comes from the pong itself, not from a count of pings.
   */
  onPong(data?: Buffer): void {
    this.alive = true;
    const mark = data && data.length > 0 && data.length < 16 ? Number(data.toString('latin1')) : NaN;
    if (Number.isInteger(mark) && mark <= this.sentBytes) {
      if (mark > this.ackedBytes) this.ackedBytes = mark;
      this.pingsOut = mark >= this.pingMark ? 0 : Math.max(0, this.pingsOut - 1);
    } else {
      // an unsolicited pong, or one without our payload: it says the client is alive, no more
      this.pingsOut = Math.max(0, this.pingsOut - 1);
    }
  }

  /** Starts sending `frame` as one message in fragments (see sendSnapshotPart). */
  startSnapshot(frame: Buffer): void {
    this.snap = frame;
    this.snapOff = 0;
  }

  get sendingSnapshot(): boolean {
    return this.snap !== null;
  }

  /**
   * Sends the snapshot in fragments of one message while the client is not blocked, so that one
   * that never reads takes at most its allowance of it. Returns true once it is all sent.
   */
  sendSnapshotPart(): boolean {
    const f = this.snap;
    if (f === null) return true;
    while (this.snapOff < f.length && !this.blocked) {
      const end = Math.min(f.length, this.snapOff + SNAPSHOT_FRAGMENT);
      this.sentBytes += end - this.snapOff;
      this.ws.send(f.subarray(this.snapOff, end), { binary: false, fin: end === f.length });
      this.snapOff = end;
    }
    this.probe();
    if (this.snapOff < f.length) return false;
    this.snap = null;
    return true;
  }

  /** A message of its own (hello, subscribed, error, lagged): sent before the next events. */
  enqueueControl(msg: string): void {
    // Control replies answer the client's own messages, which are rate limited; this bound only
    // guards against a client that sends but never reads.
    if (this.control.length < 64) this.control.push(msg);
  }

  get hasControl(): boolean {
    return this.control.length > 0;
  }

  /** Writes queued control messages while the socket takes them; false if some are left. */
  sendControl(): boolean {
    let i = 0;
    while (i < this.control.length && !this.blocked) this.send(this.control[i++]);
    this.control = i === this.control.length ? [] : this.control.slice(i);
    return this.control.length === 0;
  }

  /** Sends a message; one cut from a slab (ws-frames.ts) holds the slab until its write is done. */
  send(frame: string | Buffer, slab: Slab | null = null): void {
    this.sentBytes += typeof frame === 'string' ? Buffer.byteLength(frame) : frame.length;
    if (slab === null) {
      this.ws.send(frame, TEXT);
      return;
    }
    slab.pending++;
    this.ws.send(frame, TEXT, slab.done);
  }

  /**
   * Takes one token for a message the client sent; false when it sends faster than `perSecond`
   * beyond its burst allowance.
   */
  takeToken(now: number, perSecond: number): boolean {
    this.tokens = Math.min(this.messageBurst, this.tokens + ((now - this.tokensAt) / 1000) * perSecond);
    this.tokensAt = now;
    if (this.tokens < 1) return false;
    this.tokens--;
    return true;
  }
}

export const FLUSH_DONE = 0;
export const FLUSH_MORE = 1;
export const FLUSH_BLOCKED = 2;
export type FlushResult = typeof FLUSH_DONE | typeof FLUSH_MORE | typeof FLUSH_BLOCKED;
