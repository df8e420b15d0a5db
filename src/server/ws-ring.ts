import { eventJson } from '../events/encode';
import type { EventType, TcpEvent } from '../events/types';

/**
 * The recent events every WebSocket client reads from, by global sequence number. Each event is
 * written as its wire text once, when it is published (eventJson: a few hundred nanoseconds, no
 * intermediate objects), and only that text, its type and its connection id are kept: the event
 * object itself is garbage at once, so the young generation's collections find almost nothing
 * alive. A client is a cursor into the ring: one that falls more than `capacity` events behind has
 * lost the ones overwritten (it is lagging), so a slow client costs a few numbers, not a queue.
 */
export class EventRing {
  private readonly texts: (string | undefined)[];
  private readonly types: (EventType | undefined)[];
  private readonly ids: (string | undefined)[];
  /** Sequence number of the newest event stored (0 before the first). */
  head = 0;
  /** Events below this sequence number have been released (no client needs them any more). */
  private released = 1;

  constructor(readonly capacity: number) {
    this.texts = new Array(capacity);
    this.types = new Array(capacity);
    this.ids = new Array(capacity);
  }

  push(seq: number, e: TcpEvent): void {
    const i = seq % this.capacity;
    this.texts[i] = eventJson(e);
    this.types[i] = e.type;
    this.ids[i] = e.connectionId;
    this.head = seq;
  }

  /** Moves past event `seq` without keeping it (nobody is there to read it). */
  skip(seq: number): void {
    this.head = seq;
    this.released = seq + 1;
  }

  /** Oldest sequence number still held. */
  get oldest(): number {
    return Math.max(this.released, this.head - this.capacity + 1, 1);
  }

  /** Whether event `seq` is still held (not yet overwritten or released). */
  has(seq: number): boolean {
    return seq <= this.head && seq >= this.oldest;
  }

  /** Type of event `seq`; only valid when has(seq). */
  type(seq: number): EventType {
    return this.types[seq % this.capacity]!;
  }

  /** Connection id of event `seq`; only valid when has(seq). */
  connectionId(seq: number): string {
    return this.ids[seq % this.capacity]!;
  }

  /** Event `seq` as JSON; only valid when has(seq). */
  json(seq: number): string {
    return this.texts[seq % this.capacity]!;
  }

  /**
   * Lets go of events before `seq` (every client is past them), so that they do not outlive their
   * use and fill the old generation of the heap.
   */
  releaseBefore(seq: number): void {
    const from = this.oldest;
    const to = Math.min(seq, this.head + 1);
    for (let s = from; s < to; s++) {
      const i = s % this.capacity;
      this.texts[i] = undefined;
      this.ids[i] = undefined;
    }
    if (to > this.released) this.released = to;
  }
}
