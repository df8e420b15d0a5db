import { EventEmitter } from 'node:events';
import { damaged, MAX_PACKET, truncated } from './errors';
import type { FileError } from './errors';
import type { Frame } from './frame';
import type { CaptureFormat, CaptureParser, FrameSink } from './parser';

/** The part of pcap-parser 0.2.x this reader relies on (the package ships no types). */
interface PcapParserPacket {
  header: {
    timestampSeconds: number;
    timestampMicroseconds: number;
    capturedLength: number;
    originalLength: number;
  };
  data: Buffer;
}
interface PcapParserInstance extends EventEmitter {
  /** Its unparsed input; see feed() for why it is touched. */
  buffer: Buffer | null;
}
const pcapParser = require('pcap-parser') as { parse(input: EventEmitter): PcapParserInstance };

const FILE_HEADER = 24;
const RECORD_HEADER = 16;

/**
 * Classic pcap (microsecond and nanosecond magic, either byte order), read by pcap-parser with a
 * thin scanner in front of it.
 *
 * pcap-parser trusts every record length: a damaged one makes it buffer the rest of the input
 * waiting for a body that never comes, and it copies its whole buffer on every chunk. So the scanner
 * walks the record headers itself, validates each length (the file's snap length when it is sane,
 * and MAX_PACKET always), and hands pcap-parser only runs of whole records. It therefore always ends
 * a feed on a record boundary and never sees damage; a record split across chunks is stitched into
 * one buffer here. pcap-parser knows only the microsecond magic, so it gets a copy of the file
 * header with the magic rewritten, and for nanosecond files its "microseconds" are nanoseconds.
 *
 * One Frame object is reused for every packet; a frame is valid only during the sink call.
 */
export class PcapReader implements CaptureParser {
  format: CaptureFormat = 'pcap';
  frames = 0;
  error: FileError | null = null;
  paused = false;
  linkType = -1;

  /** Whole records scanned (handed to pcap-parser); the next one is packet `records + 1`. */
  private records = 0;
  private le = true;
  private nano = false;
  private recordLimit = MAX_PACKET;
  private headerDone = false;
  /** Stream offset of the start of the chunk being scanned. */
  private base = 0;
  private ended = false;

  // A record (or the file header) split across chunks: its first bytes go to `scratch` until its
  // length is known, then the whole record is assembled in `carry`.
  private pendStart = -1;
  private readonly scratch = Buffer.alloc(FILE_HEADER);
  private scratchFill = 0;
  private carry: Buffer | null = null;
  private carryFill = 0;

  private readonly feeder = new EventEmitter();
  private readonly parser: PcapParserInstance;
  /** Packets pcap-parser produced while the consumer was busy, delivered on resume(). */
  private queue: PcapParserPacket[] = [];
  private queueHead = 0;

  private readonly frame: Frame = { tsSec: 0, tsNsec: 0, linkType: 0, data: Buffer.alloc(0), capLen: 0, origLen: 0 };

  constructor(private readonly sink: FrameSink) {
    // pcap-parser pauses and resumes the stream it is given; ours pushes synchronously instead.
    const feeder = this.feeder as EventEmitter & { pause(): void; resume(): void };
    feeder.pause = () => {};
    feeder.resume = () => {};
    this.parser = pcapParser.parse(feeder);
    this.parser.on('packet', (p: PcapParserPacket) => this.onPacket(p));
    // It only errs on a header it cannot read, and it never gets one; a listener keeps an
    // unexpected one from becoming an uncaught exception.
    this.parser.on('error', () => {});
  }

  push(chunk: Buffer): void {
    if (this.error !== null || this.ended) return;
    let pos = 0;
    if (!this.headerDone) {
      const n = Math.min(FILE_HEADER - this.scratchFill, chunk.length);
      chunk.copy(this.scratch, this.scratchFill, 0, n);
      this.scratchFill += n;
      pos = n;
      if (this.scratchFill < FILE_HEADER) {
        this.base += chunk.length;
        return;
      }
      this.scratchFill = 0;
      if (!this.fileHeader()) return;
    }
    if (this.pendStart >= 0) pos = this.continueCarry(chunk, pos);
    if (pos >= 0) this.scan(chunk, pos);
    this.base += chunk.length;
  }

  resume(): void {
    this.paused = false;
    const q = this.queue;
    while (this.queueHead < q.length && !this.paused) this.deliver(q[this.queueHead++]);
    if (this.queueHead === q.length && q.length > 0) {
      this.queue = [];
      this.queueHead = 0;
    }
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

    const forParser = Buffer.from(h);
    const magic = Buffer.from(this.le ? [0xd4, 0xc3, 0xb2, 0xa1] : [0xa1, 0xb2, 0xc3, 0xd4]);
    magic.copy(forParser, 0);
    if (this.le) forParser.writeUInt16LE(4, 6);
    else forParser.writeUInt16BE(4, 6);
    this.feed(forParser);
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

  /** Walks whole records from `pos`, feeds them in one run, and starts a carry for a partial one. */
  private scan(chunk: Buffer, pos: number): void {
    const end = chunk.length;
    const start = pos;
    const le = this.le;
    let bad = false;
    while (end - pos >= RECORD_HEADER) {
      const capLen = le ? chunk.readUInt32LE(pos + 8) : chunk.readUInt32BE(pos + 8);
      if (!this.checkLength(capLen, this.base + pos)) {
        bad = true;
        break;
      }
      const next = pos + RECORD_HEADER + capLen;
      if (next > end) break;
      pos = next;
      this.records++;
    }
    if (pos > start) this.feed(start === 0 && pos === end ? chunk : chunk.subarray(start, pos));
    if (bad || pos === end) return;
    this.pendStart = this.base + pos;
    const rest = end - pos;
    if (rest < RECORD_HEADER) {
      chunk.copy(this.scratch, 0, pos, end);
      this.scratchFill = rest;
      return;
    }
    // The header is here and already checked; only the body runs past this chunk.
    const capLen = le ? chunk.readUInt32LE(pos + 8) : chunk.readUInt32BE(pos + 8);
    this.carry = Buffer.allocUnsafe(RECORD_HEADER + capLen);
    this.carryFill = chunk.copy(this.carry, 0, pos, end);
  }

  /** Adds bytes to a record split across chunks; returns where scanning resumes, or -1. */
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
    this.feed(carry);
    return pos;
  }

  private feed(buf: Buffer): void {
    // Every feed ends on a record boundary, so pcap-parser is left holding an empty buffer; as null
    // it takes the next chunk as is instead of copying it into a freshly allocated buffer.
    const p = this.parser;
    if (p.buffer !== null && p.buffer.length === 0) p.buffer = null;
    this.feeder.emit('data', buf);
  }

  private onPacket(p: PcapParserPacket): void {
    if (this.paused) this.queue.push(p);
    else this.deliver(p);
  }

  private deliver(p: PcapParserPacket): void {
    const f = this.frame;
    const h = p.header;
    let sec = h.timestampSeconds;
    let frac = h.timestampMicroseconds;
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
    f.data = p.data;
    f.capLen = h.capturedLength;
    f.origLen = h.originalLength;
    this.frames++;
    if (this.sink(f)) this.paused = true;
  }
}
