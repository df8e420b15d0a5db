import { closeSync, openSync, readSync, statSync } from 'node:fs';
import os from 'node:os';
import { readerThreadAvailable } from '../ingest/reader-start';
import type { ReadThreadMode } from './options';

// Whether a file is read in a reader thread: decided before the reading code is loaded, so that
// the thread can start first (analyze.ts).

/** Below this size a file is read before a reader thread would have started (~30 ms). */
const THREAD_MIN_BYTES = 4 << 20;

/**
 * Whether `input`, read as fast as it goes (--speed max), is read in a reader thread under `mode`.
 * `auto`: files of THREAD_MIN_BYTES or more, with a second core, but uncompressed pcapng.
 *
 * An uncompressed pcapng file is read and decoded in a fraction of the time tracking takes (0.26 s
 * of 1.06 s for 1.1 M packets), so a reader thread saves no more than its start and hand-over cost.
 * Classic pcap costs pcap-parser's parse on top, which a reader thread takes off the tracking
 * thread, under `analyze` too (1.5 against 1.8–1.9 s for the bench capture).
 */
export function readsInThread(input: string, mode: ReadThreadMode = 'auto', size: number | null = input === '-' ? null : sizeOf(input)): boolean {
  if (mode === 'off' || input === '-' || !readerThreadAvailable()) return false;
  if (mode === 'on') return true;
  return size !== null && size >= THREAD_MIN_BYTES && os.availableParallelism() > 1 && plainCapture(input) !== 'pcapng';
}

/** A regular file's size; null for anything else. */
export function sizeOf(file: string): number | null {
  try {
    const s = statSync(file);
    return s.isFile() ? s.size : null;
  } catch {
    return null;
  }
}

/**
 * The format of an uncompressed capture file from its magic number; null for anything else (a
 * gzipped file, standard input, a file that cannot be read: the reader says what is wrong).
 */
function plainCapture(file: string): 'pcap' | 'pcapng' | null {
  const b = Buffer.alloc(4);
  try {
    const fd = openSync(file, 'r');
    try {
      if (readSync(fd, b, 0, 4, 0) !== 4) return null;
    } finally {
      closeSync(fd);
    }
  } catch {
    return null;
  }
  const m = b.readUInt32BE(0);
  if (m === 0x0a0d0d0a) return 'pcapng';
  return m === 0xa1b2c3d4 || m === 0xd4c3b2a1 || m === 0xa1b23c4d || m === 0x4d3cb2a1 ? 'pcap' : null;
}
