import type { Frame } from '../capture/frame';
import { FrameBytes } from '../capture/parser';
import { decodeFrame } from '../decode/decode';
import type { DecodeStatus, Segment } from '../decode/segment';
import { DECODE_STATUSES, STATUS_INDEX } from '../decode/status';

/**
 * Decoded frames packed into one ArrayBuffer, so a thread that reads and decodes a file can hand
 * thousands of them to the thread that tracks them in one message (a message per frame would cost
 * more than decoding it). The buffer is transferred, not copied, and comes back to be filled
 * again, so a file of any size moves through a fixed number of batches.
 *
 * A record starts at a multiple of 8 bytes: the frame's time (ms, float64), its original length
 * and decode status; a segment's fields follow only when the status is 'ok'. The payload is not
 * carried: a Segment read back has `buf` over this batch with the two addresses in it, and no
 * TCP header or SACK blocks behind `tcpOff`/`sackOff` (sackCount is the count decoded); `tcpOff`
 * keeps its distance from `srcOff`, which tells the IP header's length (Zeek's IP byte counts).
 *
 * A record may also hold the frame itself, undecoded (status byte RAW: link type, captured length
 * and bytes after the time and length); the reader then decodes it. This lets the writing thread
 * leave decoding to the reading one when it is itself the slower of the two.
 */
const SHORT = 16;
const LONG = 96;
const SRC = 64;
const DST = 80;
const RAW = 31;
const RAW_HEADER = 24;
/** A batch takes no more records once less than this is left. */
const ROOM = LONG;

const OPT_SACK = 1;
const OPT_TS = 2;
const OPT_MALFORMED = 4;
const OPT_TRUNCATED = 8;

export class SegmentBatchWriter {
  private readonly f64: Float64Array;
  private readonly i32: Int32Array;
  private readonly u16: Uint16Array;
  private readonly u8: Uint8Array;
  used = 0;
  count = 0;
  /** Bytes of the buffer this batch fills: all of it, unless told fewer (a first batch sent soon). */
  private readonly limit: number;

  constructor(
    readonly buffer: ArrayBuffer,
    limit = buffer.byteLength,
  ) {
    this.limit = Math.min(limit, buffer.byteLength);
    this.f64 = new Float64Array(buffer);
    this.i32 = new Int32Array(buffer);
    this.u16 = new Uint16Array(buffer);
    this.u8 = new Uint8Array(buffer);
  }

  /** Appends one decoded frame; false when the batch must be sent before another fits. */
  write(tsMs: number, origLen: number, status: DecodeStatus, seg: Segment): boolean {
    const o = this.used;
    const w = o >> 2;
    const h = o >> 1;
    const u8 = this.u8;
    this.f64[o >> 3] = tsMs;
    this.i32[w + 2] = origLen;
    u8[o + 12] = STATUS_INDEX[status];
    if (status !== 'ok') {
      this.used = o + SHORT;
    } else {
      const i32 = this.i32;
      const u16 = this.u16;
      u8[o + 13] = seg.family;
      u16[h + 7] = seg.flags;
      i32[w + 4] = seg.seq;
      i32[w + 5] = seg.ack;
      u16[h + 12] = seg.srcPort;
      u16[h + 13] = seg.dstPort;
      u16[h + 14] = seg.window;
      u16[h + 15] = seg.urgent;
      i32[w + 8] = seg.mss;
      i32[w + 9] = seg.wscale;
      i32[w + 10] = seg.payloadLen;
      i32[w + 11] = seg.capturedPayloadLen;
      i32[w + 12] = seg.tsVal;
      i32[w + 13] = seg.tsEcr;
      u8[o + 56] = seg.headerLen;
      u8[o + 57] = seg.ttl;
      u8[o + 58] = seg.encapDepth;
      u8[o + 59] =
        (seg.sackPermitted ? OPT_SACK : 0) |
        (seg.hasTimestamps ? OPT_TS : 0) |
        (seg.optionsMalformed ? OPT_MALFORMED : 0) |
        (seg.optionsTruncated ? OPT_TRUNCATED : 0);
      // sackCount is at most 4 (40 option bytes); it rides in the status byte's spare high bits
      u8[o + 12] |= seg.sackCount << 5;
      u16[h + 30] = seg.tcpOff - seg.srcOff;
      const n = seg.family === 4 ? 4 : 16;
      const b = seg.buf;
      for (let i = 0; i < n; i++) {
        u8[o + SRC + i] = b[seg.srcOff + i];
        u8[o + DST + i] = b[seg.dstOff + i];
      }
      this.used = o + LONG;
    }
    this.count++;
    return this.limit - this.used >= ROOM;
  }

