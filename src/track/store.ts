/**
 * Connection storage as a structure of typed arrays, one index ("slot") per tracked connection and
 * two ("endpoint" = slot * 2 + side, side 0 = client, 1 = server) per direction. A million
 * connections then cost a few hundred bytes each and no garbage-collected objects at all; objects
 * are only built when someone asks for a view (see view.ts).
 *
 * Sequence numbers are stored as int32 (the same 32 bits, compared with `(a - b) | 0`), which keeps
 * them small integers for V8 on the packet path; views turn them back into unsigned numbers.
 */

import type { Mirrors } from './names';

/** Bits of `cflags` (per connection). */
export const enum C {
  PARTIAL = 1 << 0, // no SYN seen: picked up mid-stream
  ROLES_GUESSED = 1 << 1,
  ZFLIP = 1 << 2, // Zeek's originator is our server
  CLOSED = 1 << 3, // status 'closed'
  IN_TABLE = 1 << 4, // reachable through the flow table (not displaced by a newer connection)
  EST_ONCE = 1 << 5, // both sides were ESTABLISHED at some point (or assumed so, mid-stream)
  Z_PARTIAL = 1 << 6, // Zeek's is_partial
  Z_FIRST_ORIG = 1 << 7, // Zeek's first_packet_seen
  Z_FIRST_RESP = 1 << 8,
  CAPTURE_GAP = 1 << 9, // open while the capture had a hole: packets of it may be missing
  SYNACK_SEEN = 1 << 10,
  HS_SYN = 1 << 11, // handshake events already emitted
  HS_SYNACK = 1 << 12,
  HS_EST = 1 << 13,
  RESET = 1 << 15,
  REFUSED = 1 << 16,
  HIST_LONG = 1 << 17, // history continues in the overflow map
  BY_SHIFT = 20, // closedBy: 0 none, 1 client, 2 server, 3 both
  BY_MASK = 3 << 20,
  KIND_SHIFT = 22, // closeKind: 0 none, 1 fin, 2 rst, 3 timeout, 4 refused
  KIND_MASK = 7 << 22,
}

/** Bits of `eflags` (per endpoint). */
export const enum E {
  SENT = 1 << 0, // sent at least one segment: `hi` is meaningful
  ISN_KNOWN = 1 << 1, // `isn` came from this side's own SYN
  SEQ_INIT = 1 << 2, // `isn` is set (maybe guessed from the first segment or the peer's ACK)
  SYN = 1 << 3, // sent a SYN without ACK
  FIN = 1 << 4, // sent a FIN (finSeq is its sequence number)
  PEND_FIN = 1 << 5, // the peer's FIN is seen but not yet received by this side (see Expiry.awaitFin)
  ACKED = 1 << 6, // sent an ACK: `ackHi` is meaningful
  WIN = 1 << 7, // `win` is meaningful
  Z_FIN = 1 << 8, // Zeek's FIN_cnt > 0
  Z_RST = 1 << 9, // Zeek's RST_cnt > 0
  Z_DIDCLOSE = 1 << 10,
  R_ABOVE = 1 << 11, // reassembly: a block above the hole is pending
  SACK_OK = 1 << 12,
  TS = 1 << 13,
  DUP_PEND = 1 << 14, // last pure ACK is a candidate for duplicate-ACK detection
  SYNACK = 1 << 15, // sent a SYN+ACK
}

/**
 * Timer classes, in the order of their timeouts (Tracker's constructor); each is one intrusive
 * list ordered by `tRef`.
 */
export const TIMER_CLASSES = ['syn-sent', 'syn-recv', 'established', 'fin-wait', 'close-wait', 'last-ack', 'time-wait', 'closed'] as const;
export const enum K { SYN_SENT = 0, SYN_RECV = 1, ESTABLISHED = 2, FIN_WAIT = 3, CLOSE_WAIT = 4, LAST_ACK = 5, TIME_WAIT = 6, CLOSED = 7 }
export const K_LINES_UP: Mirrors<typeof K, typeof TIMER_CLASSES> = true;

