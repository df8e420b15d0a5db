import { C, HI, type ConnStore } from './store';

/**
 * Zeek's history letters, kept as bytes in the store. The rare connection whose history outgrows
 * the inline bytes continues in a map keyed by slot.
 */
export class History {
  private readonly overflow = new Map<number, string>();

  constructor(private readonly st: ConnStore) {}

  append(s: number, ch: number): void {
    const st = this.st;
    const n = st.histLen[s];
    if (n < HI.INLINE) {
      st.hist[s * HI.INLINE + n] = ch;
      st.histLen[s] = n + 1;
    } else {
      st.cflags[s] |= C.HIST_LONG;
      this.overflow.set(s, (this.overflow.get(s) ?? '') + String.fromCharCode(ch));
    }
  }

  get(s: number): string {
    const st = this.st;
    let out = '';
    for (let i = 0; i < st.histLen[s]; i++) out += String.fromCharCode(st.hist[s * HI.INLINE + i]);
    if ((st.cflags[s] & C.HIST_LONG) !== 0) out += this.overflow.get(s) ?? '';
    return out;
  }

  /** Letter i, or 0 past the end (overflow letters are read from the map). */
  at(s: number, i: number): number {
    if (i < this.st.histLen[s]) return this.st.hist[s * HI.INLINE + i];
    const rest = this.overflow.get(s);
    const j = i - HI.INLINE;
    return rest !== undefined && j < rest.length ? rest.charCodeAt(j) : 0;
  }

  length(s: number): number {
    return this.st.histLen[s] + (this.overflow.get(s)?.length ?? 0);
  }

  release(s: number): void {
    if ((this.st.cflags[s] & C.HIST_LONG) !== 0) {
      this.overflow.delete(s);
      this.st.cflags[s] &= ~C.HIST_LONG;
    }
    this.st.histLen[s] = 0;
  }
}
