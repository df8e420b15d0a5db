import type { EventNeeds, TcpEvent } from './types';

/** Receives every event with its global sequence number (1, 2, 3, … for the life of the process). */
export type BusListener = (seq: number, event: TcpEvent) => void;

/**
 * Fan-out from the tracker to every consumer (WebSocket clients, metrics, JSON lines, analyze).
 *
 * The tracker calls `publish` synchronously on the capture path, so a listener must be quick and must
 * not throw: one that does is counted and skipped, never allowed to stop capture or the listeners
 * after it.
 */
export class EventBus {
  private seq = 0;
  private listeners: BusListener[] = [];
  /** Listeners that read a connection event's whole `connection`. */
  private viewReaders = 0;
  /**
   * What the bus's listeners read of a connection event (give it to the tracker with the sink):
   * always the `summary`, the whole `connection` only while some listener subscribed for it.
   */
  readonly needs: EventNeeds = { view: false, summary: true };
  /** Listener calls that threw (a bug in a consumer, kept visible in /api/stats). */
  listenerErrors = 0;

  constructor() {
    this.publish = this.publish.bind(this);
  }

  /** Sequence number of the newest event published (0 before the first). */
  get lastSeq(): number {
    return this.seq;
  }

  publish(event: TcpEvent): void {
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

  /**
   * Adds a listener; the returned function removes it. A listener that reads a connection event's
   * whole `connection` (not only its `summary`) says so with `{ view: true }`.
   */
  subscribe(listener: BusListener, opts: { view?: boolean } = {}): () => void {
    // Copy on write: a listener that unsubscribes during publish does not disturb the loop.
    this.listeners = [...this.listeners, listener];
    const view = opts.view === true;
    if (view) this.needs.view = ++this.viewReaders > 0;
    let on = true;
    return () => {
      if (!on) return;
      on = false;
      this.listeners = this.listeners.filter((l) => l !== listener);
      if (view) this.needs.view = --this.viewReaders > 0;
    };
  }

  get listenerCount(): number {
    return this.listeners.length;
  }
}
