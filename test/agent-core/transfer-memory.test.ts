/**
 * TransferMemory: upload chunks copied into the slabs of one reused arena, given back once
 * stored, never handed out twice; collections paced by the bytes moved.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { TransferMemory } from '../../agent/session/transfer-memory';
import { CollectionPacer } from '../../shared/young-collection';

const SLAB = 64 * 1024;

function memory(opts: { collect?: () => void; collectEveryBytes?: number; keepSlabsMs?: number } = {}) {
  const pacer = new CollectionPacer(opts.collect ?? null, opts.collectEveryBytes ?? 1e12);
  const pool = new TransferMemory({ slabBytes: SLAB, slabs: 3, pacer, keepSlabsMs: opts.keepSlabsMs ?? 10 });
  pool.uploadStarted();
  return pool;
}

/** Same memory: same buffer and offset. */
const same = (a: Uint8Array, b: Uint8Array) => a.buffer === b.buffer && a.byteOffset === b.byteOffset;

describe('TransferMemory', () => {
  it('holds a copy: the buffer it arrived in may be reused at once', () => {
    const pool = memory();
    const arrived = randomBytes(SLAB);
    const expected = Buffer.from(arrived);
    const held = pool.hold(arrived);
    arrived.fill(0);
    expect(Buffer.from(held).equals(expected)).toBe(true);
    expect(held.buffer).not.toBe(arrived.buffer);
  });

  it('reuses a slab once its chunk is released, and never one still held', () => {
    const pool = memory();
    const a = pool.hold(randomBytes(SLAB));
    const b = pool.hold(randomBytes(SLAB - 1));
    expect(same(a, b)).toBe(false);
    expect(b.length).toBe(SLAB - 1);
    pool.release([a]);
    pool.release([a]); // a second release of the same chunk must not free its slab twice
    const c = pool.hold(randomBytes(SLAB));
    const d = pool.hold(randomBytes(SLAB));
    expect(same(c, a)).toBe(true);
    expect(same(d, a) || same(d, b)).toBe(false);
    const bytes = Buffer.from(b); // b's slab is still held: the holds above left it alone
    expect(Buffer.from(b).equals(bytes)).toBe(true);
  });

  it('keeps a chunk as it came when every slab holds one, and slabs are free again once released', () => {
    const pool = memory();
    const held = [0, 1, 2].map(() => pool.hold(randomBytes(SLAB)));
    const extra = randomBytes(SLAB);
    expect(pool.hold(extra)).toBe(extra);
    pool.release([extra, ...held]);
    const again = pool.hold(randomBytes(SLAB));
    expect(held.some((h) => same(h, again))).toBe(true);
  });

  it('keeps chunks larger than a slab, or small ones, as they came, and takes none of them back as slabs', () => {
    const pool = memory();
    const large = randomBytes(SLAB + 1);
    const small = randomBytes(SLAB / 2);
    expect(pool.hold(large)).toBe(large);
    expect(pool.hold(small)).toBe(small);
    const held = [0, 1, 2].map(() => pool.hold(randomBytes(SLAB)));
    pool.release([large, small, held[0]!.subarray(1)]); // not one of the chunks it holds
    const extra = randomBytes(SLAB);
    expect(pool.hold(extra)).toBe(extra); // so no slab became free
  });

  it('keeps its slabs from one upload to the next, and none once uploads have stopped for keepSlabsMs', async () => {
    const pool = memory({ keepSlabsMs: 40 });
    const a = pool.hold(randomBytes(SLAB));
    pool.release([a]);
    pool.uploadEnded();
    pool.uploadStarted(); // the next upload of a deploy
    const b = pool.hold(randomBytes(SLAB));
    expect(same(b, a)).toBe(true);
    pool.release([b]);
    pool.uploadEnded();
    await new Promise((r) => setTimeout(r, 100));
    pool.uploadStarted();
    expect(pool.hold(randomBytes(SLAB)).buffer).not.toBe(a.buffer);
    pool.release([a]); // a chunk of the dropped arena is not taken back
    pool.uploadEnded();
  });

  it('collects after every collectEveryBytes moved, received or sent', () => {
    let collections = 0;
    const pool = memory({ collect: () => collections++, collectEveryBytes: 3 * SLAB });
    for (let i = 0; i < 10; i++) pool.release([pool.hold(randomBytes(SLAB))]);
    expect(collections).toBe(3);
    pool.moved(2 * SLAB);
    expect(collections).toBe(4);
  });
});
