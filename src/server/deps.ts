import type { SourceInfo } from '../capture/source';
import type { EventBus } from '../events/bus';
import type { TrackerApi } from '../track/api';
import type { SocketsSource } from './routes-sockets';

/** What the server reads from the per-packet engine (src/ingest/engine.ts satisfies it). */
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
  /** Clients from one remote address. */
  maxClientsPerAddress: number;
  /**
   * Recent events kept for clients that fall behind (one ring shared by all clients); a client more
   * than this many events behind is lagging and resynchronises from a snapshot.
   */
  maxQueue: number;
  /** Bytes the socket may hold unsent before we stop writing to it and let events wait in the ring. */
  highWaterBytes: number;
  /**
   * Bytes a client may be sent beyond what it confirmed reading (by answering a ping); past this it
   * waits like a full socket. Bounds what a client that never reads costs in kernel buffers.
   */
  maxInFlightBytes: number;
  /** A client whose socket takes nothing for this long while data waits for it is closed. */
  stallTimeoutMs: number;
  /** New clients accepted per second once a burst of 50 is used up; more get 503. */
  maxNewClientsPerSecond: number;
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
  /** The kernel's view of the host's sockets (live mode): /api/listeners, /api/diagnoses. */
  sockets?: SocketsSource;
}

export const DEFAULT_WS_OPTIONS: WsOptions = {
  maxPayload: 16 * 1024,
  maxClients: 256,
  maxClientsPerAddress: 64,
  // about two seconds of the busiest loopback the bench makes (~6 000 connections/s, 19 events
  // each, BENCHMARKS.md): a dashboard whose process is not scheduled for a second on a loaded
  // machine still catches up. The ring keeps ~33 bytes an event and the texts in byte chunks
  // (64 MiB at most), and only while some client is behind.
  maxQueue: 200_000,
  highWaterBytes: 256 * 1024,
  maxInFlightBytes: 1024 * 1024,
  stallTimeoutMs: 10_000,
  maxNewClientsPerSecond: 20,
  heartbeatMs: 30_000,
  snapshotLimit: 10_000,
};
