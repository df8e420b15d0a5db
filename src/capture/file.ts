/**
 * Reads a capture file (classic pcap with micro- or nanosecond timestamps, or pcapng), plain or
 * gzip-compressed, from a path, from standard input ('-') or from a stream, and delivers its frames.
 *
 * Errors come back as values in `FileReadResult.error`, after every good frame before the problem
 * was delivered. `offset` is a byte offset in the (decompressed) capture and `packet` the 1-based
 * number of the packet that could not be read. Codes:
 *
 *   empty-file            the input has no bytes (or a gzip stream that holds none)
 *   bad-magic             the first four bytes are neither a pcap nor a pcapng magic number
 *   unsupported-version   pcap major version other than 2, pcapng section version other than 1
 *   truncated-header      the input ends inside the file header (pcap's 24 bytes, pcapng's first
 *                         section header block)
 *   truncated-record      the input ends inside a packet record (pcap) or a block (pcapng)
 *   record-too-large      a packet's captured length is over the file's snap length (pcap, when
 *                         that is between 1 and 262144) or over 262144 (MAX_PACKET)
 *   bad-block-length      a pcapng block length is not a multiple of 4, is below the minimum for
 *                         its type, is over the cap (MAX_PACKET + 64 KiB for blocks that are read,
 *                         16 MiB for skipped ones), or differs from the block's trailing copy
 *   bad-block             a pcapng block's contents contradict themselves: byte-order magic,
 *                         captured length past the block's end, options past the block's end,
 *                         an unrepresentable timestamp resolution, a first block that is not a
 *                         section header
 *   unknown-interface-id  a pcapng packet names an interface its section did not describe
 *   gzip-error            the compressed stream is damaged or ends early. A cut-off stream
 *                         delivers every frame in the bytes that could be decompressed; damaged
 *                         compressed data can lose up to 16 KiB of capture just before the damage
 *                         (zlib drops the output of the inflate step that hit the error)
 *   io-error              the input could not be opened or read
 *   aborted               opts.signal was aborted
 *   handler-error         onFrame (or onProgress) threw, or the promise onFrame returned rejected
 *
 * The frame passed to onFrame is reused for the next packet: it is valid only during the call (and,
 * when onFrame returns a promise, until that promise settles). Copy what must outlive it.
 */
import { createReadStream, promises as fsp } from 'node:fs';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import type { FileError, FileErrorCode } from './errors';
import type { Frame } from './frame';
import { ChunkPuller, FileChunks, type Chunks } from './chunk-puller';
import type { CaptureFormat, CaptureParser, FrameSink } from './parser';
import { PcapReader } from './pcap';
import { PcapngReader } from './pcapng';

export type { CaptureFormat } from './parser';
export type { FileErrorCode } from './errors';

export interface FileReadResult {
  /** null when the input ended or failed before its format could be told. */
  format: CaptureFormat | null;
  gzip: boolean;
  /** Frames delivered to onFrame. */
  frames: number;
  /** Bytes read from the input as stored (compressed bytes for a gzip file). */
  bytes: number;
  error: FileError | null;
}

export interface ReadCaptureOptions {
  /** Called after each chunk read from the input; totalBytes is the file size, null for streams. */
  onProgress?: (bytesRead: number, totalBytes: number | null) => void;
  signal?: AbortSignal;
}

/** Chunk size for files: large enough that few records straddle two chunks. */
const READ_CHUNK = 256 * 1024;
const MAGIC_LEN = 4;

