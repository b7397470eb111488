/**
 * TransferMemory: upload chunks copied into the slabs of one reused arena, or assembled there
 * by a transport and adopted, given back once stored, never handed out twice; collections
 * paced by the bytes moved.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { FRAME_ROOM_BYTES, TransferMemory } from '../../agent/session/transfer-memory';
import { CollectionPacer, SETTLE_AFTER_BYTES } from '../../shared/young-collection';

const SLAB = 64 * 1024;

function memory(opts: { collect?: () => void; collectEveryBytes?: number; keepSlabsMs?: number; full?: () => void } = {}) {
  const pacer = new CollectionPacer(opts.collect ?? null, opts.collectEveryBytes ?? 1e12, opts.full);
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

  it('settles the pacer (a full collection after many bytes) when the last upload ends, not while another runs', async () => {
    let full = 0;
    const pool = memory({ collect: () => undefined, full: () => full++ });
    pool.uploadStarted(); // a second upload at once
    pool.moved(SETTLE_AFTER_BYTES);
    pool.uploadEnded();
    await new Promise((r) => setImmediate(r));
    expect(full).toBe(0); // one still runs
    pool.uploadEnded();
    await new Promise((r) => setImmediate(r));
    expect(full).toBe(1);
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

/** A frame of `data.length + 20` bytes assembled in `into` as a transport would, data at offset 16. */
function assemble(into: Uint8Array, data: Uint8Array): Uint8Array {
  into.fill(0xee, 0, 16);
  into.set(data, 16);
  return into.subarray(16, 16 + data.length);
}

describe('TransferMemory lending slabs to assemble frames in', () => {
  it('lends a slab with room for a whole frame; hold() of a chunk assembled there adopts it without a copy', () => {
    const pool = memory();
    const loans = pool.forConnection();
    const frame = loans.take(SLAB + FRAME_ROOM_BYTES)!;
    expect(frame).not.toBeNull();
    expect(frame.length).toBe(SLAB + FRAME_ROOM_BYTES);
    const data = randomBytes(SLAB);
    const chunk = assemble(frame, data);
    const held = pool.hold(chunk);
    expect(held).toBe(chunk);
    loans.settle();
    expect(Buffer.from(held).equals(data)).toBe(true);
  });

  it('never lends or copies into an adopted slab until its chunk is released, then does', () => {
    const pool = memory();
    const loans = pool.forConnection();
    const data = randomBytes(SLAB);
    const adopted = pool.hold(assemble(loans.take(SLAB + 20)!, data));
    loans.settle();
    // The two other slabs, then none: the adopted one stays out.
    const others = [loans.take(SLAB + 20)!, pool.hold(randomBytes(SLAB))];
    for (const other of others) expect(other.buffer).toBe(adopted.buffer);
    expect(loans.take(SLAB + 20)).toBeNull();
    const extra = randomBytes(SLAB);
    expect(pool.hold(extra)).toBe(extra);
    others[0]!.fill(1);
    others[1]!.fill(2);
    expect(Buffer.from(adopted).equals(data)).toBe(true);
    loans.settle();
    pool.release([others[1]!]);
    pool.release([adopted.subarray(1)]); // not the chunk it handed out: nothing freed
    const a = loans.take(SLAB + 20)!;
    const b = loans.take(SLAB + 20)!;
    expect(loans.take(SLAB + 20)).toBeNull();
    loans.settle();
    pool.release([adopted]);
    pool.release([adopted]); // once only
    const slabs = [loans.take(SLAB + 20), loans.take(SLAB + 20), loans.take(SLAB + 20)];
    expect(slabs.every((s) => s !== null)).toBe(true);
    expect(loans.take(SLAB + 20)).toBeNull();
    expect(slabs.some((s) => s!.byteOffset === adopted.byteOffset - 16)).toBe(true);
    expect([a, b].every((s) => s.buffer === adopted.buffer)).toBe(true);
  });

  it('settle() gives back the slabs nobody adopted, and only its own connection\'s', () => {
    const pool = memory();
    const one = pool.forConnection();
    const two = pool.forConnection();
    const kept = pool.hold(assemble(one.take(SLAB)!, randomBytes(SLAB - 20)));
    const dropped = one.take(SLAB)!; // a frame that was no chunk (or a refused one)
    const other = two.take(SLAB)!; // another connection's frame, still being assembled
    expect(one.take(SLAB)).toBeNull();
    other.fill(7);
    one.settle();
    one.settle(); // nothing more to give back
    const next = one.take(SLAB)!;
    expect(next.byteOffset).toBe(dropped.byteOffset);
    next.fill(9);
    expect(other.every((b) => b === 7)).toBe(true);
    expect(one.take(SLAB)).toBeNull();
    one.settle();
    two.settle();
    pool.release([kept]);
    expect([one.take(SLAB), one.take(SLAB), one.take(SLAB)].every((s) => s !== null)).toBe(true);
  });

  it('copies a chunk that arrived in memory of its own, and one from a slab not lent for it', () => {
    const pool = memory();
    const loans = pool.forConnection();
    const arrived = randomBytes(SLAB);
    const held = pool.hold(arrived);
    expect(held.buffer).not.toBe(arrived.buffer);
    expect(Buffer.from(held).equals(arrived)).toBe(true);
    // A second chunk in an adopted slab (one frame per slab in practice) is not adopted again.
    const frame = loans.take(SLAB + 20)!;
    const first = pool.hold(assemble(frame, randomBytes(SLAB / 2)));
    const second = frame.subarray(16 + SLAB / 2, 16 + SLAB);
    const copy = pool.hold(second);
    expect(copy.byteOffset === second.byteOffset && copy.buffer === second.buffer).toBe(false);
    expect(Buffer.from(copy).equals(Buffer.from(second))).toBe(true);
    loans.settle();
    expect(first.length).toBe(SLAB / 2);
  });

  it('lends nothing while no upload runs, for frames that carry no slab-sized chunk, or larger than a slab', () => {
    const pool = memory();
    const loans = pool.forConnection();
    expect(loans.take(SLAB / 2)).toBeNull();
    expect(loans.take(SLAB + FRAME_ROOM_BYTES + 1)).toBeNull();
    pool.uploadEnded();
    expect(loans.take(SLAB)).toBeNull();
  });

  it('drops lent slabs with the arena, and a settle after that frees nothing of the next arena', async () => {
    const pool = memory({ keepSlabsMs: 20 });
    const loans = pool.forConnection();
    const old = loans.take(SLAB)!; // e.g. a fragment of a message that never completed
    pool.uploadEnded();
    await new Promise((r) => setTimeout(r, 60));
    pool.uploadStarted();
    const fresh = [0, 1, 2].map(() => pool.hold(randomBytes(SLAB)));
    expect(fresh.every((f) => f.buffer !== old.buffer)).toBe(true);
    loans.settle();
    expect(loans.take(SLAB)).toBeNull(); // the old arena's slab did not join the free ones
    pool.release(fresh);
    pool.uploadEnded();
  });
});
