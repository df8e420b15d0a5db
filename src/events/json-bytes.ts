// JSON text written byte by byte into one growing buffer: the same text JSON.stringify makes of
// the same values, without the generic walk and without a string per value to collect afterwards.
// (analyze writes its other formats' lines into the same kind of buffer.)
// The writers of a fixed shape (json.ts) hold the position in a local between values: each function
// below takes the buffer and a position, writes, and returns the position after what it wrote.

/** The most bytes writeNumber() writes (String() of a double is at most 25 characters, the decimals of a dyadic under 2^43 with at most 22 fraction digits at most 25 too). */
export const NUMBER_MAX = 25;

/**
 * Text prepared once (keys and punctuation), as 8-byte words: copied a word at a time, it costs a
 * quarter of a byte-by-byte copy. The last word is padded with spaces, written too and overwritten
 * by what follows, so a copy is whole words only (a writer makes LIT_PAD bytes of room beyond the
 * text). Its words are ASCII, so as float64 they are never NaN (the top byte, the last character,
 * is below 0x80) and copy exactly.
 */
export interface Lit {
  readonly words: Float64Array;
  readonly length: number;
}

/** How far writeLit may write beyond the text's end. */
export const LIT_PAD = 7;

export function lit(text: string): Lit {
  const n = (text.length + 7) >> 3;
  const bytes = Buffer.alloc(8 * n, 0x20);
  bytes.write(text, 'latin1');
  const words = new Float64Array(n);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  for (let i = 0; i < n; i++) words[i] = dv.getFloat64(8 * i, true);
  return { words, length: text.length };
}

/** "00".."99" as pairs of character codes. */
const PAIRS = new Uint8Array(200);
for (let i = 0; i < 100; i++) {
  PAIRS[2 * i] = 0x30 + ((i / 10) | 0);
  PAIRS[2 * i + 1] = 0x30 + (i % 10);
}

/** ASCII characters (codes below 0x80) at p. */
export function writeAscii(b: Uint8Array, p: number, s: string): number {
  for (let i = 0; i < s.length; i++) b[p++] = s.charCodeAt(i);
  return p;
}

/** An integer 0 ≤ n < 2^32. */
export function writeUint(b: Uint8Array, p: number, n: number): number {
  let x = n >>> 0;
  const end = p + (x < 10 ? 1 : x < 100 ? 2 : x < 1000 ? 3 : x < 10_000 ? 4 : x < 100_000 ? 5 : x < 1_000_000 ? 6 : x < 10_000_000 ? 7 : x < 100_000_000 ? 8 : x < 1e9 ? 9 : 10);
  let q = end;
  while (x >= 100) {
    const d = (x / 100) >>> 0;
    const r = (x - 100 * d) << 1;
    b[--q] = PAIRS[r + 1];
    b[--q] = PAIRS[r];
    x = d;
  }
  if (x >= 10) {
    b[--q] = PAIRS[2 * x + 1];
    b[--q] = PAIRS[2 * x];
  } else b[--q] = 0x30 + x;
  return end;
}

/** An IPv4 address's dotted digits from its 32-bit number (first byte highest); returns the end. */
export function writeIPv4(b: Uint8Array, p: number, v4: number): number {
  p = writeUint(b, p, v4 >>> 24);
  b[p++] = 0x2e;
  p = writeUint(b, p, (v4 >>> 16) & 0xff);
  b[p++] = 0x2e;
  p = writeUint(b, p, (v4 >>> 8) & 0xff);
  b[p++] = 0x2e;
  return writeUint(b, p, v4 & 0xff);
}

/** An integer 0 ≤ n < 10^width in exactly `width` digits (zeros in front). */
export function writePadded(b: Uint8Array, p: number, n: number, width: number): number {
  let x = n >>> 0;
  const end = p + width;
  let q = end;
  for (let k = width; k >= 2; k -= 2) {
    const d = (x / 100) >>> 0;
    const r = (x - 100 * d) << 1;
    b[--q] = PAIRS[r + 1];
    b[--q] = PAIRS[r];
    x = d;
  }
  if (q > p) b[p] = 0x30 + x;
  return end;
}

