import type { EventBus } from '../events/bus';
import type { TrackerApi } from '../track/api';

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
  demo?: boolean;
}

export interface FileSourceInfo {
  kind: 'file';
  /** The path given, or '-' for standard input. */
  path: string;
  format: 'pcap' | 'pcap-ns' | 'pcapng' | null;
  gzip: boolean | null;
  speed: string;
  bytesRead: number;
  totalBytes: number | null;
  frames: number;
  done: boolean;
  error: { code: string; message: string; offset?: number; packet?: number } | null;
}

export type SourceInfo = LiveSourceInfo | FileSourceInfo;

/** What the server reads from the per-packet engine (src/engine.ts satisfies it). */
export interface EngineLike {
  readonly tracker: TrackerApi;
  readonly decode: { byCode(): Record<string, number> };
  frames: number;
  bytes: number;
}

export interface WsOptions {
  /** Largest client message accepted, in bytes. */
  maxPayload: number;
  maxClients: number;
  /** Messages queued for one client before it is declared lagging and its backlog dropped. */
  maxQueue: number;
  /** Bytes the socket may hold unsent before we stop writing to it and queue instead. */
  highWaterBytes: number;
  heartbeatMs: number;
  /** Largest number of connections in one snapshot (the newest are kept). */
  snapshotLimit: number;
}

export interface ServerDeps {
  engine: EngineLike;
  bus: EventBus;
  version: string;
  source: () => SourceInfo;
  /** When set, every API, metrics and WebSocket request must carry it. */
  token?: string | null;
  /** Folder served at / (the dashboard). */
  webRoot?: string;
  ws?: Partial<WsOptions>;
}

export const DEFAULT_WS_OPTIONS: WsOptions = {
  maxPayload: 16 * 1024,
  maxClients: 64,
  maxQueue: 10_000,
  highWaterBytes: 1024 * 1024,
  heartbeatMs: 30_000,
  snapshotLimit: 10_000,
};
