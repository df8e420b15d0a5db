import type { CaptureError } from './frame';

/**
 * Stable codes of the capture-file readers; src/capture/file.ts documents what each one means.
 * Kept here so the format readers and the file front end share them without importing each other.
 */
export type FileErrorCode =
  | 'empty-file'
  | 'bad-magic'
  | 'unsupported-version'
  | 'truncated-header'
  | 'truncated-record'
  | 'record-too-large'
  | 'bad-block-length'
  | 'bad-block'
  | 'unknown-interface-id'
  | 'gzip-error'
  | 'io-error'
  | 'aborted'
  | 'handler-error';

/** The largest packet a capture may hold: libpcap's MAXIMUM_SNAPLEN, tcpdump's default snap length. */
export const MAX_PACKET = 262144;

/** Damage found at a record boundary: names the byte offset and the 1-based packet number. */
export function damaged(code: FileErrorCode, offset: number, packet: number, detail: string): CaptureError {
  return { code, offset, packet, message: `damaged capture at byte ${offset} (packet ${packet}): ${detail}` };
}

/** The input ended inside a header, record or block that started at `offset`. */
export function truncated(code: FileErrorCode, offset: number, packet: number, detail: string): CaptureError {
  return { code, offset, packet, message: `truncated capture at byte ${offset} (packet ${packet}): ${detail}` };
}
