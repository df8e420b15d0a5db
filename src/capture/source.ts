import type { FileError } from './errors';
import type { CaptureProcessStatus } from './live-process';
import type { CaptureFormat } from './parser';

/** Where the packets come from, as /api/health and the WebSocket hello report it. */
export interface LiveSourceInfo {
  kind: 'live';
  iface: string;
  filter: string;
  linkType: number;
  frames: number;
  bytes: number;
  /** Packets the kernel dropped (libpcap stats), null when unknown. */
  dropped: number | null;
  /** Kernel capture buffer in bytes. */
  bufferSize?: number;
  /** The snap length: bytes of each packet kept, at most. */
  snapLength?: number;
  /** The capture process and its faults, when capture runs in a process of its own. */
  captureProcess?: CaptureProcessStatus;
  demo?: boolean;
  /** The demo's cases, each on a server port of its own, for the dashboard to pick out. */
  demoCases?: { name: string; title: string; says: string; port: number }[];
}

export interface FileSourceInfo {
  kind: 'file';
  /** The path given, or '-' for standard input. */
  path: string;
  format: CaptureFormat | null;
  gzip: boolean | null;
  speed: string;
  bytesRead: number;
  totalBytes: number | null;
  frames: number;
  done: boolean;
  error: FileError | null;
}

export type SourceInfo = LiveSourceInfo | FileSourceInfo;