export async function readCaptureFile(
  input: string | NodeJS.ReadableStream,
  onFrame: (f: Frame) => void | Promise<void>,
  opts: ReadCaptureOptions = {},
): Promise<FileReadResult> {
  const result: FileReadResult = { format: null, gzip: false, frames: 0, bytes: 0, error: null };
  const signal = opts.signal;
  const name = typeof input === 'string' ? (input === '-' ? 'standard input' : input) : 'the input stream';
  if (signal?.aborted) {
    result.error = fail('aborted', 'reading was aborted before it started');
    return result;
  }

  // a regular file is read into two buffers in turn (FileChunks), anything else as a stream
  let source: Readable | null = null;
  let file: FileChunks | null = null;
  let totalBytes: number | null = null;
  if (typeof input === 'string' && input !== '-') {
    try {
      const st = await fsp.stat(input);
      if (st.isDirectory()) {
        result.error = fail('io-error', `cannot read ${input}: it is a directory, not a capture file`);
        return result;
      }
      if (st.isFile()) totalBytes = st.size;
    } catch (e) {
      result.error = fail('io-error', `cannot read ${input}: ${describeError(e)}`);
      return result;
    }
    if (totalBytes !== null) file = new FileChunks(input, READ_CHUNK);
    else source = createReadStream(input, { highWaterMark: READ_CHUNK });
  } else {
    const s = input === '-' ? process.stdin : input;
    source = s instanceof Readable ? s : new Readable().wrap(s);
  }
  const ownSource = typeof input === 'string' && input !== '-';

  // Handler bookkeeping: the reader pauses while a promise from onFrame is pending.
  let pending: PromiseLike<void> | null = null;
  let handlerFailure: { error: unknown; what?: string } | null = null;
  const sink: FrameSink = (f) => {
    let r: void | Promise<void>;
    try {
      r = onFrame(f);
    } catch (e) {
      handlerFailure = { error: e };
      return true;
    }
    if (r != null && typeof (r as PromiseLike<void>).then === 'function') {
      pending = r;
      return true;
    }
    return false;
  };

  const raw: Chunks = file ?? new ChunkPuller(source!);
  let stream: Chunks = raw;
  let gunzip: ReturnType<typeof createGunzip> | null = null;
  let sourceFailed = false;
  let countRaw: ((c: Buffer) => void) | null = null;
  // Abort ends a pending read and a pending handler promise alike.
  let abortWait: () => void = () => {};
  const aborted = new Promise<void>((resolve) => (abortWait = resolve));
  const onAbort = () => {
    stream.fail(new Error('aborted'));
    abortWait();
  };
  signal?.addEventListener('abort', onAbort, { once: true });

  let parser: CaptureParser | null = null;
  let head: Buffer[] = [];
  let headLen = 0;

  const progress = (n: number) => {
    result.bytes += n;
    if (opts.onProgress === undefined || handlerFailure !== null) return;
    try {
      opts.onProgress(result.bytes, totalBytes);
    } catch (e) {
      // Reported like a failing frame handler; reading stops at the next frame or chunk.
      handlerFailure = { error: e, what: 'progress callback' };
    }
  };

  /** Delivers frames held back while onFrame's promise was pending; false when reading must stop. */
  const drain = async (p: CaptureParser): Promise<boolean> => {
    while (p.paused) {
      if (handlerFailure !== null) return false;
      if (pending !== null) {
        const outcome = Promise.resolve(pending).then(
          () => null,
          (e: unknown) => ({ error: e }),
        );
        pending = null;
        const failure = await Promise.race([outcome, aborted.then(() => null)]);
        if (failure !== null) {
          handlerFailure = failure;
          return false;
        }
      }
      if (signal?.aborted) return false;
      p.resume();
    }
    return handlerFailure === null;
  };

  /** Takes one chunk of capture bytes; false when reading must stop. */
  const take = async (chunk: Buffer): Promise<boolean> => {
    if (handlerFailure !== null) return false;
    if (parser === null) {
      head.push(chunk);
      headLen += chunk.length;
      if (headLen < MAGIC_LEN) return true;
      const first = head.length === 1 ? head[0] : Buffer.concat(head, headLen);
      head = [];
      parser = chooseParser(first, sink);
      if (parser === null) {
        result.error = badMagic(first);
        return false;
      }
      result.format = parser.format;
      chunk = first;
    }
    parser.push(chunk);
    if (parser.format !== result.format) result.format = parser.format;
    if (!(await drain(parser))) return false;
    return parser.error === null;
  };

  try {
    // Sniff gzip on the raw bytes, then switch to the decompressed stream.
    const first = await raw.next();
    if (first !== null) {
      progress(first.length);
      let lead = first;
      while (lead.length < 2) {
        const more = await raw.next();
        if (more === null) break;
        progress(more.length);
        lead = Buffer.concat([lead, more]);
      }
      if (lead.length >= 2 && lead[0] === 0x1f && lead[1] === 0x8b) {
        result.gzip = true;
        const gz = createGunzip();
        gunzip = gz;
        // (a chunk of FileChunks is overwritten by a later read: gunzip gets a copy)
        gz.write(file !== null ? Buffer.from(lead) : lead);
        const rest = file?.rest(READ_CHUNK) ?? source!;
        source = rest;
        for (const c of raw.detach()) {
          progress(c.length);
          gz.write(c);
        }
        const out = new ChunkPuller(gz);
        stream = out;
        // pipe() does not pass errors on: a failing source must end the decompressed stream too.
        rest.on('error', (e) => {
          sourceFailed = true;
          out.fail(e);
        });
        countRaw = (c: Buffer) => progress(c.length);
        rest.on('data', countRaw);
        rest.pipe(gz);
        rest.resume();
      } else {
        if (!(await take(lead))) return finish();
      }
    }
    for (;;) {
      if (signal?.aborted) break;
      const chunk = await stream.next();
      if (chunk === null) break;
      if (stream === raw) progress(chunk.length);
      if (!(await take(chunk))) return finish();
    }
    if (signal?.aborted) return finish();
    if (parser === null) {
      result.error =
        headLen === 0
          ? fail('empty-file', result.gzip ? `${name} is an empty gzip stream` : `${name} is empty (0 bytes)`)
          : tooShort(Buffer.concat(head, headLen), name);
      return finish();
    }
    const p: CaptureParser = parser;
    p.end();
    await drain(p);
    return finish();
  } catch (e) {
    if (signal?.aborted) return finish();
    if (result.gzip && !sourceFailed) {
      const n = parser === null ? 0 : (parser as CaptureParser).frames;
      result.error = fail('gzip-error', `damaged gzip stream in ${name} after ${n} packets: ${describeError(e)}`);
    } else {
      result.error = fail('io-error', `cannot read ${name}: ${describeError(e)}`);
    }
    return finish();
  }

  function finish(): FileReadResult {
    signal?.removeEventListener('abort', onAbort);
    const p = parser as CaptureParser | null;
    if (p !== null) result.frames = p.frames;
    if (result.error === null) {
      if (handlerFailure !== null) {
        const n = p === null ? 0 : p.frames;
        const failure = handlerFailure as { error: unknown; what?: string };
        result.error = {
          code: 'handler-error',
          packet: n,
          message: `the ${failure.what ?? 'frame handler'} failed on packet ${n}: ${describeError(failure.error)}`,
        };
      } else if (signal?.aborted) {
        result.error = fail('aborted', `reading ${name} was aborted after ${result.frames} packets`);
      } else if (p !== null && p.error !== null) {
        result.error = p.error;
      }
    }
    raw.detach();
    if (countRaw !== null) source?.off('data', countRaw);
    if (gunzip !== null) {
      source?.unpipe(gunzip);
      gunzip.destroy();
    }
    if (ownSource) source?.destroy();
    else source?.pause();
    return result;
  }
}

