import { ANOMALY_KINDS, CONN_PHASES, HS_PHASES, TD_KINDS, TD_PHASES, type TcpEvent } from './events';
import type { Mirrors } from './names';
import { PG, type EventPool } from './pools';
import { S } from './states';
import type { ConnStore } from './store';

/**
 * Kept events in 8 bytes each: a packed word and the ordinal of the segment that caused the event
 * (its timestamp and cause are read back from the ladder), or REF.TIMER for timer-driven ones.
 *
 * Three events are implied by others and not kept (each() gives them back in their place): a
 * connection's first event, 'connection opened' at its first segment; the 'teardown fin' of the
 * side whose state event takes it into FIN_WAIT_1 or LAST_ACK (only sending a FIN does); and the
 * 'connection closed' that follows every 'teardown closed'. Sinks get them as they happen.
 */

/** Event types, as the events name them; EV.STATE is the index of 'state'. */
export const EVENT_TYPES = ['state', 'handshake', 'teardown', 'reset', 'refused', 'anomaly', 'connection'] as const satisfies readonly TcpEvent['type'][];
export const enum EV { STATE = 0, HANDSHAKE = 1, TEARDOWN = 2, RESET = 3, REFUSED = 4, ANOMALY = 5, CONNECTION = 6 }
export const EV_LINES_UP: Mirrors<typeof EV, typeof EVENT_TYPES> = true;
/**
 * The cause of a timer-driven event, in place of a segment ordinal. -1 keeps the argument a small
 * integer for V8 (0xffffffff would be a heap number, and every emit would take a slower path); the
 * event pool stores it as 0xffffffff, so ordinals keep the full unsigned range below that.
 */
export const enum REF { TIMER = -1 }

export const enum HS { SYN = 0, SYN_ACK = 1, ESTABLISHED = 2 }
export const HS_LINES_UP: Mirrors<typeof HS, typeof HS_PHASES> = true;
export const enum TD { FIN = 0, CLOSED = 1 }
export const TD_LINES_UP: Mirrors<typeof TD, typeof TD_PHASES> = true;
export const enum TDK { FIN = 0, RST = 1, TIMEOUT = 2 }
export const TDK_LINES_UP: Mirrors<typeof TDK, typeof TD_KINDS> = true;
export const enum CONN { OPENED = 0, CLOSED = 1, EVICTED = 2 }
export const CONN_LINES_UP: Mirrors<typeof CONN, typeof CONN_PHASES> = true;

export const enum AK {
  RETRANSMISSION = 0, SYN_RETRANSMISSION = 1, OUT_OF_ORDER = 2, GAP = 3, DUP_ACK = 4, ZERO_WINDOW = 5, KEEP_ALIVE = 6,
  BAD_ACK = 7, BAD_HANDSHAKE_ACK = 8, SYN_FIN = 9, SYN_RST = 10, INVALID_FLAGS = 11, RST_OUT_OF_WINDOW = 12,
}
export const AK_LINES_UP: Mirrors<typeof AK, typeof ANOMALY_KINDS> = true;

// Every event type is in EVENT_TYPES (a missing one is a compile error here; the list's `satisfies`
// rejects a type the union does not have). The phases, kinds and anomalies are declared as lists in
// events.ts, and the events' fields take their types from them.
type Missing<U, L extends readonly unknown[]> = [Exclude<U, L[number]>] extends [never] ? true : Exclude<U, L[number]>;
const ALL_LISTED: Missing<TcpEvent['type'], typeof EVENT_TYPES> = true;
void ALL_LISTED;

// word layout: type 0-2 | side 3 | hasSide 4 | a 5-8 | b 9-12 | anomaly kind 13-17
export function evWord(type: number, side: number, hasSide: boolean, a: number, b: number, kind: number): number {
  return type | (side << 3) | (hasSide ? 16 : 0) | (a << 5) | (b << 9) | (kind << 13);
}
export const evType = (w: number): number => w & 7;
export const evSide = (w: number): number => (w >>> 3) & 1;
export const evHasSide = (w: number): boolean => (w & 16) !== 0;
export const evA = (w: number): number => (w >>> 5) & 15;
export const evB = (w: number): number => (w >>> 9) & 15;
export const evKind = (w: number): number => (w >>> 13) & 31;

const OPENED = evWord(EV.CONNECTION, 0, false, CONN.OPENED, 0, 0);
const CLOSED = evWord(EV.CONNECTION, 0, false, CONN.CLOSED, 0, 0);

export class EventLog {
  constructor(
    private readonly st: ConnStore,
    readonly pool: EventPool,
    /** Whether events are kept at all (TrackerOptions.eventLog): without, there are none to imply. */
    private readonly kept = true,
  ) {}

  push(s: number, word: number, ref: number): void {
    const st = this.st;
    // evEnd is one past the newest event's record (0: none), so a full block ends on a block's
    // start; blocks are chained newest first, so appending never walks the chain.
    let r = st.evEnd[s];
    if ((r & (PG.BLOCK - 1)) === 0) r = this.pool.blocks.alloc((r - 1) >> PG.BLOCK_SHIFT) << PG.BLOCK_SHIFT;
    this.pool.set(r, word, ref);
    st.evEnd[s] = r + 1;
  }

  /** Every event of s in order, the implied ones in their place (see above): fn(word, ref). */
  each(s: number, fn: (word: number, ref: number) => void): void {
    if (!this.kept) return;
    const p = this.pool;
    if (this.st.nseg[s] > 0) fn(OPENED, 0);
    for (const r of this.records(s)) {
      const w = p.word(r);
      const ref = p.ref(r);
      fn(w, ref);
      const type = evType(w);
      if (type === EV.STATE && (evB(w) === S.FIN_WAIT_1 || evB(w) === S.LAST_ACK)) {
        fn(evWord(EV.TEARDOWN, evSide(w), true, TD.FIN, TDK.FIN, 0), ref);
      } else if (type === EV.TEARDOWN && evA(w) === TD.CLOSED) {
        fn(CLOSED, ref);
      }
    }
  }

  /** Record indices of the kept events, in order. */
  private records(s: number): number[] {
    const end = this.st.evEnd[s];
    const blocks: number[] = [];
    for (let b = (end - 1) >> PG.BLOCK_SHIFT; b >= 0; b = this.pool.next(b)) blocks.push(b);
    const out: number[] = [];
    for (let j = blocks.length - 1; j >= 0; j--) {
      const n = j === 0 ? ((end - 1) & (PG.BLOCK - 1)) + 1 : PG.BLOCK;
      for (let i = 0; i < n; i++) out.push((blocks[j] << PG.BLOCK_SHIFT) + i);
    }
    return out;
  }

  release(s: number): void {
    this.pool.freeChain((this.st.evEnd[s] - 1) >> PG.BLOCK_SHIFT);
    this.st.evEnd[s] = 0;
  }
}
