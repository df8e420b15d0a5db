import { ipv4Text } from '../track/record';
import type { Attribution } from './attribute';

/** Flags of a watched connection's slot. */
export const W = {
  /** The slot holds a watched connection. */
  LIVE: 1,
  /** Closed by the packets (both ends done): a socket not in a reading now will not be in a later one. */
  CLOSED: 2,
  /** The server answered the SYN with a reset: nothing listened when it came (a listener seen later is not its). */
  REFUSED: 4,
  /** An endpoint's owner is not known yet. */
  PENDING: 8,
} as const;

/** Address texts made for IPv4 addresses, kept for reuse (a busy server sees few addresses); emptied when this many. */
const IP_TEXTS = 4096;

/**
 * The connections the socket watch follows, as columns indexed by a slot of its own, reused once a
 * connection is forgotten: no object per connection. Thousands of connections a second each live
 * here a second or more (until a reading names them and the cross-check is done with them), long
 * enough that objects of theirs would be promoted and left to the major collector; numbers in
 * typed arrays and references to shared attributions cost it nothing. Endpoints by side index
 * (client 0, server 1).
 */
export class WatchTable {
  /** Slots below this have been used (each live or free). */
  hi = 0;
  /** Live slots, and those among them with an owner still to find (PENDING). */
  size = 0;
  pendingCount = 0;
  flags = new Uint8Array(0);
  /** Readings made for the connection (counted towards giving up an endpoint not found). */
  tries = new Uint8Array(0);
  /** The tracker's connection id, as a number. */
  idNum = new Float64Array(0);
  /** When its opening was seen (performance.now()). */
  since = new Float64Array(0);
  /** When it closed (performance.now()), 0 while open; and on the packet clock (epoch ms, the closing event's time). */
  closedAt = new Float64Array(0);
  closedTs = new Float64Array(0);
  /** Each endpoint's IPv4 address as a 32-bit number, or -1 (then its text in ip6). Two a slot. */
  ip4 = new Float64Array(0);
  port = new Uint16Array(0);
  ip6: (string | null)[] = [];
  /** Final attributions by side (null while still looking); two a slot. */
  owner: (Attribution | null)[] = [];
  /** A disagreement seen on the last reading, by side: it counts once it holds on the next one. Two a slot. */
  suspect: (string | null)[] = [];
  /** Sides counted already: a disagreement once per state pair, or 'unchecked' once in notCompared. Two a slot. */
  counted: (string | null)[] = [];
  /**
   * The TIME_WAIT readings (local × 65 536 + remote port) its last comparison waits for, every side it
   * could not settle otherwise being among them; null when it waits for nothing in particular.
   */
  waitsFor: (number[] | null)[] = [];
  private cap = 0;
  private readonly free: number[] = [];
  private readonly slotById = new Map<number, number>();
  private readonly ipTexts = new Map<number, string>();

  /** The slot of connection number `id`, or -1. */
  findNum(id: number): number {
    if (this.size === 0) return -1;
    return this.slotById.get(id) ?? -1;
  }

  /** A new slot for connection number `id`, pending, open, its other columns to be set by the caller. */
  add(id: number, since: number): number {
    let w = this.free.pop();
    if (w === undefined) {
      if (this.hi === this.cap) this.grow();
      w = this.hi++;
    }
    this.flags[w] = W.LIVE | W.PENDING;
    this.tries[w] = 0;
    this.idNum[w] = id;
    this.since[w] = since;
    this.closedAt[w] = 0;
    this.closedTs[w] = 0;
    this.slotById.set(id, w);
    this.size++;
    this.pendingCount++;
    return w;
  }

  /** Forgets the connection in slot w. */
  remove(w: number): void {
    const f = this.flags[w];
    if ((f & W.LIVE) === 0) return;
    if ((f & W.PENDING) !== 0) this.pendingCount--;
    this.flags[w] = 0;
    this.slotById.delete(this.idNum[w]);
    const a = 2 * w;
    this.ip6[a] = this.ip6[a + 1] = null;
    this.owner[a] = this.owner[a + 1] = null;
    this.suspect[a] = this.suspect[a + 1] = null;
    this.counted[a] = this.counted[a + 1] = null;
    this.waitsFor[w] = null;
    this.size--;
    this.free.push(w);
  }

  /** Both owners known: no longer pending. */
  settled(w: number): void {
    if ((this.flags[w] & W.PENDING) === 0) return;
    this.flags[w] &= ~W.PENDING;
    this.pendingCount--;
  }

  isPending(w: number): boolean {
    return (this.flags[w] & W.PENDING) !== 0;
  }

  isClosed(w: number): boolean {
    return (this.flags[w] & W.CLOSED) !== 0;
  }

  /** The tracker's id text of slot w. */
  id(w: number): string {
    return String(this.idNum[w]);
  }

  /** Endpoint i's address as text (an IPv4 one made once for all connections from it). */
  ip(w: number, i: number): string {
    const v4 = this.ip4[2 * w + i];
    if (v4 < 0) return this.ip6[2 * w + i]!;
    let t = this.ipTexts.get(v4);
    if (t === undefined) {
      if (this.ipTexts.size >= IP_TEXTS) this.ipTexts.clear();
      t = ipv4Text(v4);
      this.ipTexts.set(v4, t);
    }
    return t;
  }

  private grow(): void {
    const cap = Math.max(1024, 2 * this.cap);
    const u8 = (a: Uint8Array, n: number) => {
      const b = new Uint8Array(n);
      b.set(a);
      return b;
    };
    const f64 = (a: Float64Array, n: number) => {
      const b = new Float64Array(n);
      b.set(a);
      return b;
    };
    this.flags = u8(this.flags, cap);
    this.tries = u8(this.tries, cap);
    this.idNum = f64(this.idNum, cap);
    this.since = f64(this.since, cap);
    this.closedAt = f64(this.closedAt, cap);
    this.closedTs = f64(this.closedTs, cap);
    this.ip4 = f64(this.ip4, 2 * cap);
    const port = new Uint16Array(2 * cap);
    port.set(this.port);
    this.port = port;
    for (let i = 2 * this.cap; i < 2 * cap; i++) {
      this.ip6.push(null);
      this.owner.push(null);
      this.suspect.push(null);
      this.counted.push(null);
    }
    for (let i = this.cap; i < cap; i++) this.waitsFor.push(null);
    this.cap = cap;
  }
}
