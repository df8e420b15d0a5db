import type { LiveError } from './errors';
import type { Frame } from './frame';
import { stampFrom } from './live-clock';
import { SNAPLEN, type LiveCapture } from './live';

/**
 * The byte stream from the capture process to the main process: records, each a 20-byte header
 * and `len` bytes of payload, little-endian.
 *
 *   0  u8   kind (Rec)
 *   4  u32  hrtime seconds  } when the record was made (frames: when the packet was read), on the
 *   8  u32  hrtime nanos    } monotonic clock both processes share (process.hrtime)
 *  12  u32  origLen (FRAME) | frames not handed over (LOST) | frames read so far, mod 2^32 (BEAT)
 *           | packets the kernel dropped since the last KERNEL_DROPPED (KERNEL_DROPPED)
 *  16  u32  len: payload bytes that follow
 *
 * Frames go in capture order, and so do the records that mark a loss, which places every hole
 * exactly between the frames around it.
 */
export const enum Rec {
  /** A captured frame: payload = its first bytes (at most the snap length). */
  FRAME = 1,
  /** The capture is open: payload = JSON ReadyInfo. */
  READY = 2,
  /** Opening failed: payload = JSON LiveError; the process then exits. */
  ERROR = 3,
  /** Frames captured but dropped because the main process did not take them in time (header: count; time of the first). */
  LOST = 4,
  /** Still alive; sent every BEAT_EVERY_MS whatever the traffic. */
  BEAT = 5,
  /**
   * The kernel dropped packets (libpcap's ps_drop grew) because its ring was full: between the
   * frames before this record and those after. Header time: when the ring was last seen with room.
   */
  KERNEL_DROPPED = 6,
}

export const HEADER = 20;

/** Writes a record's header at `o` (the one place that knows its layout, above). */
export function writeHeader(b: Buffer, o: number, kind: Rec, hrSec: number, hrNs: number, value: number, len: number): void {
  b[o] = kind;
  b.writeUInt32LE(hrSec >>> 0, o + 4);
  b.writeUInt32LE(hrNs, o + 8);
  b.writeUInt32LE(value >>> 0, o + 12);
  b.writeUInt32LE(len, o + 16);
}

/** One record on its own, outside any batch (READY, ERROR, LOST), stamped now. */
export function soloRecord(kind: Rec, value: number, json?: unknown): Buffer {
  const t = process.hrtime();
  const payload = json === undefined ? null : Buffer.from(JSON.stringify(json));
  const len = payload ? payload.length : 0;
  const b = Buffer.alloc(HEADER + len);
  writeHeader(b, 0, kind, t[0], t[1], value, len);
  if (payload) payload.copy(b, HEADER);
  return b;
}

export const BEAT_EVERY_MS = 200;

/** The opened capture as the capture process describes it to the reading side. */
export type ReadyInfo = Pick<LiveCapture, 'iface' | 'linkType' | 'filter' | 'kernelFilter' | 'bufferSize' | 'snapLength'>;

/** What the reading side is told, record by record. */
export interface HandoverSink {
  /** A frame, valid only during the call (the object and its bytes are reused). */
  frame(f: Frame): void;
  ready(info: ReadyInfo): void;
  error(e: LiveError): void;
  /** `count` frames captured from `fromMs` (capture clock, epoch ms) were not handed over. */
  lost(count: number, fromMs: number): void;
  /** The kernel dropped `count` packets after `fromMs` because its ring was full. */
  kernelDropped(count: number, fromMs: number): void;
  beat(): void;
}

/** The capture process's side: packs records into one reused buffer and hands each batch to `flush`. */
export class BatchWriter {
  private readonly size: number;
  private buf: Buffer;
  private n = 0;
  count = 0;

  /** `size` is raised to hold a frame of SNAPLEN bytes when it would not. */
  constructor(
    size: number,
    private readonly flush: (batch: Buffer, frames: number) => void,
  ) {
    this.size = Math.max(size, HEADER + SNAPLEN);
    this.buf = Buffer.allocUnsafe(this.size);
  }

  get empty(): boolean {
    return this.n === 0;
  }

  /** Bytes waiting to be sent. */
  get bytes(): number {
    return this.n;
  }

  /** Appends a frame read at hrtime (sec, ns); copies at most SNAPLEN of its bytes. */
  frame(hrSec: number, hrNs: number, data: Buffer, capLen: number, origLen: number): void {
    const len = capLen < SNAPLEN ? capLen : SNAPLEN;
    if (this.n + HEADER + len > this.size) this.send();
    const o = this.n;
    writeHeader(this.buf, o, Rec.FRAME, hrSec, hrNs, origLen, len);
    data.copy(this.buf, o + HEADER, 0, len);
    this.n = o + HEADER + len;
    this.count++;
  }

