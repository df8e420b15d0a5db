// The handlers of fastpath.ts only skip work: a tracker that sends every segment through the
// general path (segment()) must end with the same events, views, details and counters, on
// conversations that mostly follow the handlers' courses and now and then step off them.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Segment, TcpFlag } from '../../src/decode/segment';
import type { TrackerOptions } from '../../src/track/api';
import { Tracker } from '../../src/track/tracker';
import { rng } from './helpers';

/** Every segment through segment(). */
class GeneralOnly extends Tracker {
  protected override ordinary(): boolean {
    return false;
  }
  protected override ackFin(): boolean {
    return false;
  }
  protected override fin(): boolean {
    return false;
  }
  protected override synAck(): boolean {
    return false;
  }
  protected override opening(): boolean {
    return false;
  }
}

const HANDLERS = ['ordinary', 'ackFin', 'fin', 'synAck', 'opening'] as const;

/** Counts the segments each handler took. */
class Counting extends Tracker {
  readonly taken: Record<(typeof HANDLERS)[number], number> = { ordinary: 0, ackFin: 0, fin: 0, synAck: 0, opening: 0 };
  protected override ordinary(s: number, d: number, seg: Segment): boolean {
    return this.count('ordinary', super.ordinary(s, d, seg));
  }
  protected override ackFin(s: number, d: number, seg: Segment): boolean {
    return this.count('ackFin', super.ackFin(s, d, seg));
  }
  protected override fin(s: number, d: number, seg: Segment): boolean {
    return this.count('fin', super.fin(s, d, seg));
  }
  protected override synAck(s: number, d: number, seg: Segment): boolean {
    return this.count('synAck', super.synAck(s, d, seg));
  }
  protected override opening(s: number, seg: Segment): boolean {
    return this.count('opening', super.opening(s, seg));
  }
  private count(h: (typeof HANDLERS)[number], took: boolean): boolean {
    if (took) this.taken[h]++;
    return took;
  }
}

const { FIN, SYN, RST, PSH, ACK, ECE } = TcpFlag;

interface Flow {
  family: 4 | 6;
  ports: [number, number];
  next: [number, number];
  phase: number;
  finSent: [boolean, boolean];
}

/**
 * Feeds the same segments to every tracker: a few flows (IPv4 and IPv6, some reusing a 4-tuple
 * after they close) that each open, exchange data and ACKs and close, with deviations at rate
 * `dev`: sequence and acknowledgement numbers off, other flags, the other side sending, zero
 * windows, payload cut by the snap length; and expiry now and then.
 */
