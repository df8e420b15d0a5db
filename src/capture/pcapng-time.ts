/**
 * pcapng timestamps: a 64-bit count of units since the epoch, split in two u32 halves, where the
 * interface's `if_tsresol` sets the unit (10^-n or 2^-n seconds) and `if_tsoffset` adds seconds.
 *
 * A nanosecond count (~1.7e18 today) does not fit in a double's 53 bits, so the division by the
 * units per second is done in 16-bit limbs: each partial dividend stays below 2^53 as long as the
 * divisor is below 2^37. The fraction is then exact too: rem * 10^(9-n) for 10^-n, and
 * rem * 5^9 / 2^(n-9) for 2^-n (rem * 5^9 < 2^53 while n <= 32). Resolutions finer than 10^-11 or
 * 2^-32 take a BigInt path (they exist only in hand-made files). The decimal resolutions 10^-4 to
 * 10^-9, micro- and nanoseconds among them, need no limbs: one division, then the remainder is
 * recovered exactly from the low 32 bits.
 */
export interface TsResolution {
  /** Units per second. */
  readonly units: number;
  readonly decimal: boolean;
  /** The n of 10^-n or 2^-n. */
  readonly exponent: number;
  /** Seconds added to every timestamp (if_tsoffset). */
  readonly offsetSec: number;
  /** Too fine for the number path. */
  readonly big: boolean;
  /**
   * Nanoseconds per unit for the decimal resolutions 10^-4 … 10^-9 (micro- and nanoseconds among
   * them), which take the fast path below; 0 for every other resolution.
   */
  readonly nsPerUnit: number;
}

const LIMB = 65536;

/** Decodes the if_tsresol byte; null when the resolution cannot be represented. */
export function tsResolution(tsresol: number, offsetSec: number): TsResolution | null {
  const decimal = (tsresol & 0x80) === 0;
  const exponent = tsresol & 0x7f;
  if (decimal ? exponent > 19 : exponent > 63) return null;
  const big = decimal ? exponent > 11 : exponent > 32;
  const nsPerUnit = decimal && exponent >= 4 && exponent <= 9 ? 10 ** (9 - exponent) : 0;
  return { units: decimal ? 10 ** exponent : 2 ** exponent, decimal, exponent, offsetSec, big, nsPerUnit };
}

export const DEFAULT_RESOLUTION: TsResolution = tsResolution(6, 0)!;

/**
 * Writes seconds and nanoseconds of the count `hi * 2^32 + lo` into `out`. Small enough to be
 * compiled into its caller's loop for the common resolutions; the others take setTimestampOther.
 */
export function setTimestamp(
  out: { tsSec: number; tsNsec: number },
  hi: number,
  lo: number,
  res: TsResolution,
): void {
  const nsPerUnit = res.nsPerUnit;
  if (nsPerUnit === 0) {
    setTimestampOther(out, hi, lo, res);
    return;
  }
  // 10^4 <= u <= 10^9. The quotient of the (maybe rounded) count is off by at most one, and the
  // exact remainder is then in [-u, 2u): its low 32 bits, read as an int32, are the whole of it.
  const u = res.units;
  let sec = Math.floor((hi * 4294967296 + lo) / u);
  let rem = (lo - Math.imul(sec, u)) | 0;
  if (rem < 0) {
    sec--;
    rem += u;
  } else if (rem >= u) {
    sec++;
    rem -= u;
  }
  out.tsSec = sec + res.offsetSec;
  out.tsNsec = rem * nsPerUnit;
}

function setTimestampOther(out: { tsSec: number; tsNsec: number }, hi: number, lo: number, res: TsResolution): void {
  const u = res.units;
  let sec: number;
  let rem: number;
  if (res.big) {
    setTimestampBig(out, hi, lo, res);
    return;
  }
  if (hi < 0x100000) {
    // The whole count is below 2^52 (microsecond counts until the 22nd century): one division.
    const t = hi * 4294967296 + lo;
    sec = Math.floor(t / u);
    rem = t - sec * u;
    if (rem < 0) {
      sec--;
      rem += u;
    }
  } else {
    let cur = hi >>> 16;
    let d = Math.floor(cur / u);
    rem = cur - d * u;
    sec = d;
    cur = rem * LIMB + (hi & 0xffff);
    d = Math.floor(cur / u);
    rem = cur - d * u;
    sec = sec * LIMB + d;
    cur = rem * LIMB + (lo >>> 16);
    d = Math.floor(cur / u);
    rem = cur - d * u;
    sec = sec * LIMB + d;
    cur = rem * LIMB + (lo & 0xffff);
    d = Math.floor(cur / u);
    rem = cur - d * u;
    sec = sec * LIMB + d;
    if (sec >= 9007199254740992) {
      // Seconds past 2^53 (a coarse unit and a huge count) are rounded here, and the offset could
      // bring the sum back into the exact range: add it before rounding.
      setTimestampBig(out, hi, lo, res);
      return;
    }
  }
  out.tsSec = sec + res.offsetSec;
  out.tsNsec = fracToNsec(rem, res);
}

function fracToNsec(rem: number, res: TsResolution): number {
  if (res.decimal) {
    // exponents 4..9 never get here (nsPerUnit)
    if (res.exponent <= 9) return rem * 10 ** (9 - res.exponent);
    return Math.floor(rem / 10 ** (res.exponent - 9));
  }
  // 10^9 / 2^n = 5^9 / 2^(n-9); dividing by a power of two is exact.
  if (res.exponent >= 9) return Math.floor((rem * 1953125) / 2 ** (res.exponent - 9));
  return Math.floor((rem * 1e9) / res.units);
}

function setTimestampBig(out: { tsSec: number; tsNsec: number }, hi: number, lo: number, res: TsResolution): void {
  const t = (BigInt(hi) << 32n) | BigInt(lo);
  const u = res.decimal ? 10n ** BigInt(res.exponent) : 1n << BigInt(res.exponent);
  out.tsSec = Number.isSafeInteger(res.offsetSec) ? Number(t / u + BigInt(res.offsetSec)) : Number(t / u) + res.offsetSec;
  out.tsNsec = Number(((t % u) * 1_000_000_000n) / u);
}

/**
 * setTimestamp that remembers the second of the last count it converted: packets come in time
 * order, many to a second, so most fall in the same second as the one before and need no division
 * (a division and the conversions around it were a third of the time a packet block took). A count
 * is taken from the remembered second only when it lies in it exactly (same high half, same
 * resolution, at most a second's units past its start); any other count is converted in full.
 */
export class TimestampClock {
  private res: TsResolution | null = null;
  private hi = -1;
  /** The low half of the count where the remembered second starts. */
  private start = 0;
  /** That second (if_tsoffset included), as setTimestamp gave it. */
  private sec = 0;

  set(out: { tsSec: number; tsNsec: number }, hi: number, lo: number, res: TsResolution): void {
    const into = lo - this.start;
    if (res === this.res && hi === this.hi && into >= 0 && into < res.units) {
      out.tsSec = this.sec;
      out.tsNsec = into * res.nsPerUnit;
      return;
    }
    setTimestamp(out, hi, lo, res);
    const nsPerUnit = res.nsPerUnit;
    // (only the decimal resolutions 10^-4 … 10^-9 give back their remainder exactly)
    const start = nsPerUnit === 0 ? -1 : lo - out.tsNsec / nsPerUnit;
    if (start < 0) {
      // the second began under a lower high half, or this resolution is not remembered
      this.res = null;
      return;
    }
    this.res = res;
    this.hi = hi;
    this.start = start;
    this.sec = out.tsSec;
  }
}
