// Mutation fuzzing of the capture-file readers, the decoder and the tracker, shared by
// bench/fuzz.mjs (hundreds of thousands of cases) and test/fuzz/*.test.ts (a fixed-seed slice).
//
// Every case is a pure function of (seed, case number): a failure is reproduced by its number
// alone. The stages come in as `deps`, so the same engine drives src/ (tests) and dist/ (bench).
//
// Properties checked, per case:
//   readers  the promise resolves (never rejects), a rejection carries a known code and a message,
//            frames delivered have data.length === capLen <= origLen... (see checkFrame)
//   decoder  never throws, returns a known status; an 'ok' segment has sane ports and lengths
//   tracker  never throws; its counts stay consistent and within maxConnections
// A case that throws, breaks a property or runs past its time limit is a finding.
import { createRequire } from 'node:module';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { Readable } from 'node:stream';

// ------------------------------------------------------------------------------------------ rng

/** A small fast PRNG (mulberry32) with helpers. */
export function rng(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
  const r = {
    u32: next,
    int: (n) => (n <= 0 ? 0 : next() % n),
    chance: (p) => next() / 2 ** 32 < p,
    pick: (arr) => arr[next() % arr.length],
  };
  return r;
}

/** The PRNG of case `i` under `seed`. */
export function caseRng(seed, i) {
  return rng(Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(i + 1, 0xc2b2ae35));
}

// --------------------------------------------------------------------------------- file layout

const EXTREMES32 = [0, 1, 2, 3, 4, 7, 8, 12, 16, 24, 28, 32, 0x7f, 0x80, 0xff, 0x100, 0xffff, 0x10000, 65535, 65536, 262144, 262145, 0x7fffffff, 0x80000000, 0xfffffff0, 0xffffffff];

/**
 * Offsets of the 32-bit length-like fields of a capture (pcap header and record lengths, pcapng
 * block lengths and packet lengths), found by walking its structure, so mutations can aim at them.
 */
export function lengthFields(buf) {
  const out = [];
  if (buf.length < 24) return out;
  const m = buf.readUInt32LE(0);
  if (m === 0xa1b2c3d4 || m === 0xa1b23c4d || m === 0xd4c3b2a1 || m === 0x4d3cb2a1) {
    const le = m === 0xa1b2c3d4 || m === 0xa1b23c4d;
    out.push({ off: 16, le }, { off: 20, le }, { off: 4, le, size: 2 });
    let o = 24;
    while (o + 16 <= buf.length && out.length < 4096) {
      out.push({ off: o + 8, le }, { off: o + 12, le });
      const incl = le ? buf.readUInt32LE(o + 8) : buf.readUInt32BE(o + 8);
      o += 16 + incl;
    }
  } else if (m === 0x0a0d0d0a && buf.length >= 12) {
    const le = buf.readUInt32LE(8) === 0x1a2b3c4d;
    let o = 0;
    while (o + 12 <= buf.length && out.length < 4096) {
      const type = le ? buf.readUInt32LE(o) : buf.readUInt32BE(o);
      const len = le ? buf.readUInt32LE(o + 4) : buf.readUInt32BE(o + 4);
      out.push({ off: o + 4, le });
      if (o + len - 4 >= 0 && o + len <= buf.length && len >= 12) out.push({ off: o + len - 4, le });
      if (type === 6 && o + 28 <= buf.length) out.push({ off: o + 20, le }, { off: o + 24, le }, { off: o + 8, le }); // EPB caplen, origlen, ifid
      if (type === 3 && o + 12 <= buf.length) out.push({ off: o + 8, le }); // SPB origlen
      if (type === 1 && o + 16 <= buf.length) out.push({ off: o + 12, le }); // IDB snaplen
      if (len < 12 || len % 4 !== 0) break;
      o += len;
    }
  }
  return out;
}

function put32(buf, f, v) {
  if (f.off + (f.size ?? 4) > buf.length) return;
  if (f.size === 2) return f.le ? buf.writeUInt16LE(v & 0xffff, f.off) : buf.writeUInt16BE(v & 0xffff, f.off);
  if (f.le) buf.writeUInt32LE(v >>> 0, f.off);
  else buf.writeUInt32BE(v >>> 0, f.off);
}

