import { ObjectRecord } from './object-record';
import type { EventRecord, TcpEvent } from './types';

/**
 * Receives every event with its global sequence number (1, 2, 3, … for the life of the process),
 * read in place: the record is valid only during the call, and a listener that keeps the event
 * takes its object (`event.event()`).
 */
export type BusListener = (seq: number, event: EventRecord) => void;

/**
 * Fan-out from the tracker to every consumer (WebSocket clients, metrics, JSON lines, the socket
 * watch). The tracker's events come as records (its cursor over the event it is handing out:
 * publishRecord), so that reading them builds nothing; an event made as an object goes in through
 * publish.
 *
 * The tracker calls `publishRecord` synchronously on the capture path, so a listener must be quick
 * and must not throw: one that does is counted and skipped, never allowed to stop capture or the
 * listeners after it.
 */
export class EventBus {
  private seq = 0;
  private listeners: BusListener[] = [];
  /** Listener calls that threw (a bug in a consumer, kept visible in /api/stats). */
  listenerErrors = 0;

  constructor() {
    this.publishRecord = this.publishRecord.bind(this);
  }

  /** Sequence number of the newest event published (0 before the first). */
  get lastSeq(): number {
    return this.seq;
  }

  /** An event given as an object (a reader of its own, so a listener may publish another). */
  publish(event: TcpEvent): void {
    this.publishRecord(new ObjectRecord().of(event));
  }

  /** An event read in place (valid during the call only, as it is for the listeners). */
  publishRecord(event: EventRecord): void {
    const seq = ++this.seq;
    const ls = this.listeners;
    for (let i = 0; i < ls.length; i++) {
      try {
        ls[i](seq, event);
      } catch {
        this.listenerErrors++;
      }
    }
  }

  /** Adds a listener; the returned function removes it. */
  subscribe(listener: BusListener): () => void {
    // Copy on write: a listener that unsubscribes during publish does not disturb the loop.
    this.listeners = [...this.listeners, listener];
    return () => {
      this.listeners = this.listeners.filter((l) => l !== listener);
    };
  }

  get listenerCount(): number {
    return this.listeners.length;
  }
}
