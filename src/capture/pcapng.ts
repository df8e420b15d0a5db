import { damaged, MAX_PACKET, truncated } from './errors';
import type { FileError } from './errors';
import type { Frame, FrameNote } from './frame';
import { HOST_LE } from '../decode/bytes';
import { FrameBytes, type CaptureParser, type FrameSink } from './parser';
import { DEFAULT_RESOLUTION, setTimestamp, TimestampClock, tsResolution, type TsResolution } from './pcapng-time';

const SHB = 0x0a0d0d0a;
const IDB = 0x00000001;
const PB = 0x00000002; // obsolete Packet Block
const SPB = 0x00000003;
const EPB = 0x00000006;

/** Type, total length and (for a section header) the byte-order magic: enough to size any block. */
const BLOCK_HEAD = 12;
/** Room a packet block may take beyond its packet: fixed fields, padding, trailer and options. */
const PACKET_BLOCK_OVERHEAD = 65536;
/** Blocks whose contents are read (packets, section and interface headers) are held whole. */
const READ_BLOCK_MAX = MAX_PACKET + PACKET_BLOCK_OVERHEAD;
/** Other blocks are skipped as they stream by; Wireshark refuses blocks over 16 MiB too. */
const SKIP_BLOCK_MAX = 16 * 1024 * 1024;

interface Interface {
  linkType: number;
  snapLen: number;
  res: TsResolution;
}

function minLength(type: number): number {
  switch (type) {
    case SHB:
      return 28;
    case IDB:
      return 20;
    case EPB:
    case PB:
      return 32;
    case SPB:
      return 16;
    default:
      return 12;
  }
}

function isRead(type: number): boolean {
  return type === SHB || type === IDB || type === EPB || type === PB || type === SPB;
}

/**
 * pcapng push parser. It keeps a cursor into the current chunk and stops where the input runs
 * out: a block split across chunks is assembled in one buffer (packet, section and interface
 * blocks) or skipped byte by byte (any other block), so memory stays bounded by the block caps
 * whatever lengths a damaged file claims.
 *
 * Sections may switch byte order; each section header forgets the previous section's interfaces.
 * Packets are enhanced, simple and obsolete packet blocks; they are numbered from 1 in file order.
 * One Frame object is reused for every packet; a frame is valid only during the sink call.
 */
export class PcapngReader implements CaptureParser {
  readonly format = 'pcapng' as const;
  frames = 0;
  error: FileError | null = null;
  paused = false;

  private le = true;
  private sections = 0;
  private ifaces: Interface[] = [];
  private ended = false;
  private bytesIn = 0;

  private chunk: Buffer | null = null;
  /** A DataView over exactly `chunk`. */
  private view: DataView<ArrayBufferLike> = new DataView(new ArrayBuffer(0));
  /** The chunk's whole words, when it starts on a word boundary (null otherwise). */
  private words: Int32Array | null = null;
  private pos = 0;
  /** Stream offset of the current chunk's first byte. */
  private base = 0;

  // A block split across chunks, starting at stream offset pendStart: its first BLOCK_HEAD bytes
  // collect in `head`; then it is either assembled in `carry` or skipped (skipLeft bytes to go,
  // the last four of which, the trailing length, collect in `tail`).
  private pendStart = -1;
  private pendLength = 0;
  private readonly head = Buffer.alloc(BLOCK_HEAD);
  private headFill = 0;
  private carry: Buffer | null = null;
  private carryFill = 0;
  private skipLeft = 0;
  private readonly tail = Buffer.alloc(4);

  private readonly frame: Frame = { tsSec: 0, tsNsec: 0, linkType: 0, data: Buffer.alloc(0), capLen: 0, origLen: 0, note: null };
  /** Packet blocks whose options could not be read (the packet itself is kept). */
  badOptions = 0;
  private readonly bytes = new FrameBytes();
  private readonly clock = new TimestampClock();

  constructor(private readonly sink: FrameSink) {}

