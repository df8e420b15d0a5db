import { frameTimeMs, type Frame } from '../capture/frame';
import { DecodeCounters, decodeFrame } from '../decode/decode';
import { Segment, type DecodeStatus } from '../decode/segment';
import type { TrackerOptions } from '../track/api';
import { Tracker } from '../track/tracker';

/**
 * The per-packet path shared by every mode (live, replay, analyze, tests, benchmarks): decode each
 * frame into one reused Segment and feed the tracker with the frame's own timestamp.
 */
export class Engine {
  readonly tracker: Tracker;
  readonly decode = new DecodeCounters();
  /** Timestamp (epoch ms) of the newest frame seen; replay expires timers with it at the end. */
  lastTs = 0;
  frames = 0;
  bytes = 0;
  private readonly seg = new Segment();

  constructor(opts?: Partial<TrackerOptions>) {
    this.tracker = new Tracker(opts);
    this.onFrame = this.onFrame.bind(this);
    this.onDecoded = this.onDecoded.bind(this);
  }

  onFrame(f: Frame): void {
    this.onDecoded(frameTimeMs(f), f.origLen, decodeFrame(f.linkType, f.data, f.origLen, this.seg), this.seg);
  }

  /** A frame decoded elsewhere (the reader thread) into `seg`, which is read only when 'ok'. */
  onDecoded(tsMs: number, origLen: number, status: DecodeStatus, seg: Segment): void {
    this.frames++;
    this.bytes += origLen;
    if (tsMs > this.lastTs) this.lastTs = tsMs;
    this.decode.count(status);
    if (status === 'ok') this.tracker.process(seg, tsMs);
  }
}
