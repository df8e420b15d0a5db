import { u16, u32 } from './bytes';
import type { Segment } from './segment';

const EOL = 0;
const NOP = 1;
const MSS = 2;
const WSCALE = 3;
const SACK_PERMITTED = 4;
const SACK = 5;
const TIMESTAMPS = 8;

/**
 * The options in [start, end) of `d`, of which [start, capEnd) was captured, into `seg`, as
 * parseOptions reads them. The list nearly every segment after the handshake carries (Linux, the
 * BSDs, Windows with timestamps on), NOP, NOP, timestamps, is read as it stands, here, where the
 * compiler can take it into its caller; every other list goes option by option.
 */
export function readOptions(d: Buffer, start: number, end: number, capEnd: number, seg: Segment): void {
  if (end - start === 12 && capEnd >= end && d[start] === NOP && d[start + 1] === NOP && d[start + 2] === TIMESTAMPS && d[start + 3] === 10) {
    seg.hasTimestamps = true;
    seg.tsVal = u32(d, start + 4);
    seg.tsEcr = u32(d, start + 8);
    return;
  }
  parseOptions(d, start, end, capEnd, seg);
}

/**
 * Reads the TCP options in [start, end) of `d`, of which only [start, capEnd) was captured.
 * A list that breaks its own rules stops parsing with optionsMalformed; a list the snap length
 * cut stops with optionsTruncated. Either way what was read before stays, and the segment is kept.
 */
export function parseOptions(d: Buffer, start: number, end: number, capEnd: number, seg: Segment): void {
  let i = start;
  while (i < end) {
    if (i >= capEnd) {
      seg.optionsTruncated = true;
      return;
    }
    const kind = d[i];
    if (kind === EOL) return;
    if (kind === NOP) {
      i++;
      continue;
    }
    if (i + 1 >= end) {
      seg.optionsMalformed = true;
      return;
    }
    if (i + 1 >= capEnd) {
      seg.optionsTruncated = true;
      return;
    }
    const len = d[i + 1];
    if (len < 2 || i + len > end) {
      seg.optionsMalformed = true;
      return;
    }
    if (i + len > capEnd) {
      seg.optionsTruncated = true;
      return;
    }
    switch (kind) {
      case MSS:
        if (len !== 4) return malformed(seg);
        seg.mss = u16(d, i + 2);
        break;
      case WSCALE:
        if (len !== 3) return malformed(seg);
        // Raw shift count as sent; RFC 7323 says to use 14 for anything larger, which is the
        // reader's business.
        seg.wscale = d[i + 2];
        break;
      case SACK_PERMITTED:
        if (len !== 2) return malformed(seg);
        seg.sackPermitted = true;
        break;
      case SACK:
        if (len < 10 || (len - 2) % 8 !== 0) return malformed(seg);
        seg.sackCount = (len - 2) >>> 3;
        seg.sackOff = i + 2;
        break;
      case TIMESTAMPS:
        if (len !== 10) return malformed(seg);
        seg.hasTimestamps = true;
        seg.tsVal = u32(d, i + 2);
        seg.tsEcr = u32(d, i + 6);
        break;
      default:
        break;
    }
    i += len;
  }
}

function malformed(seg: Segment): void {
  seg.optionsMalformed = true;
}