/** Who closed a connection (C.BY_MASK), as views name it. */
export const CLOSED_BY = [null, 'client', 'server', 'both'] as const;
export const enum By { CLIENT = 1, SERVER = 2, BOTH = 3 }
export const BY_LINES_UP: Mirrors<typeof By, typeof CLOSED_BY> = true;
/** How a connection closed (C.KIND_MASK), as views name it. */
export const CLOSE_KINDS = [null, 'fin', 'rst', 'timeout', 'refused'] as const;
export const enum Kind { FIN = 1, RST = 2, TIMEOUT = 3, REFUSED = 4 }
export const KIND_LINES_UP: Mirrors<typeof Kind, typeof CLOSE_KINDS> = true;

/** History letters kept in the store per connection (the rest in History's map). */
export const enum HI { INLINE = 12 }

/**
 * Slots from which the store grows eightfold instead of doubling. Growing copies every array and
 * touches the copy's pages, which costs more than writing the slots themselves; a store this big is
 * likely to grow a lot more, and the part of a new array past the copy costs nothing until used
 * (the arrays come zeroed, see init()). Below it, doubling keeps small trackers small.
 */
const BIG = 1 << 14;

type Ctor = Float64ArrayConstructor | Uint32ArrayConstructor | Int32ArrayConstructor |
  Uint16ArrayConstructor | Uint8ArrayConstructor | Int8ArrayConstructor;

// name, element type, elements per slot, value of a cleared slot (exported for the store's test)
export const FIELDS: ReadonlyArray<readonly [string, Ctor, number, number]> = [
  // connection level
  ['idNum', Float64Array, 1, 0],
  ['family', Uint8Array, 1, 0],
  ['addr', Uint8Array, 32, 0], // client address at 0, server address at 16 (IPv4 uses the first 4 bytes)
  ['cport', Uint16Array, 1, 0],
  ['sport', Uint16Array, 1, 0],
  ['hash', Int32Array, 1, 0],
  ['chain', Int32Array, 1, -1], // next slot in the hash bucket, or in the free list
  ['cflags', Uint32Array, 1, 0],
  ['tStart', Float64Array, 1, 0],
  ['tLast', Float64Array, 1, 0],
  ['tEnd', Float64Array, 1, NaN],
  ['tSyn', Float64Array, 1, NaN],
  ['tSynAck', Float64Array, 1, NaN],
  ['tAck', Float64Array, 1, NaN],
  ['tRef', Float64Array, 1, 0], // start of the current timer phase
  ['tTimer', Float64Array, 1, NaN], // when the last timer fired (cause-less events)
  ['missed', Float64Array, 1, 0],
  ['anomalies', Uint32Array, 1, 0],
  ['synRetx', Uint32Array, 1, 0],
  ['nseg', Uint32Array, 1, 0], // segments seen = ordinal of the next one
  ['lprev', Int32Array, 1, -1],
  ['lnext', Int32Array, 1, -1],
  ['lclass', Uint8Array, 1, 0],
  ['cprev', Int32Array, 1, -1], // creation order, oldest first
  ['cnext', Int32Array, 1, -1],
  ['histLen', Uint8Array, 1, 0],
  ['hist', Uint8Array, HI.INLINE, 0],
  ['histSeen', Uint32Array, 1, 0], // Zeek's hist_seen mask (responder bits shifted by 16)
  ['zconn', Uint8Array, 1, 0], // cached conn_state index
  ['evEnd', Int32Array, 1, 0], // one past the newest event's record in the event pool (0: none; blocks chain newest first)
  ['evOmitted', Uint32Array, 1, 0],
  ['anomStored', Uint16Array, 1, 0],
  ['segLast', Int32Array, 1, -1], // newest block of the ladder's head (blocks chain newest first)
  ['ring', Int32Array, 1, -1],
  ['pinHead', Int32Array, 1, -1],
  ['pinCount', Uint16Array, 1, 0],
  // endpoint level
  ['akey', Int32Array, 2, 0], // a 32-bit key of each endpoint's address (addressKey), for list queries by host
  ['st', Uint8Array, 2, 0],
  ['zst', Uint8Array, 2, 0],
  ['zprev', Uint8Array, 2, 0],
  ['eflags', Uint16Array, 2, 0],
  ['isn', Int32Array, 2, 0],
  ['hi', Int32Array, 2, 0], // one past the highest sequence number sent (SYN and FIN count)
  ['finSeq', Int32Array, 2, 0],
  ['ackHi', Int32Array, 2, 0], // highest acknowledgement number sent
  ['pendOrd', Uint32Array, 2, 0], // ordinal of the peer's FIN segment awaiting reception
  ['pendTs', Float64Array, 2, 0], // its time
  ['zStart', Int32Array, 2, 0],
  ['zLast', Int32Array, 2, 0],
  ['zAck', Int32Array, 2, 0],
  ['zFinRel', Int32Array, 2, 0],
  ['hlSyn', Int32Array, 2, 0],
  ['hlFin', Int32Array, 2, 0],
  ['hlRst', Int32Array, 2, 0],
  ['rContig', Int32Array, 2, 0],
  ['rAboveS', Int32Array, 2, 0],
  ['rAboveE', Int32Array, 2, 0],
  ['rTrim', Int32Array, 2, 0],
  ['cntRxmt', Uint32Array, 2, 0],
  ['cntWin0', Uint32Array, 2, 0],
  ['cntGap', Uint32Array, 2, 0],
  ['win', Uint16Array, 2, 0],
  ['wscale', Int8Array, 2, -1],
  ['mss', Uint16Array, 2, 0],
  ['pkts', Uint32Array, 2, 0],
  ['bytes', Float64Array, 2, 0],
];

