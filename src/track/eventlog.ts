import type { AnomalyKind } from './events';
import { BLOCK as B, type EventPool } from './pools';
import type { ConnStore } from './store';

/**
 * Kept events in 8 bytes each: a packed word and the ordinal of the segment that caused the event
 * (its timestamp and cause are read back from the ladder), or REF.TIMER for timer-driven ones.
 */

export const enum EV { STATE = 0, HANDSHAKE = 1, TEARDOWN = 2, RESET = 3, REFUSED = 4, ANOMALY = 5, CONNECTION = 6 }
/**
 * The cause of a timer-driven event, in place of a segment ordinal. -1 keeps the argument a small
 * integer for V8 (0xffffffff would be a heap number, and every emit would take a slower path); the
 * event pool stores it as 0xffffffff, so ordinals keep the full unsigned range below that.
 */
export const enum REF { TIMER = -1 }

export const HS_PHASES = ['syn', 'syn-ack', 'established'] as const;
export const TD_PHASES = ['fin', 'closed'] as const;
export const TD_KINDS = ['fin', 'rst', 'timeout'] as const;
export const CONN_PHASES = ['opened', 'closed', 'evicted'] as const;
export const ANOMALY_KINDS: readonly AnomalyKind[] = [
  'retransmission',
  'syn-retransmission',
  'out-of-order',
  'gap',
  'dup-ack',
  'zero-window',
  'keep-alive',
  'bad-ack',
  'bad-handshake-ack',
  'syn-fin',
  'syn-rst',
  'invalid-flags',
  'rst-out-of-window',
];
export const enum AK {
  RETRANSMISSION = 0,
  SYN_RETRANSMISSION = 1,
  OUT_OF_ORDER = 2,
  GAP = 3,
  DUP_ACK = 4,
  ZERO_WINDOW = 5,
  KEEP_ALIVE = 6,
  BAD_ACK = 7,
  BAD_HANDSHAKE_ACK = 8,
  SYN_FIN = 9,
  SYN_RST = 10,
  INVALID_FLAGS = 11,
  RST_OUT_OF_WINDOW = 12,
}

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


export class EventLog {
  constructor(
    private readonly st: ConnStore,
    readonly pool: EventPool,
  ) {}

  push(s: number, word: number, ref: number): void {
    const st = this.st;
    const p = this.pool;
    const k = st.evCount[s];
    // Blocks are chained newest first, so appending never walks the chain.
    let b = st.evLast[s];
    if ((k & (B - 1)) === 0) {
      const nb = p.alloc();
      p.setNext(nb, b);
      st.evLast[s] = nb;
      b = nb;
    }
    const r = b * B + (k & (B - 1));
    p.set(r, word, ref);
    st.evCount[s] = k + 1;
  }

  /** Record indices in order. */
  records(s: number): number[] {
    const blocks: number[] = [];
    for (let b = this.st.evLast[s]; b >= 0; b = this.pool.next(b)) blocks.push(b);
    const out: number[] = [];
    let left = this.st.evCount[s];
    for (let j = blocks.length - 1; j >= 0 && left > 0; j--) {
      for (let i = 0; i < B && left > 0; i++, left--) out.push(blocks[j] * B + i);
    }
    return out;
  }

  release(s: number): void {
    this.pool.freeChain(this.st.evLast[s]);
    this.st.evLast[s] = -1;
    this.st.evCount[s] = 0;
  }
}