  push(chunk: Buffer): void {
    if (this.error !== null || this.ended) return;
    this.bytesIn += chunk.length;
    this.chunk = chunk;
    this.view = FrameBytes.view(chunk);
    this.words = (chunk.byteOffset & 3) === 0 ? new Int32Array(chunk.buffer, chunk.byteOffset, chunk.length >> 2) : null;
    this.pos = 0;
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
    if (this.sections === 0) {
      this.error =
        this.bytesIn === 0
          ? { code: 'empty-file', offset: 0, message: 'the capture is empty (0 bytes)' }
          : truncated(
              'truncated-header',
              0,
              1,
              `input ends after ${this.bytesIn} bytes, inside the first section header block`,
            );
      return;
    }
    if (this.pendStart < 0) return;
    const what =
      this.carry === null && this.skipLeft === 0
        ? `input ends after ${this.headFill} bytes of a block header`
        : `input ends after ${this.pendingBytes()} of the block's ${this.pendLength} bytes`;
    this.error = truncated('truncated-record', this.pendStart, this.frames + 1, what);
  }

  private pendingBytes(): number {
    if (this.carry !== null) return this.carryFill;
    if (this.skipLeft > 0) return this.pendLength - this.skipLeft;
    return this.headFill;
  }

  private run(): void {
    const chunk = this.chunk;
    if (chunk === null) return;
    const end = chunk.length;
    while (!this.paused && this.error === null) {
      if (this.pendStart >= 0) {
        if (!this.continuePending(chunk)) break;
        continue;
      }
      this.packets(chunk, end);
      if (this.paused) break;
      const pos = this.pos;
      const avail = end - pos;
      if (avail === 0) break;
      const at = this.base + pos;
      if (avail < BLOCK_HEAD) {
        this.pendStart = at;
        this.headFill = chunk.copy(this.head, 0, pos, end);
        this.pos = end;
        break;
      }
      const length = this.blockLength(chunk, pos, at);
      if (length < 0) break;
      if (avail >= length) {
        this.pos = pos + length;
        this.block(chunk, pos, length, at);
        continue;
      }
      this.pendStart = at;
      this.pendLength = length;
      if (isRead(this.u32(chunk, pos))) {
        this.carry = Buffer.allocUnsafe(length);
        this.carryFill = chunk.copy(this.carry, 0, pos, end);
      } else {
        this.skipLeft = length;
        this.skip(chunk, pos, end);
      }
      this.pos = end;
      break;
    }
    if (this.pos === end && !this.paused) {
      this.base += end;
      this.chunk = null;
      this.words = null;
    }
  }

  /**
   * The common case, enhanced packet blocks lying whole in the chunk one after another, with every
   * check of the general path but read straight from the chunk. Stops at the first block that is
   * anything else (or damaged), which the general path then handles or names.
   */
  private packets(chunk: Buffer, end: number): void {
    // Blocks are whole words long, so one aligned block means every block of the run is aligned.
    if (this.le && HOST_LE && this.words !== null && (this.pos & 3) === 0) this.packetWords(chunk, this.words, end);
    else this.packetsViewed(chunk, end);
  }

  /**
   * packets() for a little-endian file on a little-endian machine with the blocks on word
   * boundaries (a file read in chunks always; a stream whose chunks are not whole words long falls
   * back to packetsViewed): each field is one element of an Int32Array, and the packet's bytes are
   * copied a word at a time. Values past 2^31 read negative and stop the run, as damage does.
   */
  private packetWords(chunk: Buffer, w: Int32Array, end: number): void {
    const ifaces = this.ifaces;
    const f = this.frame;
    const bytes = this.bytes;
    let pos = this.pos;
    while (end - pos >= 32 && !this.paused) {
      const i = pos >> 2;
      if (w[i] !== EPB) break;
      const length = w[i + 1];
      if ((length & 3) !== 0 || length < 32 || length > end - pos || length > READ_BLOCK_MAX) break;
      if (w[i + (length >> 2) - 1] !== length) break;
      const id = w[i + 2];
      if (id < 0 || id >= ifaces.length) break;
      const capLen = w[i + 5];
      if (capLen < 0 || capLen > MAX_PACKET || capLen > length - 32) break;
      const ifc = ifaces[id];
      this.clock.set(f, w[i + 3] >>> 0, w[i + 4] >>> 0, ifc.res);
      f.origLen = w[i + 6] >>> 0;
      f.linkType = ifc.linkType;
      f.data = bytes.takeWords(chunk, w, i + 7, capLen);
      f.capLen = capLen;
      const opts = pos + 28 + ((capLen + 3) & ~3);
      if (opts < pos + length - 4) f.note = this.packetOptions(chunk, opts, pos + length - 4);
      else if (f.note !== null) f.note = null;
      pos += length;
      this.pos = pos;
      this.frames++;
      if (this.sink(f)) this.paused = true;
    }
    this.pos = pos;
  }