/** One to four mutations of a capture file's bytes; sometimes gzipped before or after. */
export function mutateFile(seedBytes, r) {
  let buf = Buffer.from(seedBytes);
  const fields = lengthFields(buf);
  const n = 1 + r.int(4);
  const ops = [];
  for (let k = 0; k < n; k++) {
    const op = r.int(10);
    if (op <= 2 && buf.length > 0) {
      // bit flips, mostly near the start where the headers are
      const at = r.chance(0.5) ? r.int(Math.min(buf.length, 256)) : r.int(buf.length);
      buf[at] ^= 1 << r.int(8);
      ops.push(`flip@${at}`);
    } else if (op <= 4 && fields.length > 0) {
      const f = r.pick(fields);
      const v = r.chance(0.8) ? r.pick(EXTREMES32) : r.u32();
      put32(buf, f, v);
      ops.push(`len@${f.off}=${v}`);
    } else if (op === 5) {
      const at = r.int(buf.length + 1);
      buf = buf.subarray(0, at);
      ops.push(`cut@${at}`);
    } else if (op === 6 && buf.length > 8) {
      // a run of one byte value
      const at = r.int(buf.length);
      const len = 1 + r.int(Math.min(64, buf.length - at));
      buf.fill(r.pick([0x00, 0xff, 0x7f, 0x80, r.int(256)]), at, at + len);
      ops.push(`fill@${at}+${len}`);
    } else if (op === 7 && buf.length > 32) {
      // splice: repeat or drop a chunk
      const a = r.int(buf.length);
      const b = Math.min(buf.length, a + 1 + r.int(512));
      buf = r.chance(0.5) ? Buffer.concat([buf.subarray(0, b), buf.subarray(a)]) : Buffer.concat([buf.subarray(0, a), buf.subarray(b)]);
      ops.push(`splice@${a}-${b}`);
    } else if (op === 8) {
      // random bytes appended (trailing garbage)
      const extra = Buffer.alloc(1 + r.int(64));
      for (let i = 0; i < extra.length; i++) extra[i] = r.int(256);
      buf = Buffer.concat([buf, extra]);
      ops.push(`append+${extra.length}`);
    } else if (buf.length > 0) {
      buf[r.int(buf.length)] = r.int(256);
      ops.push('byte');
    }
  }
  let gzip = 'none';
  const g = r.int(10);
  if (g === 0) {
    buf = gzipSync(buf, { level: 1 });
    gzip = 'after';
  } else if (g === 1) {
    // damage inside the compressed stream: flip or cut
    buf = Buffer.from(gzipSync(buf, { level: 1 }));
    if (r.chance(0.5) && buf.length > 12) buf[10 + r.int(buf.length - 10)] ^= 1 << r.int(8);
    else buf = buf.subarray(0, r.int(buf.length + 1));
    gzip = 'damaged';
  }
  return { bytes: buf, ops, gzip };
}

// ------------------------------------------------------------------------------ packet layout

/** Offset of the IPv4/IPv6 header in an Ethernet frame (through VLAN tags), or -1. */
function ipOffset(linkType, d) {
  if (linkType === 1) {
    let o = 12;
    while (o + 2 <= d.length) {
      const t = d.readUInt16BE(o);
      if (t === 0x8100 || t === 0x88a8) o += 4;
      else return t === 0x0800 || t === 0x86dd ? o + 2 : -1;
    }
    return -1;
  }
  if (linkType === 101 || linkType === 12 || linkType === 14) return 0;
  if (linkType === 0 || linkType === 108) return 4;
  if (linkType === 113) return 16;
  if (linkType === 276) return 20;
  return -1;
}

const OPTION_KINDS = [0, 1, 2, 3, 4, 5, 8, 19, 28, 29, 30, 34, 254, 255];
const LINK_TYPES = [0, 1, 1, 1, 12, 14, 101, 108, 113, 276, 147, 9999];

/**
 * One to three mutations of a real frame aimed at the IP and TCP headers: bit flips, lengths and
 * offsets set to extremes, a random option list, random flags, random seq/ack, cut short, another
 * link type, a wire length that disagrees.
 */
