import { closeSync, openSync, writeSync } from 'node:fs';
import type { Frame } from './frame';

const SHB = 0x0a0d0d0a;
const IDB = 0x00000001;
const EPB = 0x00000006;
/** Output is collected in a buffer of this size and written when it fills (or on flush). */
const OUT_BYTES = 1 << 20;

export type WriteError = { code: 'write-open-failed' | 'write-failed'; message: string };

/**
 * Writes frames to a pcapng file as tcpdump and dumpcap would (one section, one interface block
 * per link type, nanosecond timestamps), each packet block with its comments (opt_comment) and
 * direction (epb_flags) when given. Frames are copied into one output buffer, written with plain
 * blocking writes when it fills, on `flush()` and on `close()`: memory stays at that buffer's size.
 * A failed write stops the writing and is kept in `error`; the capture goes on.
 */
export class PcapngWriter {
  private fd: number;
  private readonly out = Buffer.allocUnsafe(OUT_BYTES);
  private fill = 0;
  private readonly ifaces = new Map<number, number>();
  error: WriteError | null = null;
  packets = 0;
  bytes = 0;

  private constructor(
    fd: number,
    private readonly path: string,
    private readonly ifaceName: string,
    private readonly filter: string | null,
  ) {
    this.fd = fd;
    this.section();
  }

  static open(path: string, iface: string, filter: string | null): PcapngWriter | WriteError {
    try {
      return new PcapngWriter(openSync(path, 'w'), path, iface, filter);
    } catch (e) {
      return { code: 'write-open-failed', message: `cannot write ${path}: ${(e as Error).message}` };
    }
  }

  /** Appends one packet; `comments` go in its block as opt_comment, `direction` as epb_flags. */
  write(f: Frame, comments: readonly string[] | null = null, direction: 'in' | 'out' | null = null): void {
    if (this.fd < 0) return;
    const id = this.iface(f.linkType);
    let opts = 0;
    const texts = comments?.map((c) => Buffer.from(c, 'utf8')) ?? [];
    for (const t of texts) opts += 4 + pad(t.length);
    if (direction !== null) opts += 8;
    if (opts > 0) opts += 4; // opt_endofopt
    const len = 32 + pad(f.capLen) + opts;
    const b = this.room(len);
    if (b === null) return;
    let p = this.fill;
    const ns = BigInt(f.tsSec) * 1_000_000_000n + BigInt(f.tsNsec);
    b.writeUInt32LE(EPB, p);
    b.writeUInt32LE(len, p + 4);
    b.writeUInt32LE(id, p + 8);
    b.writeUInt32LE(Number(ns >> 32n), p + 12);
    b.writeUInt32LE(Number(ns & 0xffffffffn), p + 16);
    b.writeUInt32LE(f.capLen, p + 20);
    b.writeUInt32LE(f.origLen, p + 24);
    f.data.copy(b, p + 28, 0, f.capLen);
    p += 28 + f.capLen;
    p = zero(b, p, pad(f.capLen) - f.capLen);
    for (const t of texts) {
      b.writeUInt16LE(1, p);
      b.writeUInt16LE(t.length, p + 2);
      t.copy(b, p + 4);
      p = zero(b, p + 4 + t.length, pad(t.length) - t.length);
    }
    if (direction !== null) {
      b.writeUInt16LE(2, p);
      b.writeUInt16LE(4, p + 2);
      b.writeUInt32LE(direction === 'in' ? 1 : 2, p + 4);
      p += 8;
    }
    if (opts > 0) p = zero(b, p, 4);
    b.writeUInt32LE(len, p);
    this.fill = p + 4;
    this.packets++;
    this.bytes += f.origLen;
  }

  /** Writes what the buffer holds. */
  flush(): void {
    if (this.fd < 0 || this.fill === 0) return;
    try {
      let off = 0;
      while (off < this.fill) off += writeSync(this.fd, this.out, off, this.fill - off);
    } catch (e) {
      this.fail(e);
    }
    this.fill = 0;
  }

