import { damaged, MAX_PACKET, truncated } from './errors';
import type { FileError } from './errors';
import type { Frame } from './frame';
import { FrameBytes, type CaptureFormat, type CaptureParser, type FrameSink } from './parser';

const FILE_HEADER = 24;
const RECORD_HEADER = 16;

/**
 * Classic pcap (microsecond and nanosecond magic, either byte order).
 *
 * The format is a 24-byte file header and then records of a 16-byte header (seconds, fraction,
 * captured and original length) and the captured bytes. The reader walks the records straight
 * from each chunk, validates each length (the file's snap length when it is sane, and MAX_PACKET
 * always) before it trusts it, and delivers each frame from the chunk it lies in; a record split
 * across chunks is stitched into one buffer first. (pcap-parser, which this reader used to hand
 * its checked records to, allocated a header object and a Buffer view per packet and parsed each
 * header a second time: it cost twice what the rest of reading a file does.)
 *
 * One Frame object is reused for every packet; a frame is valid only during the sink call.
 */
export class PcapReader implements CaptureParser {
  format: CaptureFormat = 'pcap';
  frames = 0;
  error: FileError | null = null;
  paused = false;
  linkType = -1;

  /** Whole records scanned; the next one is packet `records + 1`. */
  private records = 0;
  private le = true;
  private nano = false;
  private recordLimit = MAX_PACKET;
  private headerDone = false;
  /** Stream offset of the first byte of the chunk being read, and of the byte after it. */
  private base = 0;
  private next = 0;
  private ended = false;

  /** The chunk being read (kept while the consumer has paused in it), and where reading resumes. */
  private chunk: Buffer | null = null;
  private view: DataView<ArrayBufferLike> = new DataView(new ArrayBuffer(0));
  private pos = 0;

  // A record (or the file header) split across chunks: its first bytes go to `scratch` until its
  // length is known, then the whole record is assembled in `carry`.
  private pendStart = -1;
  private readonly scratch = Buffer.alloc(FILE_HEADER);
  private scratchFill = 0;
  private carry: Buffer | null = null;
  private carryFill = 0;

  private readonly frame: Frame = { tsSec: 0, tsNsec: 0, linkType: 0, data: Buffer.alloc(0), capLen: 0, origLen: 0 };
  private readonly bytes = new FrameBytes();

  constructor(private readonly sink: FrameSink) {}

  push(chunk: Buffer): void {
    if (this.error !== null || this.ended) return;
    this.base = this.next;
    this.next += chunk.length;
    let pos = 0;
    if (!this.headerDone) {
      const n = Math.min(FILE_HEADER - this.scratchFill, chunk.length);
      chunk.copy(this.scratch, this.scratchFill, 0, n);
      this.scratchFill += n;
      pos = n;
      if (this.scratchFill < FILE_HEADER) return;
      this.scratchFill = 0;
      if (!this.fileHeader()) return;
    }
    this.chunk = chunk;
    this.view = FrameBytes.view(chunk);
    this.pos = pos;
    this.run();
  }

  resume(): void {
    this.paused = false;
    this.run();
  }

  end(): void {
    if (this.ended) return;
    this.ended = true;
    if (this.error !== null) return;
    if (!this.headerDone) {
      if (this.scratchFill === 0) {
        this.error = { code: 'empty-file', offset: 0, message: 'the capture is empty (0 bytes)' };
      } else {
        this.error = truncated(
          'truncated-header',
          0,
          1,
          `input ends after ${this.scratchFill} bytes, inside the ${FILE_HEADER}-byte pcap file header`,
        );
      }
      return;
    }
    if (this.pendStart < 0) return;
    const have = this.carry === null ? this.scratchFill : this.carryFill;
    const what =
      this.carry === null
        ? `input ends after ${have} of the record's ${RECORD_HEADER} header bytes`
        : `input ends after ${have} of the record's ${this.carry.length} bytes`;
    this.error = truncated('truncated-record', this.pendStart, this.records + 1, what);
  }

  /** Reads on in the current chunk until it is used up, the consumer pauses, or damage. */
  private run(): void {
    const chunk = this.chunk;
    if (chunk === null || this.error !== null) return;
    if (this.pendStart >= 0) {
      const pos = this.continueCarry(chunk, this.pos);
      if (pos < 0) {
        this.chunk = null;
        return;
      }
      this.pos = pos;
      if (this.paused) return;
    }
    this.scan(chunk);
  }

