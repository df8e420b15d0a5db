import type { RecordThread } from './record-thread';

/** Rounds out to the record thread at once: beyond this, this thread writes the next round itself. */
const THREAD_ROUNDS = 4;
/** Rounds this thread holds, written and waiting for the record thread's before them: beyond, it waits. */
const HELD_ROUNDS = 16;

/**
 * The records left at the end of a file (every connection still in the table), written by two
 * threads at once: they are removed in rounds, and each round goes either to the record thread,
 * while it has fewer than THREAD_ROUNDS of them to write, or to this thread, which writes it and
 * holds its bytes until the record thread has handed on the output of every round before it. So
 * the output keeps the order of removal, each thread takes as many rounds as it keeps up with,
 * and what is held is bounded (HELD_ROUNDS rounds).
 */
export class SharedEnd {
  /** Rounds given to the record thread, and how many of them it has written out. */
  private sent = 0;
  private marked = 0;
  /** This thread's rounds not written out yet, each after the record thread's `after` rounds. */
  private readonly held: { after: number; bytes: Uint8Array[] }[] = [];
  private room: (() => void) | null = null;
  private failed = false;

  constructor(
    private readonly thread: RecordThread,
    /** Takes the output in order. */
    private readonly write: (bytes: Uint8Array) => void,
  ) {
    thread.onMark = () => this.onMark();
    // no more marks will come: what is held is dropped unwritten, and the failure is the result
    thread.onFailure = () => {
      this.failed = true;
      this.held.length = 0;
      this.letGo();
    };
  }

  /** How many rounds have gone to the record thread. */
  get roundsSent(): number {
    return this.sent;
  }

  /** Whether the next round goes to the record thread. */
  threadTakes(): boolean {
    return !this.failed && this.sent - this.marked < THREAD_ROUNDS;
  }

  /** The round just removed went to the record thread. */
  threadRound(): void {
    this.thread.mark();
    this.sent++;
  }

  /** The round just removed was written here, into `bytes`. */
  ownRound(bytes: Uint8Array[]): void {
    // After the record thread failed, a round that would wait for its output never goes out (the
    // failure is the result): it is not kept either, so what is held stays bounded.
    if (this.failed && (this.held.length > 0 || this.sent !== this.marked)) return;
    if (this.held.length === 0 && this.sent === this.marked) {
      for (const b of bytes) this.write(b);
    } else {
      this.held.push({ after: this.sent, bytes });
    }
  }

  /** A promise while this thread holds as many rounds as it may: the next round waits for it. */
  wait(): Promise<void> | null {
    if (this.failed || this.held.length < HELD_ROUNDS) return null;
    return new Promise<void>((resolve) => (this.room = resolve));
  }

  private onMark(): void {
    this.marked++;
    const held = this.held;
    while (held.length > 0 && held[0].after <= this.marked) {
      for (const b of held.shift()!.bytes) this.write(b);
    }
    if (held.length < HELD_ROUNDS) this.letGo();
  }

  private letGo(): void {
    const r = this.room;
    this.room = null;
    r?.();
  }
}