  /** packets() through a DataView in the file's byte order: big-endian files or machines, blocks off word boundaries. */
  private packetsViewed(chunk: Buffer, end: number): void {
    const v = this.view;
    const le = this.le;
    const ifaces = this.ifaces;
    const f = this.frame;
    let pos = this.pos;
    while (end - pos >= 32 && !this.paused) {
      if (v.getUint32(pos, le) !== EPB) break;
      const length = v.getUint32(pos + 4, le);
      if ((length & 3) !== 0 || length < 32 || length > end - pos || length > READ_BLOCK_MAX) break;
      if (v.getUint32(pos + length - 4, le) !== length) break;
      const id = v.getUint32(pos + 8, le);
      if (id >= ifaces.length) break;
      const capLen = v.getUint32(pos + 20, le);
      if (capLen > MAX_PACKET || capLen > length - 32) break;
      const ifc = ifaces[id];
      setTimestamp(f, v.getUint32(pos + 12, le), v.getUint32(pos + 16, le), ifc.res);
      f.origLen = v.getUint32(pos + 24, le);
      f.linkType = ifc.linkType;
      f.data = this.bytes.take(chunk, v, pos + 28, capLen);
      f.capLen = capLen;
      const opts = pos + 28 + ((capLen + 3) & ~3);
      if (opts < pos + length - 4) f.note = this.packetOptions(chunk, opts, pos + length - 4);
      else if (f.note !== null) f.note = null;
      pos += length;
      this.pos = pos;
      this.frames++;
      if (this.sink(f)) this.paused = true;
    }
    this.pos = pos;
  }

  /** Feeds the current chunk to the pending block; true when it was finished (or failed). */
  private continuePending(chunk: Buffer): boolean {
    const end = chunk.length;
    let pos = this.pos;
    if (this.carry === null && this.skipLeft === 0) {
      const n = Math.min(BLOCK_HEAD - this.headFill, end - pos);
      chunk.copy(this.head, this.headFill, pos, pos + n);
      this.headFill += n;
      pos += n;
      this.pos = pos;
      if (this.headFill < BLOCK_HEAD) return false;
      const length = this.blockLength(this.head, 0, this.pendStart);
      if (length < 0) return false;
      this.pendLength = length;
      if (isRead(this.u32(this.head, 0))) {
        this.carry = Buffer.allocUnsafe(length);
        this.carryFill = this.head.copy(this.carry, 0, 0, BLOCK_HEAD);
      } else {
        this.skipLeft = length;
        this.skip(this.head, 0, BLOCK_HEAD);
      }
    }
    if (this.carry !== null) {
      const carry = this.carry;
      const n = Math.min(carry.length - this.carryFill, end - pos);
      chunk.copy(carry, this.carryFill, pos, pos + n);
      this.carryFill += n;
      this.pos = pos + n;
      if (this.carryFill < carry.length) return false;
      const at = this.pendStart;
      this.clearPending();
      this.block(carry, 0, carry.length, at);
      return true;
    }
    const n = Math.min(this.skipLeft, end - pos);
    this.skip(chunk, pos, pos + n);
    this.pos = pos + n;
    if (this.skipLeft > 0) return false;
    const at = this.pendStart;
    const length = this.pendLength;
    this.clearPending();
    const trailer = this.u32(this.tail, 0);
    if (trailer !== length) this.badTrailer(trailer, length, at);
    return true;
  }

  private clearPending(): void {
    this.pendStart = -1;
    this.carry = null;
    this.carryFill = 0;
    this.headFill = 0;
    this.skipLeft = 0;
  }

  /** Passes over bytes of a skipped block, keeping its last four (the trailing length). */
  private skip(buf: Buffer, from: number, to: number): void {
    for (let i = Math.max(from, to - 4); i < to; i++) {
      const left = this.skipLeft - (i - from);
      if (left <= 4) this.tail[4 - left] = buf[i];
    }
    this.skipLeft -= to - from;
  }

