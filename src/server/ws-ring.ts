import { maxRecordBytes, writeRecord } from '../events/encode';
import { EVENT_TYPES, type EventRecord, type EventType } from '../events/types';

/** Bytes of event text in one chunk of the ring's store. */
const CHUNK_BYTES = 1 << 20;

/**
 * The recent events every WebSocket client reads from, by global sequence number.
 *
 * Each event is written as its wire text once, when it is published (writeRecord, from the
 * tracker's record of it: no event object is made), straight into byte chunks outside the
 * JavaScript heap, each text followed by a comma: no string is made for it, so the young
 * generation's collections find almost nothing alive,
 * and a batch of consecutive events is a few copies of contiguous bytes (see copyRun), never a
 * joined string. Kept per event: where its text is, its type, and (while a client filters by
 * endpoint) its connection id.
 *
 * A client is a cursor into the ring: one that falls more than `capacity` events (or `maxBytes`
 * of text) behind has lost the ones overwritten (it is lagging), so a slow client costs a few
 * numbers, not a queue.
 */
export class EventRing {
  private readonly at: Int32Array;
  private readonly len: Int32Array;
  private readonly typeOf: Uint8Array;
  private readonly chunkOf: (Buffer | undefined)[];
  private readonly ids: (string | undefined)[];
  /** Chunks in use, oldest first, with the first sequence number each holds. */
  private readonly chunks: Buffer[] = [];
  private readonly chunkFirst: number[] = [];
  private readonly spare: Buffer[] = [];
  private readonly maxChunks: number;
  private fill = 0;
  /** Sequence number of the newest event stored (0 before the first). */
  head = 0;
  /** Events below this sequence number have been released (no client needs them any more). */
  private released = 1;
  /** Events below this one had their chunk taken back for newer text. */
  private bytesFloor = 1;
  /** Keep each event's connection id (a client filters by port or host). */
  keepIds = false;

  constructor(
    readonly capacity: number,
    maxBytes = 64 * CHUNK_BYTES,
  ) {
    this.at = new Int32Array(capacity);
    this.len = new Int32Array(capacity);
    this.typeOf = new Uint8Array(capacity);
    this.chunkOf = new Array(capacity);
    this.ids = new Array(capacity);
    this.maxChunks = Math.max(2, Math.ceil(maxBytes / CHUNK_BYTES));
  }

  push(seq: number, e: EventRecord): void {
    const room = maxRecordBytes(e) + 1;
    let chunk = this.chunks.length > 0 ? this.chunks[this.chunks.length - 1] : undefined;
    if (chunk === undefined || this.fill + room > chunk.length) chunk = this.newChunk(seq, room);
    const end = writeRecord(e, chunk, this.fill);
    chunk[end] = 0x2c; // ','
    const i = seq % this.capacity;
    const n = end - this.fill;
    this.at[i] = this.fill;
    this.len[i] = n;
    this.typeOf[i] = TYPE_INDEX[e.type];
    this.chunkOf[i] = chunk;
    this.ids[i] = this.keepIds ? e.connectionId : undefined;
    this.fill += n + 1;
    this.head = seq;
  }

  private newChunk(seq: number, room: number): Buffer {
    if (this.chunks.length >= this.maxChunks) {
      // the oldest chunk's events are lost to anyone still behind them; its memory is used again,
      // as releaseBefore() does (events are copied out of the ring, never read from it later)
      const old = this.chunks.shift()!;
      if (old.length === CHUNK_BYTES && this.spare.length < 4) this.spare.push(old);
      this.chunkFirst.shift();
      this.bytesFloor = Math.max(this.bytesFloor, this.chunkFirst[0] ?? seq);
    }
    const size = Math.max(CHUNK_BYTES, room);
    const c = size === CHUNK_BYTES && this.spare.length > 0 ? this.spare.pop()! : Buffer.allocUnsafeSlow(size);
    this.chunks.push(c);
    this.chunkFirst.push(seq);
    this.fill = 0;
    return c;
  }

  /** Moves past event `seq` without keeping it (nobody is there to read it). */
  skip(seq: number): void {
    this.head = seq;
    this.releaseBefore(seq + 1);
  }

  /** Oldest sequence number still held. */
  get oldest(): number {
    return Math.max(this.released, this.bytesFloor, this.head - this.capacity + 1, 1);
  }

  /** Whether event `seq` is still held (not yet overwritten or released). */
  has(seq: number): boolean {
    return seq <= this.head && seq >= this.oldest;
  }

  /** Type of event `seq`; only valid when has(seq). */
  type(seq: number): EventType {
    return EVENT_TYPES[this.typeOf[seq % this.capacity]];
  }

  /** Connection id of event `seq` when ids are kept; only valid when has(seq). */
  connectionId(seq: number): string | undefined {
    return this.ids[seq % this.capacity];
  }

  /** Bytes of event `seq`'s text; only valid when has(seq). */
  size(seq: number): number {
    return this.len[seq % this.capacity];
  }

  /**
   * Copies the texts of events from..to (all held), comma-separated, into `out` at `off` (after a
   * comma when `comma`); returns the offset after the last one. Consecutive events in one chunk
   * are one copy.
   */
  copyRun(from: number, to: number, out: Buffer, off: number, comma: boolean): number {
    const cap = this.capacity;
    let s = from;
    while (s <= to) {
      const i = s % cap;
      const chunk = this.chunkOf[i]!;
      const start = this.at[i];
      let end = start + this.len[i];
      let t = s + 1;
      // extend the run while the next event follows in the same chunk
      for (; t <= to; t++) {
        const j = t % cap;
        if (this.chunkOf[j] !== chunk || this.at[j] !== end + 1) break;
        end = this.at[j] + this.len[j];
      }
      if (comma) out[off++] = 0x2c;
      off += chunk.copy(out, off, start, end);
      comma = true;
      s = t;
    }
    return off;
  }

  /**
   * Lets go of events before `seq` (every client is past them): their ids, and the chunks that
   * hold nothing newer, which are kept for reuse.
   */
  releaseBefore(seq: number): void {
    const from = this.oldest;
    const to = Math.min(seq, this.head + 1);
    for (let s = from; s < to; s++) {
      const i = s % this.capacity;
      this.chunkOf[i] = undefined;
      this.ids[i] = undefined;
    }
    if (to > this.released) this.released = to;
    // every chunk but the one being written, once all its events are released
    while (this.chunks.length > 1 && this.chunkFirst[1] <= this.released) {
      const c = this.chunks.shift()!;
      this.chunkFirst.shift();
      if (c.length === CHUNK_BYTES && this.spare.length < 4) this.spare.push(c);
    }
  }
}

const TYPE_INDEX = Object.fromEntries(EVENT_TYPES.map((t, i) => [t, i])) as Record<EventType, number>;
