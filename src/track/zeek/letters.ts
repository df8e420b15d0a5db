import type { History } from '../history';
import { C, type ConnStore } from '../store';
import { F } from '../transitions';
import { HIST, L } from './names';


/**
 * Zeek's history column for one connection at a time (`s`): Conn::CheckHistory, AddHistory,
 * ScaledHistoryEntry and update_history() of TCPSessionAdapter.cc. `dirty` tells the caller that an
 * input of conn_state changed (an endpoint's state, the originator).
 */
export class ZeekLetters {
  s = 0;
  dirty = false;

  constructor(
    private readonly st: ConnStore,
    readonly hist: History,
  ) {}

  add(isOrig: boolean, upper: number): void {
    this.hist.append(this.s, isOrig ? upper : upper + L.LOWER);
  }

  /** Conn::CheckHistory: true if already seen; otherwise records the letter. */
  check(isOrig: boolean, mask: number, upper: number): boolean {
    const st = this.st;
    const m = isOrig ? mask : mask << 16;
    if ((st.histSeen[this.s] & m) === 0) {
      st.histSeen[this.s] |= m;
      this.add(isOrig, upper);
      return false;
    }
    return true;
  }

  /** The D or A of a segment without SYN, FIN or RST: most segments have seen theirs already. */
  plain(isOrig: boolean, data: boolean): void {
    const m = data ? HIST.DATA : HIST.ACK;
    const seen = this.st.histSeen[this.s];
    const bit = isOrig ? m : m << 16;
    if ((seen & bit) === 0) {
      this.st.histSeen[this.s] = seen | bit;
      this.add(isOrig, data ? L.DATA : L.ACK);
    }
  }

  /** Conn::ScaledHistoryEntry: the letter at counts 1, 10, 100, … */
  scaled(counter: Uint32Array, x: number, isOrig: boolean, upper: number): void {
    const c = ++counter[x];
    let t = 1;
    while (t < c) t *= 10;
    if (t === c) this.add(isOrig, upper);
  }

  /** update_history() for endpoint e; rel is the segment's sequence number relative to e's start. */
  update(e: number, isOrig: boolean, flags: number, rel: number, len: number): void {
    const st = this.st;
    const syn = (flags & F.SYN) !== 0;
    const fin = (flags & F.FIN) !== 0;
    const rst = (flags & F.RST) !== 0;
    const bits = (syn ? 1 : 0) + (fin ? 1 : 0) + (rst ? 1 : 0);
    if (bits > 1) {
      if (fin && rst) this.check(isOrig, HIST.FIN_RST, L.FIN_RST);
      else this.check(isOrig, HIST.MULTI, L.MULTI_FLAG);
    } else if (bits === 1) {
      if (syn) {
        const code = (flags & F.ACK) !== 0 ? L.SYN_ACK : L.SYN;
        if (this.check(isOrig, HIST.SYN, code) && rel !== st.hlSyn[e]) this.add(isOrig, code);
        st.hlSyn[e] = rel;
      }
      if (fin) {
        // a FIN's place is the end of the data it carries
        const end = (rel + len) | 0;
        if (this.check(isOrig, HIST.FIN, L.FIN) && end !== st.hlFin[e]) this.add(isOrig, L.FIN);
        st.hlFin[e] = end;
      }
      if (rst) {
        if (this.check(isOrig, HIST.RST, L.RST) && rel !== st.hlRst[e]) this.add(isOrig, L.RST);
        st.hlRst[e] = rel;
      }
    } else if (len > 0) {
      this.check(isOrig, HIST.DATA, L.DATA);
    } else if ((flags & F.ACK) !== 0) {
      this.check(isOrig, HIST.ACK, L.ACK);
    }
  }

  /** Conn::FlipRoles after the fact: the letters so far change case, '^' leads. */
  flip(s: number): void {
    const st = this.st;
    const h = this.hist.get(s);
    let swapped = HISTORY_FLIPPED;
    for (const ch of h) swapped += ch === ch.toUpperCase() ? ch.toLowerCase() : ch.toUpperCase();
    this.hist.release(s);
    for (let i = 0; i < swapped.length; i++) this.hist.append(s, swapped.charCodeAt(i));
    const seen = st.histSeen[s];
    st.histSeen[s] = ((seen >>> 16) | (seen << 16)) >>> 0;
    st.cflags[s] ^= C.ZFLIP;
    st.cflags[s] &= ~C.Z_PARTIAL;
    this.dirty = true;
  }

  /** Whether the history matches Zeek's /^\^?S[^HAFGIQ]*R.*$/ (the RSTOS0 test of conn_state()). */
  synThenRst(s: number): boolean {
    const h = this.hist;
    const n = h.length(s);
    let i = 0;
    if (h.at(s, 0) === L.FLIPPED) i = 1;
    if (h.at(s, i) !== L.SYN) return false;
    for (i++; i < n; i++) {
      const c = h.at(s, i);
      if (c === L.RST) return true;
      if (c === L.SYN_ACK || c === L.ACK || c === L.FIN || c === L.CONTENT_GAP || c === L.FIN_RST || c === L.MULTI_FLAG) {
        return false;
      }
    }
    return false;
  }
}

const HISTORY_FLIPPED = String.fromCharCode(L.FLIPPED);