  private u32(buf: Buffer, off: number): number {
    return this.le ? buf.readUInt32LE(off) : buf.readUInt32BE(off);
  }

  private u16(buf: Buffer, off: number): number {
    return this.le ? buf.readUInt16LE(off) : buf.readUInt16BE(off);
  }

  /** Reads and checks a block's total length from its first 12 bytes; -1 (and `error`) on damage. */
  private blockLength(buf: Buffer, off: number, at: number): number {
    const raw = buf.readUInt32LE(off);
    let type: number;
    if (raw === SHB) {
      // A section header carries its own byte order; everything after it is read in that order.
      const bom = buf.readUInt32LE(off + 8);
      if (bom === 0x1a2b3c4d) this.le = true;
      else if (bom === 0x4d3c2b1a) this.le = false;
      else {
        this.error = damaged(
          'bad-block',
          at,
          this.frames + 1,
          `section header has byte-order magic 0x${buf.toString('hex', off + 8, off + 12)}, not 1a2b3c4d`,
        );
        return -1;
      }
      type = SHB;
    } else {
      type = this.u32(buf, off);
      if (this.sections === 0) {
        this.error = damaged('bad-block', at, 1, `the first block has type 0x${hex(type)}, not a section header`);
        return -1;
      }
    }
    const length = this.u32(buf, off + 4);
    const max = isRead(type) ? READ_BLOCK_MAX : SKIP_BLOCK_MAX;
    let problem = '';
    if (length % 4 !== 0) problem = 'is not a multiple of 4';
    else if (length < minLength(type)) problem = `is below the minimum ${minLength(type)} for block type 0x${hex(type)}`;
    else if (length > max) problem = `exceeds ${max} for block type 0x${hex(type)}`;
    if (problem !== '') {
      this.error = damaged('bad-block-length', at, this.frames + 1, `block length ${length} ${problem}`);
      return -1;
    }
    return length;
  }

  private badTrailer(trailer: number, length: number, at: number): void {
    this.error = damaged(
      'bad-block-length',
      at,
      this.frames + 1,
      `block length ${length} does not match the trailing length ${trailer}`,
    );
  }

  /** Handles one whole block of `length` bytes at buf[off]. */
  private block(buf: Buffer, off: number, length: number, at: number): void {
    const trailer = this.u32(buf, off + length - 4);
    if (trailer !== length) {
      this.badTrailer(trailer, length, at);
      return;
    }
    const type = buf.readUInt32LE(off) === SHB ? SHB : this.u32(buf, off);
    switch (type) {
      case EPB:
        this.packet(buf, off, length, at, this.u32(buf, off + 8));
        return;
      case SPB:
        this.simplePacket(buf, off, length, at);
        return;
      case PB:
        this.packet(buf, off, length, at, this.u16(buf, off + 8));
        return;
      case IDB:
        this.interface(buf, off, length, at);
        return;
      case SHB:
        this.section(buf, off, at);
        return;
      default:
        return;
    }
  }

  private section(buf: Buffer, off: number, at: number): void {
    const major = this.u16(buf, off + 12);
    const minor = this.u16(buf, off + 14);
    if (major !== 1) {
      this.error = {
        code: 'unsupported-version',
        offset: at + 12,
        packet: this.frames + 1,
        message: `unsupported pcapng version ${major}.${minor} in the section header at byte ${at}`,
      };
      return;
    }
    this.sections++;
    this.ifaces = [];
  }

  private interface(buf: Buffer, off: number, length: number, at: number): void {
    const linkType = this.u16(buf, off + 8);
    const snapLen = this.u32(buf, off + 12);
    let tsresol = 6;
    let offsetSec = 0;
    const end = off + length - 4;
    let p = off + 16;
    while (p + 4 <= end) {
      const code = this.u16(buf, p);
      const len = this.u16(buf, p + 2);
      if (code === 0) break;
      if (p + 4 + len > end) {
        this.error = damaged('bad-block', at, this.frames + 1, `interface option ${code} runs past the end of its block`);
        return;
      }
      if (code === 9 && len >= 1) tsresol = buf[p + 4];
      else if (code === 14 && len >= 8) {
        offsetSec = Number(this.le ? buf.readBigInt64LE(p + 4) : buf.readBigInt64BE(p + 4));
      }
      p += 4 + ((len + 3) & ~3);
    }
    const res = tsresol === 6 && offsetSec === 0 ? DEFAULT_RESOLUTION : tsResolution(tsresol, offsetSec);
    if (res === null) {
      this.error = damaged(
        'bad-block',
        at,
        this.frames + 1,
        `interface timestamp resolution 0x${tsresol.toString(16)} cannot be represented`,
      );
      return;
    }
    this.ifaces.push({ linkType, snapLen, res });
  }