export function mutateFrame(frame, r) {
  let d = Buffer.from(frame.data);
  let linkType = frame.linkType;
  let origLen = frame.origLen;
  const ops = [];
  const ip = ipOffset(linkType, d);
  const v4 = ip >= 0 && ip < d.length && d[ip] >> 4 === 4;
  const tcp = ip >= 0 && v4 && ip + 20 <= d.length ? ip + (d[ip] & 15) * 4 : ip >= 0 && ip + 40 <= d.length ? ip + 40 : -1;
  const n = 1 + r.int(3);
  for (let k = 0; k < n; k++) {
    const op = r.int(12);
    if (op === 0 && d.length > 0) {
      const at = r.int(Math.min(d.length, 96));
      d[at] ^= 1 << r.int(8);
      ops.push(`flip@${at}`);
    } else if (op === 1 && v4 && ip + 4 <= d.length) {
      d.writeUInt16BE(r.pick([0, 1, 19, 20, 40, 0xffff, d.length - ip, d.length - ip + 1, r.int(65536)]) & 0xffff, ip + 2);
      ops.push('ip-total');
    } else if (op === 2 && v4 && ip < d.length) {
      d[ip] = 0x40 | r.pick([0, 1, 4, 5, 6, 15, r.int(16)]);
      ops.push('ihl');
    } else if (op === 3 && v4 && ip + 8 <= d.length) {
      d.writeUInt16BE(r.pick([0x2000, 0x0001, 0x2001, 0x4000, r.int(65536)]), ip + 6); // fragment bits
      ops.push('frag');
    } else if (op === 4 && tcp >= 0 && tcp + 13 < d.length) {
      d[tcp + 12] = (r.int(16) << 4) | (d[tcp + 12] & 15);
      ops.push('tcp-offset');
    } else if (op === 5 && tcp >= 0 && tcp + 14 <= d.length) {
      d[tcp + 13] = r.int(256);
      if (r.chance(0.2)) d[tcp + 12] ^= 1; // AE (NS)
      ops.push('flags');
    } else if (op === 6 && tcp >= 0 && tcp + 12 <= d.length) {
      d.writeUInt32BE(r.pick([0, 1, 0x7fffffff, 0x80000000, 0xffffffff, r.u32()]) >>> 0, tcp + 4);
      d.writeUInt32BE(r.pick([0, 1, 0xffffffff, r.u32()]) >>> 0, tcp + 8);
      ops.push('seq-ack');
    } else if (op === 7 && tcp >= 0 && tcp + 20 <= d.length) {
      // a random option list filling the header's option space (and maybe past it)
      const room = ((d[tcp + 12] >> 4) - 5) * 4;
      const end = Math.min(d.length, tcp + 20 + Math.max(room, 0) + (r.chance(0.2) ? 8 : 0));
      for (let o = tcp + 20; o < end; ) {
        const kind = r.pick(OPTION_KINDS);
        d[o++] = kind;
        if (kind <= 1 || o >= end) continue;
        d[o++] = r.pick([0, 1, 2, 3, 4, 10, 18, 34, 40, 255, r.int(256)]);
        const body = Math.min(end - o, r.int(12));
        for (let i = 0; i < body; i++) d[o++] = r.int(256);
      }
      ops.push('options');
    } else if (op === 8) {
      d = d.subarray(0, r.int(d.length + 1));
      ops.push('cut');
    } else if (op === 9) {
      origLen = r.pick([0, 1, d.length - 1, d.length, d.length + 1, 65535, 65536, 0x7fffffff, r.u32()]);
      ops.push('origlen');
    } else if (op === 10) {
      linkType = r.pick(LINK_TYPES);
      ops.push(`link=${linkType}`);
    } else if (ip >= 0 && ip + 10 <= d.length) {
      d[ip + 9] = r.pick([6, 17, 4, 41, 47, 0, 255, r.int(256)]); // protocol / next header
      ops.push('proto');
    }
  }
  return { linkType, data: d, origLen, ops };
}

// ------------------------------------------------------------------------------------- checks

export class Violation extends Error {}

function check(cond, what) {
  if (!cond) throw new Violation(what);
}

/**
 * The shared checks on a tracker after some input: counts consistent with each other and the
 * table within its cap.
 */