/**
 * A double handed from one writer below to another through memory: passed as an argument to a call
 * that is not inlined, a number that is not a small integer (a time, a sequence number of 2^31 or
 * more) is boxed, an allocation per number. (An integer below 2^32 is passed as `n | 0` instead:
 * writeUint reads it back unsigned.)
 */
const X = new Float64Array(1);

/** An integer 0 ≤ n < 2^53 (eight digits at a time, in 32-bit arithmetic). */
export function writeDigits(b: Uint8Array, p: number, n: number): number {
  X[0] = n;
  return digitsOfX(b, p);
}

/** writeDigits of X[0]. */
function digitsOfX(b: Uint8Array, p: number): number {
  const n = X[0];
  if (n < 4294967296) return writeUint(b, p, n | 0);
  const hi = Math.floor(n / 100_000_000);
  return writePadded(b, writeUint(b, p, hi), n - hi * 100_000_000, 8);
}

/**
 * A number as JSON.stringify writes it (NaN, standing for null, as null): the number at a[i]. It
 * is read from the array here, not passed, since a double passed to a call that is not inlined is
 * boxed: an allocation per number. Times are milliseconds with microseconds in the fraction, and
 * printing a fraction the generic way (shortest round trip) costs more than the rest of a
 * connection: a fraction of at most three digits is printed from integers instead. That text is
 * what the generic way prints whenever its value is the number: below 2^43 two such texts that
 * differ are more than an ulp apart, so no shorter one rounds to the same number, and m / 1000 and
 * the parsed text are both the exact quotient correctly rounded.
 */
export function writeNumber(b: Uint8Array, p: number, a: Float64Array, i: number): number {
  const n = a[i];
  // counts, ports, sizes (and -0, which JSON writes as 0)
  if (n >= 0 && n < 4294967296 && Math.floor(n) === n) return writeUint(b, p, n | 0);
  if (n > 0.001 && n < 8796093022208) {
    const m = Math.round(n * 1000);
    if (m / 1000 === n) {
      X[0] = m;
      return thousandthsOfX(b, p);
    }
  }
  if (!Number.isFinite(n)) {
    b[p] = 0x6e; // null
    b[p + 1] = 0x75;
    b[p + 2] = 0x6c;
    b[p + 3] = 0x6c;
    return p + 4;
  }
  if (n > 0 && n <= Number.MAX_SAFE_INTEGER && Number.isInteger(n)) {
    X[0] = n;
    return digitsOfX(b, p);
  }
  if (n >= 1e-6 && n < 8796093022208) {
    X[0] = n;
    const q = dyadicOfX(b, p);
    if (q >= 0) return q;
  }
  return writeAscii(b, p, String(n));
}

/** 5^e for e ≤ 22, exact as doubles. */
const POW5 = Float64Array.from({ length: 23 }, (_, e) => 5 ** e);

/**
 * A number of few binary fraction digits, in X[0] (the difference of two capture times: a multiple of
 * their ulp, 2^-12 ms today) as its exact decimal, which is then the shortest that reads back as
 * it: x = k / 2^e with k odd is N / 10^e for N = k·5^e, and when N < 2^53 every decimal of fewer
 * digits is at least 5 / 10^e from x, more than half its ulp. Returns -1 when x is not such a
 * number (the caller prints it the generic way). For 10^-6 ≤ x < 2^43, printed without exponent.
 */
function dyadicOfX(b: Uint8Array, p: number): number {
  const x = X[0];
  let k = x;
  let e = 0;
  while (Math.floor(k) !== k) {
    if (++e > 22) return -1;
    k *= 2;
  }
  const n = k * POW5[e];
  if (n >= 9007199254740992) return -1;
  X[0] = n;
  const end = digitsOfX(b, p);
  const len = end - p;
  if (len > e) {
    // the point before the last e digits
    for (let i = end; i > end - e; i--) b[i] = b[i - 1];
    b[end - e] = 0x2e;
    return end + 1;
  }
  // "0." and zeros before the digits
  const shift = e - len + 2;
  for (let i = end - 1; i >= p; i--) b[i + shift] = b[i];
  b[p] = 0x30;
  b[p + 1] = 0x2e;
  for (let i = p + 2; i < p + shift; i++) b[i] = 0x30;
  return end + shift;
}

