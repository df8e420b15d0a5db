// SegPool.writeAll keeps the two views of the page it wrote last and looks them up again only when
// a record falls on another page. Blocks freed on an earlier page come back first from the free
// list, so a pool that has grown past one page writes page after page in turns: each record must
// land in its own page, whichever page was written before it. Read back through the accessors,
// which look the page up every time.
import { describe, expect, it } from 'vitest';
import { PG, PinPool, SegPool } from '../../src/track/pools';

type Rec = [ts: number, seq: number, ack: number, len: number, meta: number];

/** A record's fields, distinct for every record index r and write round k. */
const fields = (r: number, k: number): Rec => [r * 1.5 + k / 8, r + 1_000_000 * k, -r - 7 * k - 1, r % 1500, (r << 3) | k];

function readBack(p: SegPool, r: number): Rec {
  return [p.ts(r), p.seq(r), p.ack(r), p.len(r), p.meta(r)];
}

function checkAll(p: SegPool, want: Map<number, Rec>): void {
  for (const [r, rec] of want) expect(readBack(p, r), `record ${r}`).toEqual(rec);
}

describe('SegPool.writeAll through the views of the last page written', () => {
  it('writes blocks reused on an earlier page in turns with blocks of a later page', () => {
    const p = new SegPool();
    const want = new Map<number, Rec>();
    const write = (r: number, k: number): void => {
      const rec = fields(r, k);
      p.writeAll(r, ...rec);
      want.set(r, rec);
    };
    // more than one page of blocks, every record written
    const firstBlocks = PG.PAGE_BLOCKS + PG.PAGE_BLOCKS / 2;
    const blocks: number[] = [];
    for (let i = 0; i < firstBlocks; i++) blocks.push(p.alloc(-1));
    expect(p.blocks.pages).toBe(2);
    for (const b of blocks) for (let i = 0; i < PG.BLOCK; i++) write((b << PG.BLOCK_SHIFT) + i, 0);
    checkAll(p, want);

    // free every third block of the first page: the free list hands them out again first
    const freed = blocks.filter((b) => b < PG.PAGE_BLOCKS && b % 3 === 0);
    for (const b of freed) p.freeChain(b);
    const reused: number[] = [];
    const later: number[] = [];
    for (let i = 0; i < freed.length; i++) reused.push(p.alloc(-1));
    expect(reused.every((b) => b < PG.PAGE_BLOCKS)).toBe(true);
    expect(new Set(reused)).toEqual(new Set(freed));
    for (let i = 0; i < freed.length; i++) later.push(p.alloc(-1));
    expect(later.every((b) => b >= PG.PAGE_BLOCKS)).toBe(true);

    // records written alternating: a reused block on page 0, a new one on page 1 (or 2), …
    for (let i = 0; i < freed.length; i++) {
      for (let j = 0; j < PG.BLOCK; j++) {
        write((reused[i] << PG.BLOCK_SHIFT) + j, 1);
        write((later[i] << PG.BLOCK_SHIFT) + j, 2);
      }
    }
    // and records of the middle of page 0 and of page 1 rewritten in turns
    for (let i = 0; i < 64; i++) {
      write(((PG.PAGE_BLOCKS / 2 + 1 + 3 * i) << PG.BLOCK_SHIFT) + (i & 3), 3);
      write(PG.PAGE_RECORDS + 4 * i + 1, 3);
    }
    checkAll(p, want);
  });

  it('writes the pinned copies (their own stride) in turns across pages', () => {
    const p = new PinPool();
    const want = new Map<number, Rec>();
    const blocks: number[] = [];
    for (let i = 0; i < PG.PAGE_BLOCKS + 8; i++) blocks.push(p.alloc(-1));
    const first = blocks.slice(0, 8).map((b) => b << PG.BLOCK_SHIFT);
    const last = blocks.slice(-8).map((b) => b << PG.BLOCK_SHIFT);
    for (let i = 0; i < 8; i++) {
      for (const r of [first[i], last[i]]) {
        const rec = fields(r, 4);
        p.writeAll(r, ...rec);
        want.set(r, rec);
      }
    }
    checkAll(p, want);
  });
});