  /**
   * Appends a frame undecoded, if it fits in what is left (false: write it decoded instead). The
   * batch has room for another record afterwards unless `full` says otherwise.
   */
  writeFrame(tsMs: number, f: Frame): boolean {
    const o = this.used;
    const end = (o + RAW_HEADER + f.capLen + 7) & ~7;
    if (end + ROOM > this.limit) return false;
    const w = o >> 2;
    this.f64[o >> 3] = tsMs;
    this.i32[w + 2] = f.origLen;
    this.u8[o + 12] = RAW;
    this.i32[w + 4] = f.linkType;
    this.i32[w + 5] = f.capLen;
    this.u8.set(f.data, o + RAW_HEADER);
    this.used = end;
    this.count++;
    return true;
  }
}

/** Reads a batch back: `next()` fills one reused Segment, valid until the next call. */
export class SegmentBatchReader {
  private readonly f64: Float64Array;
  private readonly i32: Int32Array;
  private readonly u16: Uint16Array;
  private readonly bytes: Buffer;
  private readonly view: DataView<ArrayBufferLike>;
  private readonly frameBytes: FrameBytes;
  private off = 0;
  private left: number;
  /** Of the record last read. */
  tsMs = 0;
  origLen = 0;
  status: DecodeStatus = 'ok';

  /** `frameBytes`: where undecoded frames are copied for decoding (one per thread will do). */
  constructor(buffer: ArrayBuffer, used: number, count: number, frameBytes: FrameBytes) {
    this.f64 = new Float64Array(buffer, 0, used >> 3);
    this.i32 = new Int32Array(buffer, 0, used >> 2);
    this.u16 = new Uint16Array(buffer, 0, used >> 1);
    this.bytes = Buffer.from(buffer, 0, used);
    this.view = FrameBytes.view(this.bytes);
    this.frameBytes = frameBytes;
    this.left = count;
  }

  /** Reads the next record into tsMs/origLen/status and, when it is 'ok', into `seg`. */
  next(seg: Segment): boolean {
    if (this.left === 0) return false;
    this.left--;
    const o = this.off;
    const w = o >> 2;
    const h = o >> 1;
    const u8 = this.bytes;
    this.tsMs = this.f64[o >> 3];
    this.origLen = this.i32[w + 2];
    const st = u8[o + 12];
    if (st === RAW) {
      const cap = this.i32[w + 5];
      const data = this.frameBytes.take(u8, this.view, o + RAW_HEADER, cap);
      this.status = decodeFrame(this.i32[w + 4], data, this.origLen, seg);
      this.off = (o + RAW_HEADER + cap + 7) & ~7;
      return true;
    }
    this.status = DECODE_STATUSES[st & 31];
    if (this.status !== 'ok') {
      this.off = o + SHORT;
      return true;
    }
    const i32 = this.i32;
    const u16 = this.u16;
    seg.family = u8[o + 13] === 6 ? 6 : 4;
    seg.buf = u8;
    seg.srcOff = o + SRC;
    seg.dstOff = o + DST;
    seg.flags = u16[h + 7];
    seg.seq = i32[w + 4] >>> 0;
    seg.ack = i32[w + 5] >>> 0;
    seg.srcPort = u16[h + 12];
    seg.dstPort = u16[h + 13];
    seg.window = u16[h + 14];
    seg.urgent = u16[h + 15];
    seg.mss = i32[w + 8];
    seg.wscale = i32[w + 9];
    seg.payloadLen = i32[w + 10];
    seg.capturedPayloadLen = i32[w + 11];
    seg.tsVal = i32[w + 12] >>> 0;
    seg.tsEcr = i32[w + 13] >>> 0;
    seg.headerLen = u8[o + 56];
    seg.ttl = u8[o + 57];
    seg.encapDepth = u8[o + 58];
    const opt = u8[o + 59];
    seg.sackPermitted = (opt & OPT_SACK) !== 0;
    seg.hasTimestamps = (opt & OPT_TS) !== 0;
    seg.optionsMalformed = (opt & OPT_MALFORMED) !== 0;
    seg.optionsTruncated = (opt & OPT_TRUNCATED) !== 0;
    seg.sackCount = st >> 5;
    seg.sackOff = 0;
    seg.tcpOff = seg.srcOff + u16[h + 30];
    this.off = o + LONG;
    return true;
  }
}