/** m / 1000 for the integer 0 ≤ m < 2^53 in X[0], its fraction's trailing zeros (and point) dropped. */
function thousandthsOfX(b: Uint8Array, p: number): number {
  const m = X[0];
  // the digits of m, then the point moved in: below 10^8 in one part, else in two of 32 bits
  let lo = m;
  if (m >= 100_000_000) {
    const hi = Math.floor(m / 100_000_000);
    lo = m - hi * 100_000_000;
    p = writeUint(b, p, hi);
    p = writePadded(b, p, (lo / 1000) >>> 0, 5);
  } else p = writeUint(b, p, (lo / 1000) >>> 0);
  const frac = lo % 1000;
  if (frac === 0) return p;
  b[p++] = 0x2e;
  const d1 = (frac / 100) | 0;
  b[p++] = 0x30 + d1;
  const r = (frac - 100 * d1) << 1;
  if (r === 0) return p;
  b[p++] = PAIRS[r];
  if (PAIRS[r + 1] !== 0x30) b[p++] = PAIRS[r + 1];
  return p;
}

/** Appends JSON text to a growing buffer. */
export class JsonBytes {
  buf: Buffer;
  /** `buf` as words (writeLit). */
  dv: DataView;
  pos = 0;

  constructor(size: number) {
    this.buf = Buffer.allocUnsafe(Math.max(256, size));
    this.dv = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.length);
  }

  /** Makes room for n more bytes after `pos` (the buffer may be replaced). */
  room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(2 * this.buf.length, this.pos + n));
    this.buf.copy(next, 0, 0, this.pos);
    this.set(next);
  }

  private set(b: Buffer): void {
    this.buf = b;
    this.dv = new DataView(b.buffer, b.byteOffset, b.length);
  }

  /** A string of ASCII characters that JSON writes as they are. */
  ascii(s: string): void {
    this.room(s.length);
    this.pos = writeAscii(this.buf, this.pos, s);
  }

  /** Text prepared once. */
  lit(k: Lit): void {
    this.room(k.length + LIT_PAD);
    this.pos = writeLit(this.buf, this.dv, this.pos, k);
  }

  /** Any JSON text (UTF-8). */
  text(s: string): void {
    this.room(3 * s.length);
    this.pos += this.buf.write(s, this.pos, 'utf8');
  }

  str(s: string | null): void {
    if (s === null) return this.ascii('null');
    this.room(s.length + 2);
    this.buf[this.pos++] = 0x22;
    this.ascii(s);
    this.buf[this.pos++] = 0x22;
  }

  /** One byte (an ASCII character's code). */
  byte(c: number): void {
    this.room(1);
    this.buf[this.pos++] = c;
  }

  private readonly one = new Float64Array(1);

  /** A number, or null. */
  num(n: number | null): void {
    this.room(NUMBER_MAX);
    this.one[0] = n === null ? NaN : n;
    this.pos = writeNumber(this.buf, this.pos, this.one, 0);
  }

  /**
   * What `write` writes of `arg`, as text: written from the start of this buffer, which is left
   * empty again (a scratch buffer for one piece of text at a time; `write` must not use it itself).
   */
  textOf<T>(write: (w: JsonBytes, arg: T) => void, arg: T): string {
    this.pos = 0;
    write(this, arg);
    const s = this.buf.toString('utf8', 0, this.pos);
    this.pos = 0;
    return s;
  }

  result(): Buffer {
    return this.buf.subarray(0, this.pos);
  }

  /** What was written, handed over; writing goes on in a new buffer of `size` bytes. */
  take(size: number): Buffer {
    const out = this.buf.subarray(0, this.pos);
    this.set(Buffer.allocUnsafe(Math.max(256, size)));
    this.pos = 0;
    return out;
  }
}

/** Prepared text at p (`dv`: the same bytes as `b`, with LIT_PAD bytes of room after the text). */
export function writeLit(b: Uint8Array, dv: DataView, p: number, k: Lit): number {
  const w = k.words;
  for (let i = 0, q = p; i < w.length; i++, q += 8) dv.setFloat64(q, w[i], true);
  return p + k.length;
}

/** The buffer one record's text is written in before it is read as a string (JsonBytes.textOf). */
export const textScratch = new JsonBytes(1024);