export class ConnStore {
  cap = 0;
  used = 0;
  private freeHead = -1;
  private hwm = 0; // slots below this index have been handed out at least once

  idNum = new Float64Array(0);
  family = new Uint8Array(0);
  addr = new Uint8Array(0);
  /** `addr` as 32-bit words in host byte order (8 per slot), for the flow table's comparisons. */
  addrW = new Int32Array(0);
  cport = new Uint16Array(0);
  sport = new Uint16Array(0);
  hash = new Int32Array(0);
  chain = new Int32Array(0);
  cflags = new Uint32Array(0);
  tStart = new Float64Array(0);
  tLast = new Float64Array(0);
  tEnd = new Float64Array(0);
  tSyn = new Float64Array(0);
  tSynAck = new Float64Array(0);
  tAck = new Float64Array(0);
  tRef = new Float64Array(0);
  tTimer = new Float64Array(0);
  missed = new Float64Array(0);
  anomalies = new Uint32Array(0);
  synRetx = new Uint32Array(0);
  nseg = new Uint32Array(0);
  lprev = new Int32Array(0);
  lnext = new Int32Array(0);
  lclass = new Uint8Array(0);
  cprev = new Int32Array(0);
  cnext = new Int32Array(0);
  histLen = new Uint8Array(0);
  hist = new Uint8Array(0);
  histSeen = new Uint32Array(0);
  zconn = new Uint8Array(0);
  evEnd = new Int32Array(0);
  evOmitted = new Uint32Array(0);
  anomStored = new Uint16Array(0);
  segLast = new Int32Array(0);
  ring = new Int32Array(0);
  pinHead = new Int32Array(0);
  pinCount = new Uint16Array(0);

  akey = new Int32Array(0);
  st = new Uint8Array(0);
  zst = new Uint8Array(0);
  zprev = new Uint8Array(0);
  eflags = new Uint16Array(0);
  isn = new Int32Array(0);
  hi = new Int32Array(0);
  finSeq = new Int32Array(0);
  ackHi = new Int32Array(0);
  pendOrd = new Uint32Array(0);
  pendTs = new Float64Array(0);
  zStart = new Int32Array(0);
  zLast = new Int32Array(0);
  zAck = new Int32Array(0);
  zFinRel = new Int32Array(0);
  hlSyn = new Int32Array(0);
  hlFin = new Int32Array(0);
  hlRst = new Int32Array(0);
  rContig = new Int32Array(0);
  rAboveS = new Int32Array(0);
  rAboveE = new Int32Array(0);
  rTrim = new Int32Array(0);
  cntRxmt = new Uint32Array(0);
  cntWin0 = new Uint32Array(0);
  cntGap = new Uint32Array(0);
  win = new Uint16Array(0);
  wscale = new Int8Array(0);
  mss = new Uint16Array(0);
  pkts = new Uint32Array(0);
  bytes = new Float64Array(0);