export function checkTracker(tracker, maxConnections) {
  const s = tracker.stats();
  check(s.tracked <= maxConnections, `tracked ${s.tracked} over maxConnections ${maxConnections}`);
  check(s.open + s.closed === s.tracked, `open ${s.open} + closed ${s.closed} != tracked ${s.tracked}`);
  const sum = (o) => Object.values(o).reduce((a, b) => a + b, 0);
  check(sum(s.byClientState) === s.tracked, `client states sum ${sum(s.byClientState)} != tracked ${s.tracked}`);
  check(sum(s.byServerState) === s.tracked, `server states sum ${sum(s.byServerState)} != tracked ${s.tracked}`);
  check(sum(s.byConnState) === s.tracked, `conn states sum ${sum(s.byConnState)} != tracked ${s.tracked}`);
  check(s.halfOpen >= 0 && s.halfOpen <= s.tracked, `halfOpen ${s.halfOpen} out of range`);
  for (const [k, v] of Object.entries(s.anomalies)) check(Number.isFinite(v) && v >= 0, `anomaly count ${k}=${v}`);
}

function checkSegment(seg, frameLen) {
  check(seg.srcPort >= 0 && seg.srcPort <= 65535 && seg.dstPort >= 0 && seg.dstPort <= 65535, 'port out of range');
  check(seg.family === 4 || seg.family === 6, `family ${seg.family}`);
  check(Number.isInteger(seg.payloadLen) && seg.payloadLen >= 0, `payloadLen ${seg.payloadLen}`);
  check(seg.capturedPayloadLen >= 0 && seg.capturedPayloadLen <= seg.payloadLen, `capturedPayloadLen ${seg.capturedPayloadLen} of ${seg.payloadLen}`);
  check(seg.tcpOff + seg.headerLen <= frameLen || seg.capturedPayloadLen === 0, 'TCP header past the frame');
  check(seg.headerLen >= 20 && seg.headerLen <= 60, `headerLen ${seg.headerLen}`);
  check(seg.srcOff >= 0 && seg.dstOff >= 0 && seg.srcOff + (seg.family === 4 ? 4 : 16) <= frameLen, 'address past the frame');
}

// -------------------------------------------------------------------------------------- cases

/**
 * The fuzzer over one corpus. deps: { readCaptureFile, decodeFrame, Segment, Tracker,
 * decodeStatuses, fileErrorCodes }. corpus: { files: [{name, bytes}], frames: [{linkType, data, origLen}] }.
 */
