/**
 * UploadBuffers: upload chunks copied into reused slabs, given back once stored, never handed
 * out twice; a young-generation collection every so many bytes.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { UploadBuffers, youngCollector } from '../../agent/session/upload-buffers';

const SLAB = 64 * 1024;

function buffers(collect: (() => void) | null = null, collectEveryBytes = 1e12) {
  const pool = new UploadBuffers({ slabBytes: SLAB, maxSpare: 2, collect, collectEveryBytes });
  pool.uploadStarted();
  return pool;
}

describe('UploadBuffers', () => {
  it('holds a copy: the buffer it arrived in may be reused at once', () => {
    const pool = buffers();
    const arrived = randomBytes(SLAB);
    const expected = Buffer.from(arrived);
    const held = pool.hold(arrived);
    arrived.fill(0);
    expect(Buffer.from(held).equals(expected)).toBe(true);
    expect(held.buffer).not.toBe(arrived.buffer);
  });

  it('reuses a slab once its chunk is released, and never one still held', () => {
    const pool = buffers();
    const a = pool.hold(randomBytes(SLAB));
    const b = pool.hold(randomBytes(SLAB - 1));
    expect(b.buffer).not.toBe(a.buffer);
    expect(b.length).toBe(SLAB - 1);
    pool.release([a]);
    pool.release([a]); // a second release of the same chunk must not put its slab back twice
    const c = pool.hold(randomBytes(SLAB));
    const d = pool.hold(randomBytes(SLAB));
    expect(c.buffer).toBe(a.buffer);
    expect(d.buffer).not.toBe(a.buffer);
    expect(d.buffer).not.toBe(b.buffer);
  });

  it('keeps chunks larger than a slab, or small ones, as they came, and takes none of them as slabs', () => {
    const pool = buffers();
    const large = randomBytes(SLAB + 1);
    const small = randomBytes(SLAB / 2);
    expect(pool.hold(large)).toBe(large);
    expect(pool.hold(small)).toBe(small);
    const exact = Buffer.allocUnsafeSlow(SLAB); // as large as a slab, but not one of ours
    pool.release([large, small, exact]);
    expect(pool.hold(randomBytes(SLAB)).buffer).not.toBe(exact.buffer);
  });

  it('keeps no spare slab once the last upload has ended', () => {
    const pool = buffers();
    const a = pool.hold(randomBytes(SLAB));
    pool.release([a]);
    pool.uploadEnded();
    pool.uploadStarted();
    expect(pool.hold(randomBytes(SLAB)).buffer).not.toBe(a.buffer);
  });

  it('keeps at most maxSpare slabs', () => {
    const pool = buffers();
    const held = [0, 1, 2].map(() => pool.hold(randomBytes(SLAB)));
    pool.release(held);
    const again = [0, 1, 2].map(() => pool.hold(randomBytes(SLAB)).buffer);
    expect(again.filter((b) => held.some((h) => h.buffer === b))).toHaveLength(2);
  });

  it('collects after every collectEveryBytes received', () => {
    let collections = 0;
    const pool = buffers(() => collections++, 3 * SLAB);
    for (let i = 0; i < 10; i++) pool.release([pool.hold(randomBytes(SLAB))]);
    expect(collections).toBe(3);
  });

  it('finds V8 young-generation collection on this Node, and it runs', () => {
    const collect = youngCollector();
    expect(collect).toBeTypeOf('function');
    expect(() => collect!()).not.toThrow();
  });
});