  constructor(
    initialCap: number,
    private readonly maxCap: number,
  ) {
    this.grow(Math.max(1, Math.min(initialCap, maxCap)));
  }

  /** Slots below this index have been handed out at least once. */
  get slotsTouched(): number {
    return this.hwm;
  }

  get full(): boolean {
    return this.used >= this.maxCap;
  }

  /**
   * Takes `slots` of the capacity at once: growing copies every array (some 120 ms from 128 K to 1 M
   * slots), which a server must not do in one go while it answers. The pages past the slots in use
   * are not touched, so this costs address space, not memory.
   */
  reserve(slots: number): void {
    const cap = Math.min(this.maxCap, slots);
    if (this.cap < cap) this.grow(cap);
  }

  /** A cleared slot, or -1 when `maxCap` slots are in use. */
  alloc(): number {
    let s = this.freeHead;
    if (s >= 0) {
      this.freeHead = this.chain[s];
      this.clear(s);
    } else {
      if (this.hwm >= this.cap) {
        if (this.cap >= this.maxCap) return -1;
        this.grow(Math.min(this.maxCap, this.cap < BIG ? this.cap * 2 : this.cap * 8));
      }
      s = this.hwm++;
      this.init(s);
    }
    this.used++;
    return s;
  }

  free(s: number): void {
    this.chain[s] = this.freeHead;
    this.freeHead = s;
    this.used--;
  }

  /**
   * A slot never handed out holds zeros (the arrays are allocated zeroed and grow() only copies),
   * so only the fields whose cleared value is not 0 are written. Filling them in when the store
   * grew touched every page of the new capacity at once, most of it long before use; here each
   * page is first touched when its slots are. Must give FIELDS' non-zero values.
   */
  private init(s: number): void {
    const e = 2 * s;
    this.chain[s] = -1;
    this.tEnd[s] = NaN;
    this.tSyn[s] = NaN;
    this.tSynAck[s] = NaN;
    this.tAck[s] = NaN;
    this.tTimer[s] = NaN;
    this.lprev[s] = -1;
    this.lnext[s] = -1;
    this.cprev[s] = -1;
    this.cnext[s] = -1;
    this.segLast[s] = -1;
    this.ring[s] = -1;
    this.pinHead[s] = -1;
    this.wscale[e] = this.wscale[e + 1] = -1;
  }

  // Written out field by field: this runs for every reused slot. Must give FIELDS' values.
  private clear(s: number): void {
    this.clearConnection(s);
    this.clearEndpoints(2 * s);
  }

  private clearConnection(s: number): void {
    this.idNum[s] = 0;
    this.family[s] = 0;
    this.addr.fill(0, s * 32, s * 32 + 32);
    this.cport[s] = 0;
    this.sport[s] = 0;
    this.hash[s] = 0;
    this.chain[s] = -1;
    this.cflags[s] = 0;
    this.tStart[s] = 0;
    this.tLast[s] = 0;
    this.tEnd[s] = NaN;
    this.tSyn[s] = NaN;
    this.tSynAck[s] = NaN;
    this.tAck[s] = NaN;
    this.tRef[s] = 0;
    this.tTimer[s] = NaN;
    this.missed[s] = 0;
    this.anomalies[s] = 0;
    this.synRetx[s] = 0;
    this.nseg[s] = 0;
    this.lprev[s] = -1;
    this.lnext[s] = -1;
    this.lclass[s] = 0;
    this.cprev[s] = -1;
    this.cnext[s] = -1;
    this.histLen[s] = 0;
    this.histSeen[s] = 0;
    this.zconn[s] = 0;
    this.evEnd[s] = 0;
    this.evOmitted[s] = 0;
    this.anomStored[s] = 0;
    this.segLast[s] = -1;
    this.ring[s] = -1;
    this.pinHead[s] = -1;
    this.pinCount[s] = 0;
  }

