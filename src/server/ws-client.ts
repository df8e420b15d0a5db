import type { WebSocket } from 'ws';
import type { StreamFilter } from './ws-filter';

/**
 * One WebSocket client with its own bounded queue. Capture only ever appends a string here; writing
 * to the socket happens later and stops while the socket holds more than `highWaterBytes`, so a
 * client that does not read costs its own queue and nothing else. When the queue overflows the
 * client is "lagging": its backlog is dropped and counted, and once its socket drains it gets
 * `lagged {dropped}` followed by a fresh snapshot to resynchronise from.
 */
export class WsClient {
  filter: StreamFilter | null = null;
  alive = true;
  lagging = false;
  dropped = 0;
  private queue: string[] = [];
  private head = 0;

  constructor(
    readonly ws: WebSocket,
    private readonly maxQueue: number,
    private readonly highWaterBytes: number,
  ) {}

  get queued(): number {
    return this.queue.length - this.head;
  }

  get open(): boolean {
    return this.ws.readyState === this.ws.OPEN;
  }

  enqueue(msg: string): void {
    if (this.lagging) {
      this.dropped++;
      return;
    }
    if (this.queued >= this.maxQueue) {
      this.dropped += this.queued + 1;
      this.queue = [];
      this.head = 0;
      this.lagging = true;
      return;
    }
    this.queue.push(msg);
  }

  /**
   * Writes what the socket can take now. Returns true when the client needs another flush later
   * (backlog left, or lagging and waiting to drain).
   */
  flush(resync: (c: WsClient) => void): boolean {
    if (!this.open) return false;
    const ws = this.ws;
    // Corked, a burst of frames leaves in one write instead of one system call per frame. Corked
    // bytes count as buffered, so after each batch the kernel gets a chance to take them.
    const sock = (ws as unknown as { _socket?: { cork(): void; uncork(): void } })._socket;
    while (this.head < this.queue.length && ws.bufferedAmount < this.highWaterBytes) {
      sock?.cork();
      while (this.head < this.queue.length && ws.bufferedAmount < this.highWaterBytes) {
        ws.send(this.queue[this.head++]);
      }
      sock?.uncork();
    }
    if (this.head === this.queue.length) {
      this.queue = [];
      this.head = 0;
    } else if (this.head > 4096) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    if (this.lagging && ws.bufferedAmount < this.highWaterBytes / 4) {
      const dropped = this.dropped;
      this.lagging = false;
      this.dropped = 0;
      ws.send(JSON.stringify({ type: 'lagged', dropped }));
      resync(this);
      return this.flush(resync);
    }
    return this.lagging || this.queued > 0;
  }
}
