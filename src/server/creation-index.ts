import type { EventBus } from '../events/bus';
import type { TrackerApi } from '../track/api';
import type { ConnectionView } from '../track/connection';

/**
 * Gives every connection a creation sequence number so list cursors survive connections coming and
 * going: a cursor names "after creation number N", not a position in an array that shifts.
 */
export class CreationIndex {
  private next = 0;
  private readonly seqById = new Map<string, number>();

  /**
   * `tracker` lets the index forget connections the tracker dropped even when nobody lists them
   * (the tracker says nothing when retention removes a closed connection).
   */
  constructor(bus?: EventBus, private readonly tracker?: Pick<TrackerApi, 'list' | 'stats'>) {
    // Numbering at the 'opened' event ties the number to creation order even between list calls.
    bus?.subscribe((_seq, e) => {
      if (e.type === 'connection' && e.phase === 'opened') {
        this.seqOf(e.connectionId);
        if ((this.next & 4095) === 0) this.pruneIfStale();
      }
    });
  }

  seqOf(id: string): number {
    let s = this.seqById.get(id);
    if (s === undefined) {
      s = ++this.next;
      this.seqById.set(id, s);
    }
    return s;
  }

  /** Forgets connections the tracker no longer holds, once enough of them have piled up. */
  prune(current: readonly ConnectionView[]): void {
    if (this.seqById.size <= current.length + 1024) return;
    const keep = new Set(current.map((c) => c.id));
    for (const id of this.seqById.keys()) if (!keep.has(id)) this.seqById.delete(id);
  }

  private pruneIfStale(): void {
    if (!this.tracker) return;
    // The cheap count first; listing (which builds every view) only when half the index is stale.
    if (this.seqById.size <= 2 * this.tracker.stats().tracked + 1024) return;
    this.prune(this.tracker.list());
  }

  get size(): number {
    return this.seqById.size;
  }
}

const CURSOR_PREFIX = 'c1.';

export function encodeCursor(seq: number): string {
  return Buffer.from(CURSOR_PREFIX + seq.toString(36)).toString('base64url');
}

/** The creation number a cursor stands for, or null when it is not one of ours. */
export function decodeCursor(cursor: string): number | null {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(cursor)) return null;
  const text = Buffer.from(cursor, 'base64url').toString('latin1');
  if (!text.startsWith(CURSOR_PREFIX)) return null;
  const body = text.slice(CURSOR_PREFIX.length);
  if (!/^[0-9a-z]{1,11}$/.test(body)) return null;
  const n = parseInt(body, 36);
  return Number.isSafeInteger(n) ? n : null;
}
