import type { Readable } from 'node:stream';

/**
 * Pulls chunks from a stream one at a time, pausing it in between so the consumer sets the pace.
 *
 * Unlike `for await` over a stream, it keeps every chunk that arrived before an error: a stream
 * that fails is destroyed at once, and the async iterator drops what it had buffered, while a
 * capture reader must deliver every frame before the damage (a truncated gzip emits its last good
 * bytes and its error together).
 */
export class ChunkPuller {
  private queue: Buffer[] = [];
  private ended = false;
  private failure: unknown = null;
  private wake: (() => void) | null = null;

  constructor(private readonly stream: Readable) {
    stream.on('data', this.onData);
    stream.on('end', this.onEnd);
    stream.on('close', this.onEnd);
    stream.on('error', this.onError);
    stream.pause();
    // A stream handed over after it finished will not say so again.
    if (stream.errored) this.failure = stream.errored;
    else if (stream.readableEnded || (stream.destroyed && stream.readableLength === 0)) this.ended = true;
  }

  /**
   * The next chunk, or null at the end; throws what the stream failed with. The stream then reads
   * one chunk ahead while the caller handles this one, so that reading a file (in libuv's threads)
   * overlaps parsing it instead of waiting in turn; at most that one chunk more is held.
   */
  async next(): Promise<Buffer | null> {
    for (;;) {
      const c = this.queue.shift();
      if (c !== undefined) {
        if (this.queue.length === 0 && !this.ended && this.failure === null) this.stream.resume();
        return c;
      }
      if (this.failure !== null) throw this.failure;
      if (this.ended) return null;
      this.stream.resume();
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
    }
  }

  /** Ends pulling with an error from outside (abort, a failing upstream). */
  fail(error: unknown): void {
    if (this.failure === null) this.failure = error;
    this.notify();
  }

  /** Stops listening; returns chunks that arrived but were not pulled. */
  detach(): Buffer[] {
    const s = this.stream;
    s.off('data', this.onData);
    s.off('end', this.onEnd);
    s.off('close', this.onEnd);
    s.off('error', this.onError);
    // A stream with no error listener would throw; whoever detaches handles errors from now on,
    // but a late one after the read is over must not crash the process.
    if (s.listenerCount('error') === 0) s.on('error', () => {});
    const rest = this.queue;
    this.queue = [];
    return rest;
  }

  private readonly onData = (c: Buffer | string) => {
    this.queue.push(typeof c === 'string' ? Buffer.from(c) : c);
    this.stream.pause();
    this.notify();
  };

  private readonly onEnd = () => {
    this.ended = true;
    this.notify();
  };

  private readonly onError = (e: unknown) => {
    this.fail(e);
  };

  private notify(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
  }
}
