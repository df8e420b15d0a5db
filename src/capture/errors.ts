/**
 * Stable codes of the capture-file readers; src/capture/file.ts documents what each one means.
 * The list is the runtime source (tests and the fuzzer check results against it), the union derives
 * from it. Kept apart from the readers so the format readers and the file front end share them
 * without importing each other.
 */
export const FILE_ERROR_CODES = [
  'empty-file',
  'bad-magic',
  'unsupported-version',
  'truncated-header',
  'truncated-record',
  'record-too-large',
  'bad-block-length',
  'bad-block',
  'unknown-interface-id',
  'gzip-error',
  'io-error',
  'aborted',
  'handler-error',
] as const;
export type FileErrorCode = (typeof FILE_ERROR_CODES)[number];

/** Stable codes of opening a live capture (src/cli/errors.ts says what each asks of the user). */
export const LIVE_ERROR_CODES = ['libpcap-missing', 'permission-denied', 'unknown-interface', 'bad-filter', 'capture-failed'] as const;
export type LiveErrorCode = (typeof LIVE_ERROR_CODES)[number];

export type CaptureErrorCode = FileErrorCode | LiveErrorCode;

/** A failure of a capture source, as a value with a stable code. */
export interface CaptureError<Code extends CaptureErrorCode = CaptureErrorCode> {
  code: Code;
  message: string;
  /** Byte offset in the file where the damage starts (file sources). */
  offset?: number;
  /** 1-based number of the packet that could not be read (file sources). */
  packet?: number;
}

/** A capture file's failure: the readers' codes only. */
export type FileError = CaptureError<FileErrorCode>;
/** A live capture's failure: opening the interface, or the capture process. */
export type LiveError = CaptureError<LiveErrorCode>;

/** The largest packet a capture may hold: libpcap's MAXIMUM_SNAPLEN, tcpdump's default snap length. */
export const MAX_PACKET = 262144;

/** Damage found at a record boundary: names the byte offset and the 1-based packet number. */
export function damaged(code: FileErrorCode, offset: number, packet: number, detail: string): FileError {
  return { code, offset, packet, message: `damaged capture at byte ${offset} (packet ${packet}): ${detail}` };
}

/** The input ended inside a header, record or block that started at `offset`. */
export function truncated(code: FileErrorCode, offset: number, packet: number, detail: string): FileError {
  return { code, offset, packet, message: `truncated capture at byte ${offset} (packet ${packet}): ${detail}` };
}