export function createFuzzer(deps, corpus, { seed, maxConnections = 500, fileBytes = 16384 } = {}) {
  const statuses = new Set(deps.decodeStatuses);
  const fileCodes = new Set(deps.fileErrorCodes);
  const seg = new deps.Segment();
  let tracker = new deps.Tracker({ maxConnections, mslMs: 1000 });
  let casesOnTracker = 0;
  let ts = 1_700_000_000_000;
  const tally = { files: 0, frames: 0, packets: 0, decodeByStatus: {}, fileErrors: {}, trackerSegments: 0 };

  const freshTracker = () => {
    if (++casesOnTracker < 2000) return;
    checkTracker(tracker, maxConnections);
    tracker = new deps.Tracker({ maxConnections, mslMs: 1000 });
    casesOnTracker = 0;
  };

  /** decode + track one frame; returns the decode status. */
  const feed = (linkType, data, origLen, tsMs) => {
    let st;
    try {
      st = deps.decodeFrame(linkType, data, origLen, seg);
    } catch (e) {
      throw new Violation(`decodeFrame threw: ${e?.stack ?? e}`);
    }
    check(statuses.has(st), `unknown decode status ${JSON.stringify(st)}`);
    tally.decodeByStatus[st] = (tally.decodeByStatus[st] ?? 0) + 1;
    if (st === 'ok') {
      checkSegment(seg, data.length);
      try {
        tracker.process(seg, tsMs);
      } catch (e) {
        throw new Violation(`tracker.process threw: ${e?.stack ?? e}`);
      }
      tally.trackerSegments++;
    }
    return st;
  };

  /** The input of file case i (also used to save a finding). */
  const fileInput = (i) => {
    const r = caseRng(seed, i);
    const f = corpus.files[r.int(corpus.files.length)];
    // a slice from the start keeps the headers; most damage lands in the first records
    const base = f.bytes.subarray(0, Math.min(f.bytes.length, 64 + r.int(fileBytes)));
    const m = mutateFile(base, r);
    return { r, name: f.name, ...m };
  };

  async function fileCase(i) {
    const { r, bytes } = fileInput(i);
    tally.files++;
    // delivered in 1 to 5 chunks: the readers keep state across chunk boundaries
    const chunks = [];
    let at = 0;
    for (let k = r.int(5); k > 0 && at < bytes.length; k--) {
      const to = at + r.int(bytes.length - at + 1);
      chunks.push(bytes.subarray(at, to));
      at = to;
    }
    chunks.push(bytes.subarray(at));
    let res;
    // A finding inside onFrame would come back as 'handler-error': keep it to rethrow as itself.
    let inner = null;
    try {
      res = await deps.readCaptureFile(Readable.from(chunks, { objectMode: false }), (fr) => {
        try {
          check(fr.data.length === fr.capLen, `frame data.length ${fr.data.length} != capLen ${fr.capLen}`);
          check(fr.capLen <= 262144, `capLen ${fr.capLen} over the maximum`);
          check(Number.isFinite(fr.tsSec) && fr.tsNsec >= 0 && fr.tsNsec < 1e9, `timestamp ${fr.tsSec}.${fr.tsNsec}`);
          tally.frames++;
          feed(fr.linkType, fr.data, fr.origLen, fr.tsSec * 1000 + fr.tsNsec / 1e6);
        } catch (e) {
          inner ??= e instanceof Violation ? e : new Violation(`onFrame: ${e?.stack ?? e}`);
          throw e;
        }
      });
    } catch (e) {
      throw new Violation(`readCaptureFile rejected: ${e?.stack ?? e}`);
    }
    if (inner) throw inner;
    if (res.error) {
      check(fileCodes.has(res.error.code), `unknown file error code ${JSON.stringify(res.error.code)}`);
      check(typeof res.error.message === 'string' && res.error.message.length > 0, 'error without a message');
      tally.fileErrors[res.error.code] = (tally.fileErrors[res.error.code] ?? 0) + 1;
    }
    freshTracker();
    return res;
  }

  const packetInput = (i) => {
    const r = caseRng(seed ^ 0x5bd1e995, i);
    const base = corpus.frames[r.int(corpus.frames.length)];
    return { r, ...mutateFrame(base, r) };
  };

  function packetCase(i) {
    const { r, linkType, data, origLen } = packetInput(i);
    tally.packets++;
    // time mostly moves forward, sometimes jumps back or far ahead
    ts += r.chance(0.02) ? -r.int(10_000) : r.chance(0.01) ? r.int(600_000) : r.int(5);
    feed(linkType, data, origLen, ts);
    if (r.chance(0.001)) tracker.expire(ts + r.int(3_600_000));
    freshTracker();
  }

  // ------------------------------------------------------------------ flows: the state machine
  // Eight 4-tuples share a table of four, so eviction and port reuse happen all the time. Each case
  // is one segment with flags from a weighted set, sequence numbers mostly near what the sender
  // sent before (so handshakes and teardowns do progress) and sometimes anywhere.
  const FLAG_SETS = [0x02, 0x12, 0x10, 0x18, 0x11, 0x19, 0x04, 0x14, 0x01, 0x03, 0x06, 0x00, 0x29, 0x12, 0x10, 0x10, 0x11, 0x02];
  const flowMax = 4;
  let flowTracker = new deps.Tracker({ maxConnections: flowMax, mslMs: 500, timeouts: { synSent: 3000, synReceived: 3000, established: 20_000, finWait: 3000, closeWait: 3000, lastAck: 3000, closedRetention: 2000 } });
  const flowSeg = new deps.Segment();
  const addr = Buffer.alloc(8);
  flowSeg.buf = addr;
  flowSeg.family = 4;
  flowSeg.headerLen = 20;
  const sent = new Float64Array(16); // next seq per tuple and side
  let flowTs = 1_700_000_000_000;
  let flowCases = 0;

  function flowCase(i) {
    const r = caseRng(seed ^ 0x27d4eb2f, i);
    const t = r.int(8);
    const fromServer = r.chance(0.5);
    const k = 2 * t + (fromServer ? 1 : 0);
    addr.writeUInt32BE(fromServer ? 0x0a000101 : 0x0a000000 + t, 0);
    addr.writeUInt32BE(fromServer ? 0x0a000000 + t : 0x0a000101, 4);
    flowSeg.srcOff = 0;
    flowSeg.dstOff = 4;
    flowSeg.srcPort = fromServer ? 80 : 40000 + t;
    flowSeg.dstPort = fromServer ? 40000 + t : 80;
    const flags = r.chance(0.9) ? r.pick(FLAG_SETS) : r.int(512);
    const len = (flags & 0x07) !== 0 && r.chance(0.7) ? 0 : r.pick([0, 0, 1, 10, 1460, 65495]);
    const seq = r.chance(0.85) ? sent[k] + r.pick([0, 0, 0, 1, -1, len, -len]) : r.u32();
    const ack = r.chance(0.85) ? sent[k ^ 1] + r.pick([0, 0, 1, -1, 100]) : r.u32();
    flowSeg.flags = flags;
    flowSeg.seq = seq >>> 0;
    flowSeg.ack = ack >>> 0;
    flowSeg.payloadLen = len;
    flowSeg.capturedPayloadLen = r.chance(0.9) ? len : r.int(len + 1);
    flowSeg.window = r.chance(0.05) ? 0 : 65535;
    flowSeg.mss = (flags & 0x02) !== 0 && r.chance(0.8) ? 1460 : -1;
    flowSeg.wscale = (flags & 0x02) !== 0 && r.chance(0.5) ? r.int(16) : -1;
    sent[k] = (seq + len + ((flags & 0x02) !== 0 ? 1 : 0) + ((flags & 0x01) !== 0 ? 1 : 0)) >>> 0;
    flowTs += r.chance(0.02) ? -r.int(2000) : r.chance(0.02) ? r.int(30_000) : r.int(50);
    try {
      flowTracker.process(flowSeg, flowTs);
      if (r.chance(0.05)) flowTracker.expire(flowTs + r.int(10_000));
    } catch (e) {
      throw new Violation(`tracker threw on a flow segment: ${e?.stack ?? e}`);
    }
    tally.flows = (tally.flows ?? 0) + 1;
    if ((++flowCases & 63) === 0) checkTracker(flowTracker, flowMax);
    // a fresh table now and then, so that early damage cannot hide later behaviour
    if ((flowCases & 0xffff) === 0) {
      flowTracker = new deps.Tracker({ maxConnections: flowMax, mslMs: 500 });
      sent.fill(0);
    }
  }

  return {
    fileCase,
    packetCase,
    flowCase,
    fileInput,
    packetInput,
    tally,
    checkNow: () => {
      checkTracker(tracker, maxConnections);
      checkTracker(flowTracker, flowMax);
    },
  };
}