function converse(trackers: Tracker[], seed: number, dev: number): void {
  const r = rng(seed);
  const seg = new Segment();
  const buf = Buffer.alloc(64);
  buf.writeUInt32BE(0x0a000001, 0);
  buf.writeUInt32BE(0x0a000002, 4);
  for (let i = 0; i < 16; i++) {
    buf[16 + i] = i === 15 ? 1 : 0x20;
    buf[32 + i] = i === 15 ? 2 : 0x20;
  }
  const isn = (): number => (r() < 0.15 ? 0xffffffff - Math.floor(r() * 300) : Math.floor(r() * 2 ** 32)) >>> 0;
  const open = (f: Flow): void => {
    f.next = [isn(), isn()];
    f.phase = 0;
    f.finSent = [false, false];
  };
  const allPorts: [number, number][] = [[40000, 80], [40001, 80], [40002, 8080], [5000, 5001]];
  const flows: Flow[] = [];
  for (let i = 0, n = 1 + Math.floor(r() * 4); i < n; i++) {
    const f: Flow = { family: r() < 0.8 ? 4 : 6, ports: allPorts[i], next: [0, 0], phase: 0, finSent: [false, false] };
    open(f);
    flows.push(f);
  }
  let ts = 1_700_000_000_000 + Math.floor(r() * 1000);
  for (let k = 0, steps = 10 + Math.floor(r() * 150); k < steps; k++) {
    const f = flows[Math.floor(r() * flows.length)];
    let d = 0;
    let flags: number = ACK;
    let len = 0;
    switch (f.phase) {
      case 0:
        flags = SYN;
        f.phase = 1;
        break;
      case 1:
        d = 1;
        flags = SYN | ACK;
        f.phase = 2;
        break;
      case 2:
        len = r() < 0.2 ? 50 : 0;
        f.phase = 3;
        break;
      case 3: {
        d = r() < 0.5 ? 0 : 1;
        const x = r();
        if (x < 0.12) {
          flags = FIN | ACK;
          len = r() < 0.3 ? 10 : 0;
        } else if (x < 0.5) {
          flags = PSH | ACK;
          len = 1 + Math.floor(r() * 1400);
        }
        break;
      }
      default: {
        d = r() < 0.5 ? 0 : 1;
        const x = r();
        if (!f.finSent[d] && x < 0.4) flags = FIN | ACK;
        else if (!f.finSent[d] && x < 0.55) {
          flags = PSH | ACK;
          len = 1 + Math.floor(r() * 500);
        }
        if (f.finSent[0] && f.finSent[1] && r() < 0.2) {
          open(f);
          d = 0;
          flags = SYN;
          f.phase = 1;
        }
      }
    }
    if (flags & FIN) {
      f.finSent[d] = true;
      f.phase = 4;
    }
    let seq = f.next[d];
    let ack = flags === SYN ? 0 : f.next[1 - d];
    if (r() < dev) {
      const x = r();
      if (x < 0.3) seq = (seq - 1 - Math.floor(r() * 100)) >>> 0;
      else if (x < 0.5) seq = (seq + 1 + Math.floor(r() * 100)) >>> 0;
      else if (x < 0.6) seq = (seq - 1) >>> 0;
      else if (x < 0.75) ack = (ack - 1 - Math.floor(r() * 50)) >>> 0;
      else if (x < 0.85) ack = (ack + 1 + Math.floor(r() * 50)) >>> 0;
      else ack = 0;
    }
    if (r() < dev) {
      const other = [ACK, FIN | ACK, SYN | ACK, SYN, RST, RST | ACK, PSH | ACK, FIN | PSH | ACK, SYN | FIN, 0, ECE | ACK, FIN];
      flags = other[Math.floor(r() * other.length)];
      if (flags & (SYN | RST)) len = 0;
    }
    if (r() < dev / 2) d = 1 - d;
    const advance = len + (flags & SYN ? 1 : 0) + (flags & FIN ? 1 : 0);
    if (((seq - f.next[d]) | 0) >= 0 && !(flags & RST)) f.next[d] = (seq + advance) >>> 0;

    seg.reset();
    seg.family = f.family;
    seg.buf = buf;
    const a = f.family === 4 ? 0 : 16;
    const b = f.family === 4 ? 4 : 32;
    seg.srcOff = d === 0 ? a : b;
    seg.dstOff = d === 0 ? b : a;
    seg.srcPort = f.ports[d];
    seg.dstPort = f.ports[1 - d];
    seg.seq = seq;
    seg.ack = ack;
    seg.flags = flags;
    seg.window = r() < dev / 2 ? 0 : r() < 0.3 ? Math.floor(r() * 65536) : 65535;
    seg.payloadLen = len;
    seg.capturedPayloadLen = r() < 0.95 ? len : Math.floor(len * r());
    if (flags & SYN) {
      seg.mss = r() < 0.8 ? 1460 : -1;
      seg.wscale = r() < 0.7 ? Math.floor(r() * 16) : -1;
      seg.sackPermitted = r() < 0.5;
    }
    seg.hasTimestamps = r() < 0.5;
    const gap = r();
    ts += gap < 0.8 ? Math.floor(r() * 20) : gap < 0.97 ? Math.floor(r() * 5000) : Math.floor(r() * 400_000);
    if (r() < 0.3) ts += r();
    for (const t of trackers) t.process(seg, ts);
    if (r() < 0.02) {
      const at = ts + (r() < 0.5 ? 0 : Math.floor(r() * 400_000));
      for (const t of trackers) t.expire(at);
    }
  }
  for (const t of trackers) t.expire(ts + 1);
}

/** Everything a tracker shows: stats, views, details (with their events and ladders). */
function shown(t: Tracker): unknown {
  const list = t.list();
  return { stats: t.stats(), list, details: list.map((v) => t.detail(v.id)), memory: t.memoryInUse() };
}

const OPTIONS: Partial<TrackerOptions>[] = [
  {},
  { maxConnections: 2, ladderHead: 4, ladderTail: 4, maxEventsPerConn: 3 },
  { ladderHead: 0, ladderTail: 2 },
  { maxConnections: 3, ladderHead: 8, ladderTail: 0, maxEventsPerConn: 100 },
];

describe('fast paths', () => {
  it('end where the general path ends, event for event', () => {
    const taken = new Counting();
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2 ** 31 }), fc.constantFrom(...OPTIONS), fc.constantFrom(0, 0.03, 0.1, 0.3), (seed, opts, dev) => {
        const fast = new Counting(opts);
        const general = new GeneralOnly(opts);
        const events: string[][] = [[], []];
        fast.onEvent((e) => events[0].push(JSON.stringify(e)));
        general.onEvent((e) => events[1].push(JSON.stringify(e)));
        converse([fast, general], seed, dev);
        expect(events[0]).toEqual(events[1]);
        expect(shown(fast)).toEqual(shown(general));
        for (const h of HANDLERS) taken.taken[h] += fast.taken[h];
      }),
      { numRuns: 600 },
    );
    // each handler carried a good share of the traffic
    for (const h of HANDLERS) expect(taken.taken[h]).toBeGreaterThan(500);
  });

  it('end where the general path ends with no listener, counters and all', () => {
    for (let seed = 1; seed <= 300; seed++) {
      const fast = new Tracker();
      const general = new GeneralOnly();
      converse([fast, general], seed * 7919, 0.05);
      expect(shown(fast)).toEqual(shown(general));
    }
  });
});
