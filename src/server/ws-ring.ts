import type { TcpEvent } from '../events/types';

/**
 * The recent events every WebSocket client reads from, by global sequence number. Capture only
 * stores a reference here (no serialisation, no per-client work); each event is turned into JSON
 * the first time some batch holds it, once, and that text goes into every batch that holds it. A
 * client is a cursor into the ring: one that falls more than `capacity` events behind has lost the
 * ones overwritten (it is lagging), so a slow client costs a few numbers, not a queue.
 */
export class EventRing {
  private readonly events: (TcpEvent | undefined)[];
  private readonly texts: (string | undefined)[];
  /** Sequence number of the newest event stored (0 before the first). */
  head = 0;
  /** Events below this sequence number have been released (no client needs them any more). */
  private released = 1;

  constructor(readonly capacity: number) {
    this.events = new Array(capacity);
    this.texts = new Array(capacity);
  }

  push(seq: number, e: TcpEvent): void {
    const i = seq % this.capacity;
    this.events[i] = e;
    this.texts[i] = undefined;
    this.head = seq;
  }

  /** Oldest sequence number still held. */
  get oldest(): number {
    return Math.max(this.released, this.head - this.capacity + 1, 1);
  }

  /** Whether event `seq` is still held (not yet overwritten or released). */
  has(seq: number): boolean {
    return seq <= this.head && seq >= this.oldest;
  }

  /** The event `seq`; only valid when has(seq). */
  event(seq: number): TcpEvent {
    return this.events[seq % this.capacity]!;
  }

  /** Event `seq` as JSON, serialised on first use; only valid when has(seq). */
  json(seq: number): string {
    const i = seq % this.capacity;
    let t = this.texts[i];
    if (t === undefined) {
      t = JSON.stringify(this.events[i]);
      this.texts[i] = t;
    }
    return t;
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
      this.events[i] = undefined;
      this.texts[i] = undefined;
    }
    if (to > this.released) this.released = to;
  }
}