  close(): void {
    this.flush();
    if (this.fd >= 0) {
      try {
        closeSync(this.fd);
      } catch (e) {
        this.error ??= { code: 'write-failed', message: `cannot write ${this.path}: ${(e as Error).message}` };
      }
    }
    this.fd = -1;
  }

  private fail(e: unknown): void {
    this.error = { code: 'write-failed', message: `cannot write ${this.path}: ${(e as Error).message}; writing stopped after ${this.packets} packets` };
    try {
      closeSync(this.fd);
    } catch {
      // already failing
    }
    this.fd = -1;
  }

  /** The buffer with room for `len` more bytes at `fill` (a block longer than the buffer gets one of its own). */
  private room(len: number): Buffer | null {
    if (this.fill + len > this.out.length) this.flush();
    if (this.fd < 0) return null;
    if (len > this.out.length) {
      // never: a block is at most a 256 KiB packet with a few comments
      return null;
    }
    return this.out;
  }

  private section(): void {
    const app = Buffer.from('tcpscope', 'utf8');
    const len = 28 + 4 + pad(app.length) + 4;
    const b = this.room(len)!;
    let p = this.fill;
    b.writeUInt32LE(SHB, p);
    b.writeUInt32LE(len, p + 4);
    b.writeUInt32LE(0x1a2b3c4d, p + 8);
    b.writeUInt16LE(1, p + 12);
    b.writeUInt16LE(0, p + 14);
    b.writeBigInt64LE(-1n, p + 16);
    p += 24;
    b.writeUInt16LE(4, p); // shb_userappl
    b.writeUInt16LE(app.length, p + 2);
    app.copy(b, p + 4);
    p = zero(b, p + 4 + app.length, pad(app.length) - app.length);
    p = zero(b, p, 4);
    b.writeUInt32LE(len, p);
    this.fill = p + 4;
  }

  /** The interface id of a link type, writing its interface block the first time. */
  private iface(linkType: number): number {
    const known = this.ifaces.get(linkType);
    if (known !== undefined) return known;
    const id = this.ifaces.size;
    this.ifaces.set(linkType, id);
    const name = Buffer.from(this.ifaceName, 'utf8');
    const filter = this.filter ? Buffer.from(this.filter, 'utf8') : null;
    let opts = 4 + pad(name.length) + 8 + 4; // if_name, if_tsresol, end
    if (filter) opts += 4 + pad(1 + filter.length);
    const len = 20 + opts;
    const b = this.room(len)!;
    let p = this.fill;
    b.writeUInt32LE(IDB, p);
    b.writeUInt32LE(len, p + 4);
    b.writeUInt16LE(linkType, p + 8);
    b.writeUInt16LE(0, p + 10);
    b.writeUInt32LE(262144, p + 12);
    p += 16;
    b.writeUInt16LE(2, p); // if_name
    b.writeUInt16LE(name.length, p + 2);
    name.copy(b, p + 4);
    p = zero(b, p + 4 + name.length, pad(name.length) - name.length);
    b.writeUInt16LE(9, p); // if_tsresol: nanoseconds
    b.writeUInt16LE(1, p + 2);
    b.writeUInt32LE(9, p + 4);
    p += 8;
    if (filter) {
      b.writeUInt16LE(11, p); // if_filter: a libpcap filter string
      b.writeUInt16LE(1 + filter.length, p + 2);
      b[p + 4] = 0;
      filter.copy(b, p + 5);
      p = zero(b, p + 5 + filter.length, pad(1 + filter.length) - 1 - filter.length);
    }
    p = zero(b, p, 4);
    b.writeUInt32LE(len, p);
    this.fill = p + 4;
    return id;
  }
}

function pad(n: number): number {
  return (n + 3) & ~3;
}

function zero(b: Buffer, p: number, n: number): number {
  b.fill(0, p, p + n);
  return p + n;
}