  private fileHeader(): boolean {
    const h = this.scratch;
    const m0 = h[0];
    const m1 = h[1];
    const m2 = h[2];
    const m3 = h[3];
    if (m0 === 0xd4 && m1 === 0xc3 && m2 === 0xb2 && m3 === 0xa1) this.le = true;
    else if (m0 === 0xa1 && m1 === 0xb2 && m2 === 0xc3 && m3 === 0xd4) this.le = false;
    else if (m0 === 0x4d && m1 === 0x3c && m2 === 0xb2 && m3 === 0xa1) (this.le = true), (this.nano = true);
    else if (m0 === 0xa1 && m1 === 0xb2 && m2 === 0x3c && m3 === 0x4d) (this.le = false), (this.nano = true);
    else {
      this.error = {
        code: 'bad-magic',
        offset: 0,
        message: `not a pcap file: magic 0x${h.toString('hex', 0, 4)} at byte 0`,
      };
      return false;
    }
    this.format = this.nano ? 'pcap-ns' : 'pcap';
    const major = this.le ? h.readUInt16LE(4) : h.readUInt16BE(4);
    const minor = this.le ? h.readUInt16LE(6) : h.readUInt16BE(6);
    if (major !== 2) {
      this.error = {
        code: 'unsupported-version',
        offset: 4,
        message: `unsupported pcap version ${major}.${minor} at byte 4 (only 2.x exists)`,
      };
      return false;
    }
    const snaplen = this.le ? h.readUInt32LE(16) : h.readUInt32BE(16);
    // Writers put 0 or huge values here when they mean "no limit"; then only MAX_PACKET applies.
    this.recordLimit = snaplen > 0 && snaplen <= MAX_PACKET ? snaplen : MAX_PACKET;
    // The upper 16 bits carry FCS information in newer files, not the link type.
    this.linkType = (this.le ? h.readUInt32LE(20) : h.readUInt32BE(20)) & 0xffff;
    this.headerDone = true;
    return true;
  }

  /** Checks a record's captured length; on damage records the error and returns false. */
  private checkLength(capLen: number, at: number): boolean {
    if (capLen <= this.recordLimit) return true;
    const limit =
      this.recordLimit < MAX_PACKET ? `the file's snap length ${this.recordLimit}` : `${MAX_PACKET}`;
    this.error = damaged('record-too-large', at, this.records + 1, `record length ${capLen} exceeds ${limit}`);
    return false;
  }

  /** Delivers whole records from `this.pos` until the consumer pauses; starts a carry for a partial one. */
  private scan(chunk: Buffer): void {
    const end = chunk.length;
    const v = this.view;
    const le = this.le;
    let pos = this.pos;
    while (end - pos >= RECORD_HEADER) {
      if (this.paused) {
        this.pos = pos;
        return;
      }
      const capLen = v.getUint32(pos + 8, le);
      if (!this.checkLength(capLen, this.base + pos)) {
        this.chunk = null;
        return;
      }
      const next = pos + RECORD_HEADER + capLen;
      if (next > end) break;
      this.records++;
      this.deliver(chunk, v, pos, capLen);
      pos = next;
    }
    this.chunk = null;
    if (pos === end) return;
    this.pendStart = this.base + pos;
    const rest = end - pos;
    if (rest < RECORD_HEADER) {
      chunk.copy(this.scratch, 0, pos, end);
      this.scratchFill = rest;
      return;
    }
    // The header is here and already checked; only the body runs past this chunk.
    const capLen = v.getUint32(pos + 8, le);
    this.carry = Buffer.allocUnsafe(RECORD_HEADER + capLen);
    this.carryFill = chunk.copy(this.carry, 0, pos, end);
  }

  /** Adds bytes to a record split across chunks, delivering it once whole; returns where reading resumes, or -1. */
  private continueCarry(chunk: Buffer, pos: number): number {
    if (this.carry === null) {
      const n = Math.min(RECORD_HEADER - this.scratchFill, chunk.length - pos);
      chunk.copy(this.scratch, this.scratchFill, pos, pos + n);
      this.scratchFill += n;
      pos += n;
      if (this.scratchFill < RECORD_HEADER) return -1;
      const capLen = this.le ? this.scratch.readUInt32LE(8) : this.scratch.readUInt32BE(8);
      if (!this.checkLength(capLen, this.pendStart)) return -1;
      this.carry = Buffer.allocUnsafe(RECORD_HEADER + capLen);
      this.carryFill = this.scratch.copy(this.carry, 0, 0, RECORD_HEADER);
    }
    const carry = this.carry;
    const n = Math.min(carry.length - this.carryFill, chunk.length - pos);
    chunk.copy(carry, this.carryFill, pos, pos + n);
    this.carryFill += n;
    pos += n;
    if (this.carryFill < carry.length) return -1;
    this.carry = null;
    this.carryFill = 0;
    this.scratchFill = 0;
    this.pendStart = -1;
    this.records++;
    this.deliver(carry, FrameBytes.view(carry), 0, carry.length - RECORD_HEADER);
    return pos;
  }

  /** The record at `pos` of `buf` (whole, its length checked) to the sink. */
  private deliver(buf: Buffer, v: DataView<ArrayBufferLike>, pos: number, capLen: number): void {
    const f = this.frame;
    const le = this.le;
    let sec = v.getUint32(pos, le);
    let frac = v.getUint32(pos + 4, le);
    // Out-of-range fractions occur in damaged or hand-made files; carry them rather than drop.
    if (this.nano) {
      if (frac >= 1e9) {
        sec += Math.floor(frac / 1e9);
        frac %= 1e9;
      }
      f.tsNsec = frac;
    } else {
      if (frac >= 1e6) {
        sec += Math.floor(frac / 1e6);
        frac %= 1e6;
      }
      f.tsNsec = frac * 1000;
    }
    f.tsSec = sec;
    f.linkType = this.linkType;
    f.data = this.bytes.take(buf, v, pos + RECORD_HEADER, capLen);
    f.capLen = capLen;
    f.origLen = v.getUint32(pos + 12, le);
    this.frames++;
    if (this.sink(f)) this.paused = true;
  }
}
