/**
 * Synthetic TCP segments for tracker tests: fills a Segment the way the decoder would, with the
 * addresses in a small Buffer (seg.buf, srcOff, dstOff), so the tracker reads them exactly as it
 * reads a real frame.
 */
import { Segment, TcpFlag } from '../../src/decode/segment';

export interface SegSpec {
  src: string; // "10.0.0.1:40000" or "[2001:db8::1]:40000"
  dst: string;
  /** Letters S F R P U E W A (or '.') as tcpdump and the ladder print them, or raw bits. */
  flags: string | number;
  seq: number;
  ack?: number;
  len?: number;
  win?: number;
  mss?: number;
  wscale?: number;
  sackPermitted?: boolean;
  timestamps?: boolean;
  /** Payload bytes present in the capture (default: all of them). */
  captured?: number;
}

export function flagBits(flags: string | number): number {
  if (typeof flags === 'number') return flags;
  let f = 0;
  for (const ch of flags) {
    switch (ch) {
      case 'S': f |= TcpFlag.SYN; break;
      case 'F': f |= TcpFlag.FIN; break;
      case 'R': f |= TcpFlag.RST; break;
      case 'P': f |= TcpFlag.PSH; break;
      case 'U': f |= TcpFlag.URG; break;
      case 'E': f |= TcpFlag.ECE; break;
      case 'W': f |= TcpFlag.CWR; break;
      case 'A': case '.': f |= TcpFlag.ACK; break;
      default: throw new Error(`unknown flag letter ${ch}`);
    }
  }
  return f;
}

export function parseEndpoint(ep: string): { family: 4 | 6; bytes: number[]; port: number } {
  const m6 = /^\[(.+)\]:(\d+)$/.exec(ep);
  if (m6) return { family: 6, bytes: ipv6Bytes(m6[1]), port: Number(m6[2]) };
  const m4 = /^(\d+)\.(\d+)\.(\d+)\.(\d+):(\d+)$/.exec(ep);
  if (!m4) throw new Error(`bad endpoint ${ep}`);
  return { family: 4, bytes: [1, 2, 3, 4].map((i) => Number(m4[i])), port: Number(m4[5]) };
}

function ipv6Bytes(text: string): number[] {
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
  const h = head ? head.split(':') : [];
  const t = tail !== undefined && tail !== '' ? tail.split(':') : [];
  const words = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  if (words.length !== 8) throw new Error(`bad IPv6 address ${text}`);
  return words.flatMap((w) => {
    const v = parseInt(w, 16);
    return [v >> 8, v & 0xff];
  });
}

/** Fills `out` (a fresh Segment by default) from the spec. */
export function makeSegment(spec: SegSpec, out = new Segment()): Segment {
  const a = parseEndpoint(spec.src);
  const b = parseEndpoint(spec.dst);
  if (a.family !== b.family) throw new Error('mixed address families');
  const n = a.family === 4 ? 4 : 16;
  const buf = Buffer.alloc(2 * n);
  buf.set(a.bytes, 0);
  buf.set(b.bytes, n);
  out.reset();
  out.family = a.family;
  out.buf = buf;
  out.srcOff = 0;
  out.dstOff = n;
  out.srcPort = a.port;
  out.dstPort = b.port;
  out.flags = flagBits(spec.flags);
  out.seq = spec.seq >>> 0;
  out.ack = (spec.ack ?? 0) >>> 0;
  out.window = spec.win ?? 65535;
  out.payloadLen = spec.len ?? 0;
  out.capturedPayloadLen = spec.captured ?? out.payloadLen;
  out.headerLen = 20;
  out.mss = spec.mss ?? -1;
  out.wscale = spec.wscale ?? -1;
  out.sackPermitted = spec.sackPermitted ?? false;
  out.hasTimestamps = spec.timestamps ?? false;
  return out;
}

/** What a conversation step may override. */
export interface StepOpts {
  len?: number;
  seq?: number;
  ack?: number;
  win?: number;
  mss?: number;
  wscale?: number;
  sackPermitted?: boolean;
  timestamps?: boolean;
  captured?: number;
  /** Do not advance the sender's next sequence number (a retransmission or a probe). */
  hold?: boolean;
}

/**
 * A two-party conversation that numbers segments as real stacks would: each side's next sequence
 * number advances by payload, SYN and FIN; ACK fields acknowledge everything the other side sent.
 */
export class Conversation {
  readonly next: [number, number];
  constructor(
    readonly client: string,
    readonly server: string,
    isnClient = 1000,
    isnServer = 5000,
  ) {
    this.next = [isnClient >>> 0, isnServer >>> 0];
  }

  c(flags: string, opts: StepOpts = {}): SegSpec {
    return this.step(0, flags, opts);
  }

  s(flags: string, opts: StepOpts = {}): SegSpec {
    return this.step(1, flags, opts);
  }

  private step(side: 0 | 1, flags: string, o: StepOpts): SegSpec {
    const bits = flagBits(flags);
    const seq = (o.seq ?? this.next[side]) >>> 0;
    const len = o.len ?? 0;
    const spec: SegSpec = {
      src: side === 0 ? this.client : this.server,
      dst: side === 0 ? this.server : this.client,
      flags: bits,
      seq,
      ack: bits & TcpFlag.ACK ? (o.ack ?? this.next[1 - side]) >>> 0 : (o.ack ?? 0),
      len,
      win: o.win,
      mss: o.mss,
      wscale: o.wscale,
      sackPermitted: o.sackPermitted,
      timestamps: o.timestamps,
      captured: o.captured,
    };
    if (!o.hold && !(bits & TcpFlag.RST)) {
      const end = (seq + len + (bits & TcpFlag.SYN ? 1 : 0) + (bits & TcpFlag.FIN ? 1 : 0)) >>> 0;
      if (((end - this.next[side]) | 0) > 0 || o.seq === undefined) this.next[side] = end;
    }
    return spec;
  }
}

/** Anything with the tracker's process(). */
export interface Processor {
  process(seg: Segment, tsMs: number): void;
}

/** Feeds specs one millisecond apart from `t0` (or at the given times); returns the last time used. */
export function feed(tracker: Processor, specs: SegSpec[], t0 = 1_000_000, stepMs = 1): number {
  const seg = new Segment();
  let t = t0;
  for (const spec of specs) {
    tracker.process(makeSegment(spec, seg), t);
    t += stepMs;
  }
  return t - stepMs;
}