function chooseParser(b: Buffer, sink: FrameSink): CaptureParser | null {
  const m = b.readUInt32BE(0);
  switch (m) {
    case 0xa1b2c3d4:
    case 0xd4c3b2a1:
    case 0xa1b23c4d:
    case 0x4d3cb2a1:
      return new PcapReader(sink);
    case 0x0a0d0d0a:
      return new PcapngReader(sink);
    default:
      return null;
  }
}

const KNOWN_MAGICS = [
  [0xa1, 0xb2, 0xc3, 0xd4],
  [0xd4, 0xc3, 0xb2, 0xa1],
  [0xa1, 0xb2, 0x3c, 0x4d],
  [0x4d, 0x3c, 0xb2, 0xa1],
  [0x0a, 0x0d, 0x0d, 0x0a],
];

function badMagic(b: Buffer): FileError {
  const m = b.readUInt32BE(0);
  let hint = 'expected pcap (a1b2c3d4, a1b23c4d, either byte order) or pcapng (0a0d0d0a)';
  if (m === 0xa1b2cd34 || m === 0x34cdb2a1) hint = 'this is the modified (Kuznetzov) pcap format, which is not supported';
  return {
    code: 'bad-magic',
    offset: 0,
    packet: 1,
    message: `not a capture file: magic 0x${b.toString('hex', 0, 4)} at byte 0 (${hint})`,
  };
}

/** Fewer bytes than a magic number: a cut-off header if they start like one, else not a capture. */
function tooShort(b: Buffer, name: string): FileError {
  const prefix = KNOWN_MAGICS.some((m) => b.every((x, i) => m[i] === x));
  if (!prefix) {
    return {
      code: 'bad-magic',
      offset: 0,
      packet: 1,
      message: `not a capture file: ${name} holds only ${b.length} bytes (0x${b.toString('hex')}), no pcap or pcapng magic`,
    };
  }
  return {
    code: 'truncated-header',
    offset: 0,
    packet: 1,
    message: `truncated capture at byte 0 (packet 1): input ends after ${b.length} bytes, inside the file header`,
  };
}

function fail(code: FileErrorCode, message: string): FileError {
  return { code, message };
}

export function describeError(e: unknown): string {
  if (e instanceof Error) {
    const code = (e as NodeJS.ErrnoException).code;
    const text: Record<string, string> = {
      ENOENT: 'no such file or directory',
      EACCES: 'permission denied',
      EISDIR: 'it is a directory',
      Z_BUF_ERROR: 'the compressed data ends early',
      Z_DATA_ERROR: 'the compressed data is invalid',
    };
    if (code && text[code]) return `${text[code]} (${code})`;
    return e.message;
  }
  return String(e);
}