  private iface(id: number, at: number): Interface | null {
    if (id < this.ifaces.length) return this.ifaces[id];
    this.error = damaged(
      'unknown-interface-id',
      at,
      this.frames + 1,
      `packet names interface ${id} but its section defines ${this.ifaces.length}`,
    );
    return null;
  }

  /** Enhanced and obsolete packet blocks share their layout after the interface id. */
  private packet(buf: Buffer, off: number, length: number, at: number, id: number): void {
    const ifc = this.iface(id, at);
    if (ifc === null) return;
    const capLen = this.u32(buf, off + 20);
    if (capLen > MAX_PACKET) {
      this.error = damaged('record-too-large', at, this.frames + 1, `record length ${capLen} exceeds ${MAX_PACKET}`);
      return;
    }
    if (28 + capLen > length - 4) {
      this.error = damaged(
        'bad-block',
        at,
        this.frames + 1,
        `captured length ${capLen} runs past the end of its ${length}-byte block`,
      );
      return;
    }
    const f = this.frame;
    setTimestamp(f, this.u32(buf, off + 12), this.u32(buf, off + 16), ifc.res);
    f.origLen = this.u32(buf, off + 24);
    const opts = off + 28 + ((capLen + 3) & ~3);
    f.note = opts < off + length - 4 ? this.packetOptions(buf, opts, off + length - 4) : null;
    this.emit(buf, off + 28, capLen, ifc.linkType);
  }

  private simplePacket(buf: Buffer, off: number, length: number, at: number): void {
    const ifc = this.iface(0, at);
    if (ifc === null) return;
    const origLen = this.u32(buf, off + 8);
    // The block holds min(original length, snap length) bytes, then padding.
    let capLen = Math.min(origLen, length - 16);
    if (ifc.snapLen > 0 && ifc.snapLen < capLen) capLen = ifc.snapLen;
    if (capLen > MAX_PACKET) {
      this.error = damaged('record-too-large', at, this.frames + 1, `record length ${capLen} exceeds ${MAX_PACKET}`);
      return;
    }
    // No timestamp in this block: the frame keeps the previous packet's time, so time never
    // jumps back to 1970 in the middle of a capture.
    this.frame.origLen = origLen;
    this.frame.note = null;
    this.emit(buf, off + 12, capLen, ifc.linkType);
  }

  /**
   * A packet block's comments (opt_comment) and direction (epb_flags), null when it has neither.
   * Options that run past their block are not read (counted in `badOptions`); the packet is kept,
   * as Wireshark keeps it.
   */
  private packetOptions(buf: Buffer, p: number, end: number): FrameNote | null {
    let note: FrameNote | null = null;
    while (p + 4 <= end) {
      const code = this.u16(buf, p);
      const len = this.u16(buf, p + 2);
      if (code === 0) break;
      if (p + 4 + len > end) {
        this.badOptions++;
        break;
      }
      if (code === 1) {
        note ??= { comments: [], direction: null };
        note.comments.push(buf.toString('utf8', p + 4, p + 4 + len));
      } else if (code === 2 && len === 4) {
        const dir = this.u32(buf, p + 4) & 3;
        if (dir !== 0) {
          note ??= { comments: [], direction: null };
          note.direction = dir === 1 ? 'in' : 'out';
        }
      }
      p += 4 + ((len + 3) & ~3);
    }
    return note;
  }

  private emit(buf: Buffer, dataOff: number, capLen: number, linkType: number): void {
    const f = this.frame;
    f.linkType = linkType;
    f.data = buf.subarray(dataOff, dataOff + capLen);
    f.capLen = capLen;
    this.frames++;
    if (this.sink(f)) this.paused = true;
  }
}

function hex(n: number): string {
  return n.toString(16).padStart(8, '0');
}