  /** Appends a record without frame bytes (LOST, BEAT), or with a JSON payload (READY, ERROR). */
  control(kind: Rec, hrSec: number, hrNs: number, value: number, json?: unknown): void {
    const payload = json === undefined ? null : Buffer.from(JSON.stringify(json));
    const len = payload ? payload.length : 0;
    if (this.n + HEADER + len > this.size) this.send();
    const o = this.n;
    writeHeader(this.buf, o, kind, hrSec, hrNs, value, len);
    if (payload) payload.copy(this.buf, o + HEADER);
    this.n = o + HEADER + len;
  }

  /** Hands the batch over (if any) and starts the next; `flush` must copy what it keeps of it. */
  send(): void {
    if (this.n === 0) return;
    const out = this.buf.subarray(0, this.n);
    const frames = this.count;
    this.n = 0;
    this.count = 0;
    this.flush(out, frames);
  }
}

/** The largest record: a header and a JSON payload are bounded by this. */
const MAX_RECORD = HEADER + 64 * 1024;

/**
 * The main process's side: takes the stream in whatever chunks the pipe gives and calls the sink
 * once per record, in order. Frames are copied into one buffer and handed over in one reused Frame
 * (stamped on this process's live clock), so a frame costs no allocation.
 */
export class RecordReader {
  private readonly carry = Buffer.allocUnsafe(MAX_RECORD);
  private carried = 0;
  private readonly bytes = Buffer.allocUnsafe(SNAPLEN);
  private readonly views: (Buffer | undefined)[] = new Array(SNAPLEN + 1);
  private readonly f: Frame;
  /** Set when the stream breaks the format; nothing more is read. */
  broken: string | null = null;

  constructor(
    linkType: number,
    private readonly sink: HandoverSink,
  ) {
    this.f = { tsSec: 0, tsNsec: 0, linkType, data: this.bytes.subarray(0, 0), capLen: 0, origLen: 0 };
  }

  set linkType(t: number) {
    this.f.linkType = t;
  }

  push(chunk: Buffer): void {
    if (this.broken) return;
    let off = 0;
    if (this.carried > 0) {
      // finish the record begun in the chunk before
      if (this.carried < HEADER) {
        const take = Math.min(HEADER - this.carried, chunk.length);
        chunk.copy(this.carry, this.carried, 0, take);
        this.carried += take;
        off = take;
        if (this.carried < HEADER || !this.check(this.carry, 0)) return;
      }
      const whole = HEADER + this.carry.readUInt32LE(16);
      const take = Math.min(whole - this.carried, chunk.length - off);
      chunk.copy(this.carry, this.carried, off, off + take);
      this.carried += take;
      off += take;
      if (this.carried < whole) return;
      this.carried = 0;
      this.record(this.carry, 0);
    }
    const end = chunk.length;
    while (end - off >= HEADER) {
      if (!this.check(chunk, off)) return;
      const len = chunk.readUInt32LE(off + 16);
      if (end - off < HEADER + len) break;
      this.record(chunk, off);
      off += HEADER + len;
    }
    if (off < end) {
      chunk.copy(this.carry, 0, off, end);
      this.carried = end - off;
    }
  }

  private check(b: Buffer, o: number): boolean {
    const kind = b[o];
    const len = b.readUInt32LE(o + 16);
    if (kind < Rec.FRAME || kind > Rec.KERNEL_DROPPED || HEADER + len > MAX_RECORD || (kind === Rec.FRAME && len > SNAPLEN)) {
      this.broken = `malformed hand-over record (kind ${kind}, ${len} bytes)`;
      return false;
    }
    return true;
  }

  private record(b: Buffer, o: number): void {
    const kind = b[o];
    const hrSec = b.readUInt32LE(o + 4);
    const hrNs = b.readUInt32LE(o + 8);
    const value = b.readUInt32LE(o + 12);
    const len = b.readUInt32LE(o + 16);
    if (kind === Rec.FRAME) {
      const f = this.f;
      // Byte by byte: Buffer#copy from an offset makes a Uint8Array view of the source for each
      // call, which was the one allocation per frame left on this path (a frame is mostly its
      // ~70 bytes of headers).
      const dst = this.bytes;
      const from = o + HEADER;
      for (let i = 0; i < len; i++) dst[i] = b[from + i];
      let view = this.views[len];
      if (view === undefined) view = this.views[len] = this.bytes.subarray(0, len);
      stampFrom(f, hrSec, hrNs);
      f.data = view;
      f.capLen = len;
      f.origLen = value;
      this.sink.frame(f);
      return;
    }
    if (kind === Rec.BEAT) return this.sink.beat();
    if (kind === Rec.LOST || kind === Rec.KERNEL_DROPPED) {
      stampFrom(this.f, hrSec, hrNs);
      const ms = this.f.tsSec * 1000 + this.f.tsNsec / 1e6;
      return kind === Rec.LOST ? this.sink.lost(value, ms) : this.sink.kernelDropped(value, ms);
    }
    let json: unknown;
    try {
      json = JSON.parse(b.toString('utf8', o + HEADER, o + HEADER + len));
    } catch {
      this.broken = 'malformed hand-over record (JSON)';
      return;
    }
    if (kind === Rec.READY) this.sink.ready(json as ReadyInfo);
    else this.sink.error(json as LiveError);
  }
}
