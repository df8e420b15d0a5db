import { describe, expect, it } from 'vitest';
import { FrameSlabs } from '../../src/server/ws-frames';

const MiB = 1024 * 1024;

describe('the slabs batch frames are cut from', () => {
  it('cuts frames one after another and makes a slab only when one is full', () => {
    const slabs = new FrameSlabs();
    const a = slabs.take(600 * 1024);
    const b = slabs.take(600 * 1024);
    expect(a.slab).toBe(b.slab);
    expect(a.frame.buffer).toBe(b.frame.buffer);
    expect(b.frame.byteOffset).toBe(a.frame.byteOffset + 600 * 1024);
    const c = slabs.take(900 * 1024);
    expect(c.slab).not.toBe(a.slab);
    expect(slabs.made).toBe(2);
  });

  it('gives a full slab no new frames while a write of one of its frames is pending, and takes it back when the last is done', () => {
    const slabs = new FrameSlabs();
    const a = slabs.take(MiB);
    a.slab!.pending++;
    a.slab!.pending++;
    slabs.take(MiB); // fills it
    const c = slabs.take(MiB); // a new one
    expect(c.slab).not.toBe(a.slab);
    slabs.endPass();
    a.slab!.done();
    const d = slabs.take(MiB);
    expect(d.slab).toBe(c.slab); // still room in c
    slabs.take(MiB); // c full: a is still pending, so another new one
    expect(slabs.made).toBe(3);
    a.slab!.done();
    slabs.endPass();
    // c had nothing pending: free at the end of the pass, and so is a now
    const e = slabs.take(MiB);
    slabs.take(MiB);
    const f = slabs.take(MiB);
    expect(new Set([e.slab, f.slab]).size).toBe(2);
    expect([a.slab, c.slab]).toContain(f.slab);
    expect(slabs.made).toBe(3);
  });

  it('does not reuse a slab filled during a pass before the pass ends, whose frames may still go to other clients', () => {
    const slabs = new FrameSlabs();
    const a = slabs.take(MiB);
    slabs.take(MiB + 1); // too big to share a slab: a Buffer of its own
    slabs.take(MiB);
    const c = slabs.take(MiB); // a is full, nothing pending, but the pass is not over
    expect(c.slab).not.toBe(a.slab);
    expect(slabs.take(MiB).slab).toBe(c.slab);
    expect(slabs.take(MiB).slab).not.toBe(a.slab);
    expect(slabs.made).toBe(3);
  });

  it('gives a frame larger than half a slab a Buffer of its own', () => {
    const slabs = new FrameSlabs();
    const big = slabs.take(MiB + 1);
    expect(big.slab).toBeNull();
    expect(big.frame.length).toBe(MiB + 1);
    expect(slabs.made).toBe(0);
  });
});