  /** Both endpoints of a slot: e and e + 1. */
  private clearEndpoints(e: number): void {
    this.akey[e] = this.akey[e + 1] = 0;
    this.st[e] = this.st[e + 1] = 0;
    this.zst[e] = this.zst[e + 1] = 0;
    this.zprev[e] = this.zprev[e + 1] = 0;
    this.eflags[e] = this.eflags[e + 1] = 0;
    this.isn[e] = this.isn[e + 1] = 0;
    this.hi[e] = this.hi[e + 1] = 0;
    this.finSeq[e] = this.finSeq[e + 1] = 0;
    this.ackHi[e] = this.ackHi[e + 1] = 0;
    this.pendOrd[e] = this.pendOrd[e + 1] = 0;
    this.pendTs[e] = this.pendTs[e + 1] = 0;
    this.zStart[e] = this.zStart[e + 1] = 0;
    this.zLast[e] = this.zLast[e + 1] = 0;
    this.zAck[e] = this.zAck[e + 1] = 0;
    this.zFinRel[e] = this.zFinRel[e + 1] = 0;
    this.hlSyn[e] = this.hlSyn[e + 1] = 0;
    this.hlFin[e] = this.hlFin[e + 1] = 0;
    this.hlRst[e] = this.hlRst[e + 1] = 0;
    this.rContig[e] = this.rContig[e + 1] = 0;
    this.rAboveS[e] = this.rAboveS[e + 1] = 0;
    this.rAboveE[e] = this.rAboveE[e + 1] = 0;
    this.rTrim[e] = this.rTrim[e + 1] = 0;
    this.cntRxmt[e] = this.cntRxmt[e + 1] = 0;
    this.cntWin0[e] = this.cntWin0[e + 1] = 0;
    this.cntGap[e] = this.cntGap[e + 1] = 0;
    this.win[e] = this.win[e + 1] = 0;
    this.wscale[e] = this.wscale[e + 1] = -1;
    this.mss[e] = this.mss[e + 1] = 0;
    this.pkts[e] = this.pkts[e + 1] = 0;
    this.bytes[e] = this.bytes[e + 1] = 0;
  }

  private grow(cap: number): void {
    const self = this as unknown as Record<string, ArrayLike<number> & { length: number }>;
    for (const [name, Ctor, per] of FIELDS) {
      const old = self[name] as unknown as Float64Array;
      const next = new Ctor(cap * per) as unknown as Float64Array;
      next.set(old);
      (self as Record<string, unknown>)[name] = next;
    }
    this.addrW = new Int32Array(this.addr.buffer, this.addr.byteOffset, this.addr.length >> 2);
    this.cap = cap;
  }

  /** Bytes held by the arrays (for benchmarks). */
  byteSize(): number {
    const self = this as unknown as Record<string, { byteLength: number }>;
    let n = 0;
    for (const [name] of FIELDS) n += self[name].byteLength;
    return n;
  }
}

/**
 * A 32-bit key of an address given as its words (`n` of them: 1 for IPv4, 4 for IPv6, as `addrW`
 * holds them): the address itself for IPv4, a mix of the words for IPv6. Equal addresses have
 * equal keys; a list query by host compares keys first and the whole address only on a match.
 */
export function addressKey(w: ArrayLike<number>, off: number, n: number): number {
  if (n === 1) return w[off] | 0;
  let h = Math.imul(w[off], 0x9e3779b1);
  h = Math.imul(h ^ w[off + 1], 0x85ebca6b);
  h = Math.imul(h ^ w[off + 2], 0xc2b2ae35);
  return (h ^ w[off + 3]) | 0;
}
