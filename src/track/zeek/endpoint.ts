import { C, E, type ConnStore } from '../store';
import type { ZeekLetters } from './letters';
import { L, Z } from './names';

/**
 * Zeek's TCP_Endpoint, one per direction, as a view over the store's arrays: endpoint x is
 * slot * 2 + side (side 0 our client). Its state and previous state, start/last/ack sequence
 * numbers (raw int32, compared modulo 2^32), did_close, FIN/RST seen, and the gap accounting of its
 * TCP_Reassembler (what was delivered in order, what was trimmed by ACKs, one block above a hole).
 */
export class ZeekEndpoints {
  constructor(
    private readonly st: ConnStore,
    private readonly letters: ZeekLetters,
  ) {}

  /** InitStartSeq + InitAckSeq; the reassembler numbers from 1 past the start, as Zeek's does. */
  initSeqs(x: number, start: number): void {
    const st = this.st;
    st.zStart[x] = start;
    st.zAck[x] = start;
    st.rContig[x] = (start + 1) | 0;
    st.rTrim[x] = (start + 1) | 0;
    st.eflags[x] &= ~E.R_ABOVE;
  }

  setState(x: number, v: number): void {
    const st = this.st;
    if (st.zst[x] !== v) {
      st.zprev[x] = st.zst[x];
      st.zst[x] = v;
      this.letters.dirty = true;
    }
  }

  /** Whether endpoint x is Zeek's originator. */
  isOrig(x: number): boolean {
    return (x & 1) === ((this.st.cflags[x >> 1] & C.ZFLIP) !== 0 ? 1 : 0);
  }

  /** TCP_Endpoint::Size(): payload bytes as the sequence numbers tell. */
  size(x: number): number {
    const st = this.st;
    if (st.zprev[x] === Z.SYN_SENT && st.zst[x] === Z.RESET && st.zst[x ^ 1] === Z.INACTIVE && !this.noDataAcked(x)) {
      return 0;
    }
    const a = (st.zLast[x] - st.zStart[x]) | 0;
    const b = (st.zAck[x] - st.zStart[x]) | 0;
    let size = Math.max(a, b, 0);
    if (size !== 0) size--;
    if ((st.eflags[x] & E.Z_FIN) !== 0 && size !== 0) size--;
    return size;
  }

  private noDataAcked(x: number): boolean {
    const st = this.st;
    return st.zAck[x] === st.zStart[x] || st.zAck[x] === ((st.zStart[x] + 1) | 0);
  }

  /** TCP_Reassembler::AckReceived for endpoint x's data, acked up to raw seq `upTo`. */
  ackReceived(x: number, upTo: number): void {
    const st = this.st;
    if ((st.eflags[x] & E.Z_FIN) !== 0 && ((upTo - st.zFinRel[x]) | 0) >= 0) upTo = (st.zFinRel[x] - 1) | 0;
    if (((upTo - st.rTrim[x]) | 0) <= 0) return;
    if (((upTo - st.rContig[x]) | 0) > 0) this.undelivered(x, upTo);
    st.rTrim[x] = upTo;
  }

  private undelivered(x: number, upTo: number): void {
    const st = this.st;
    if (((upTo - st.zStart[x]) | 0) <= 2 && (st.cflags[x >> 1] & C.Z_PARTIAL) !== 0) return;
    if ((st.eflags[x] & E.R_ABOVE) !== 0 && ((st.rAboveS[x] - upTo) | 0) < 0) {
      const hole = (st.rAboveS[x] - st.rContig[x]) | 0;
      if (hole > 0) this.gap(x, hole);
      if (((st.rAboveE[x] - st.rContig[x]) | 0) > 0) st.rContig[x] = st.rAboveE[x];
      st.eflags[x] &= ~E.R_ABOVE;
    }
    const rest = (upTo - st.rContig[x]) | 0;
    if (rest > 0) {
      this.gap(x, rest);
      st.rContig[x] = upTo;
    }
  }

  /** A content gap: counted (and a G) only while both endpoints are (or were, up to a FIN) established. */
  private gap(x: number, n: number): void {
    const st = this.st;
    if (this.clean(x) && this.clean(x ^ 1)) {
      this.letters.scaled(st.cntGap, x, this.isOrig(x), L.CONTENT_GAP);
      st.missed[x >> 1] += n;
    }
  }

  private clean(x: number): boolean {
    const st = this.st;
    return st.zst[x] === Z.ESTABLISHED || (st.zst[x] === Z.CLOSED && st.zprev[x] === Z.ESTABLISHED);
  }

  /** TCP_Reassembler::DataSent + NewBlock for endpoint x: bytes [s, s+len). */
  dataSent(x: number, s: number, len: number): void {
    const st = this.st;
    let from = s;
    const to = (s + len) | 0;
    const acked = st.zAck[x];
    if (((from - acked) | 0) < 0) {
      if (((to - acked) | 0) <= 0) return;
      from = acked;
    }
    if (((to - st.rTrim[x]) | 0) <= 0) return;
    if (((from - st.rTrim[x]) | 0) < 0) from = st.rTrim[x];
    if (((from - st.rContig[x]) | 0) <= 0) {
      if (((to - st.rContig[x]) | 0) > 0) {
        st.rContig[x] = to;
        if ((st.eflags[x] & E.R_ABOVE) !== 0 && ((st.rAboveS[x] - to) | 0) <= 0) {
          if (((st.rAboveE[x] - to) | 0) > 0) st.rContig[x] = st.rAboveE[x];
          st.eflags[x] &= ~E.R_ABOVE;
        }
      }
    } else if ((st.eflags[x] & E.R_ABOVE) === 0) {
      st.rAboveS[x] = from;
      st.rAboveE[x] = to;
      st.eflags[x] |= E.R_ABOVE;
    } else {
      // One block above the hole is kept; a second one widens it (an approximation of Zeek's list).
      if (((from - st.rAboveS[x]) | 0) < 0) st.rAboveS[x] = from;
      if (((to - st.rAboveE[x]) | 0) > 0) st.rAboveE[x] = to;
    }
  }
}