/** The stages from a build (`dist`), with the error codes the build itself declares. */
export function builtDeps(dist) {
  const require = createRequire(import.meta.url);
  return {
    readCaptureFile: require(path.join(dist, 'capture/file.js')).readCaptureFile,
    decodeFrame: require(path.join(dist, 'decode/decode.js')).decodeFrame,
    Segment: require(path.join(dist, 'decode/segment.js')).Segment,
    Tracker: require(path.join(dist, 'track/tracker.js')).Tracker,
    decodeStatuses: require(path.join(dist, 'decode/status.js')).DECODE_STATUSES,
    fileErrorCodes: require(path.join(dist, 'capture/errors.js')).FILE_ERROR_CODES,
  };
}

/** One frame as a one-record classic pcap (any link type, any wire length), to keep a finding. */
export function framePcap({ linkType, data, origLen }) {
  const b = Buffer.alloc(24 + 16 + data.length);
  b.writeUInt32LE(0xa1b2c3d4, 0);
  b.writeUInt16LE(2, 4);
  b.writeUInt16LE(4, 6);
  b.writeUInt32LE(262144, 16);
  b.writeUInt32LE(linkType >>> 0, 20);
  b.writeUInt32LE(1_700_000_000, 24);
  b.writeUInt32LE(data.length, 32);
  b.writeUInt32LE(origLen >>> 0, 36);
  data.copy(b, 40);
  return b;
}
