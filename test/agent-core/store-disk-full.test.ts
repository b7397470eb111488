/**
 * The store on a small, real filesystem (a tmpfs; needs root, as .ci/run has): an upload that
 * cannot fit is refused before any byte is written, also when it is the rest of other uploads
 * in progress that leaves it no room; one that fills the disk anyway drops only its own
 * partial; a blob over the cap on a disk smaller than the blob says so.
 */
import { createHash, randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BlobStore } from '../../agent/store/blob-store';
import { storeError } from './helpers';
import { mountTmpfs } from '../agent/tmpfs';

const MiB = 1024 * 1024;
const sha = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');
let base: string;
let disk: string;
let unmount: (() => void) | null = null;

beforeEach(async () => {
  base = await fsp.mkdtemp(path.join(os.tmpdir(), 'axctl-store-disk-'));
  disk = path.join(base, 'disk');
  unmount = await mountTmpfs(disk, 'size=20m');
});
afterEach(async () => {
  unmount?.();
  await fsp.rm(base, { recursive: true, force: true });
});

describe('a store on a disk smaller than its cap', () => {
  it('refuses an upload that cannot fit at its start, writing nothing, and later uploads still work', async () => {
    const store = await BlobStore.open(path.join(disk, 'store'), { capBytes: 100 * MiB });
    const big = randomBytes(57 * MiB);
    const err = await storeError(store.uploadOffset(sha(big), big.length));
    expect(err.code).toBe('DISK_FULL');
    expect(err.message).toMatch(new RegExp(`^blob ${sha(big)}: ${big.length} more bytes do not fit on the board's disk: \\d+ bytes free, and the store could free only 0 more$`));
    expect(err.hint).toMatch(/^free at least \d+ bytes on the board's disk holding .*store, or give the agent a --store on a larger disk$/);
    expect(await fsp.readdir(path.join(disk, 'store', 'partial'))).toEqual([]);
    const small = randomBytes(976);
    expect(await store.uploadOffset(sha(small), small.length)).toBe(0);
    expect(await store.writeChunk(sha(small), small.length, 0, small)).toEqual({ received: 976, complete: true });
  });

  it('evicts unused blobs to make disk room the cap alone would not', async () => {
    const store = await BlobStore.open(path.join(disk, 'store'), { capBytes: 100 * MiB });
    const old = randomBytes(12 * MiB);
    await store.uploadOffset(sha(old), old.length);
    await store.writeChunk(sha(old), old.length, 0, old);
    const next = randomBytes(12 * MiB);
    expect(await store.uploadOffset(sha(next), next.length)).toBe(0);
    expect(await store.has(sha(old))).toBeNull();
    expect(await store.writeChunk(sha(next), next.length, 0, next)).toMatchObject({ complete: true });
  });

  it('drops only the partial of the upload that hit a full disk', async () => {
    const store = await BlobStore.open(path.join(disk, 'store'), { capBytes: 100 * MiB });
    const other = randomBytes(2 * MiB);
    await store.uploadOffset(sha(other), other.length);
    await store.writeChunk(sha(other), other.length, 0, other.subarray(0, MiB)); // another host's, half done
    const data = randomBytes(10 * MiB);
    await store.uploadOffset(sha(data), data.length);
    await store.writeChunk(sha(data), data.length, 0, data.subarray(0, MiB));
    await fsp.writeFile(path.join(disk, 'filler'), Buffer.alloc(12 * MiB)); // something else fills the disk
    const err = await storeError(store.writeChunk(sha(data), data.length, MiB, data.subarray(MiB)));
    expect(err.code).toBe('DISK_FULL');
    expect(err.message).toBe(`blob ${sha(data)}: the board's disk filled up after ${MiB} of ${data.length} bytes; the partial upload was dropped`);
    expect(await fsp.readdir(path.join(disk, 'store', 'partial'))).toEqual([`${sha(other)}.${other.length}.part`]);
    await fsp.rm(path.join(disk, 'filler'));
    expect(await store.uploadOffset(sha(other), other.length)).toBe(MiB);
    expect(await store.writeChunk(sha(other), other.length, MiB, other.subarray(MiB))).toMatchObject({ complete: true });
  });

  it('a blob over the cap on a disk smaller than the blob: the hint names the disk, not the cap', async () => {
    const store = await BlobStore.open(path.join(disk, 'store'), { capBytes: 10 * MiB });
    const err = await storeError(store.uploadOffset('a'.repeat(64), 30 * MiB));
    expect(err.code).toBe('STORE_FULL');
    expect(err.hint).toBe(`the board's disk holding the store is only ${20 * MiB} bytes: give the agent a --store on a larger disk`);
    const within = await storeError(store.uploadOffset('b'.repeat(64), 15 * MiB));
    expect(within.hint).toBe(`raise the agent's store cap (--store-cap; the disk holding the store is ${20 * MiB} bytes)`);
  });
});

describe('uploads begun together on a small disk', () => {
  const open = (opts: { partialIdleMs?: number } = {}) => BlobStore.open(path.join(disk, 'store'), { capBytes: 100 * MiB, ...opts });
  const partials = () => fsp.readdir(path.join(disk, 'store', 'partial'));

  it('refuses at its start an upload that does not fit beside the rest of one in progress; the first completes, and then a new one fits', async () => {
    const store = await open();
    const first = randomBytes(8 * MiB);
    const second = randomBytes(13 * MiB);
    expect(await store.uploadOffset(sha(first), first.length)).toBe(0);
    // ~20 MiB free, 8 of them still to come for the first: 13 do not fit, though nothing is written yet.
    const err = await storeError(store.uploadOffset(sha(second), second.length));
    expect(err.code).toBe('DISK_FULL');
    expect(err.message).toMatch(new RegExp(`^blob ${sha(second)}: ${second.length} more bytes do not fit on the board's disk: \\d+ bytes free, ${first.length} of them promised to 1 other upload in progress, and the store could free only 0 more$`));
    expect(err.hint).toMatch(/^free at least \d+ bytes on the board's disk holding .*store, or give the agent a --store on a larger disk$/);
    expect(await partials()).toEqual([]);
    // Half written: what it still expects shrinks as the free space does, so the answer is the same.
    expect(await store.writeChunk(sha(first), first.length, 0, first.subarray(0, 4 * MiB))).toEqual({ received: 4 * MiB, complete: false });
    const again = await storeError(store.uploadOffset(sha(second), second.length));
    expect(again.message).toMatch(new RegExp(`: \\d+ bytes free, ${4 * MiB} of them promised to 1 other upload in progress, and the store could free only 0 more$`));
    expect(await store.writeChunk(sha(first), first.length, 4 * MiB, first.subarray(4 * MiB))).toEqual({ received: first.length, complete: true });
    // Complete, the first promises nothing more: 11 MiB fit in the ~12 MiB left without evicting it.
    const third = randomBytes(11 * MiB);
    expect(await store.uploadOffset(sha(third), third.length)).toBe(0);
    expect(await store.has(sha(first))).toEqual({ hash: sha(first), size: first.length });
    expect(await store.writeChunk(sha(third), third.length, 0, third)).toMatchObject({ complete: true });
  });

  it('two uploads begun at the same moment: exactly one is refused', async () => {
    const store = await open();
    const a = randomBytes(12 * MiB);
    const b = randomBytes(12 * MiB);
    const results = await Promise.allSettled([store.uploadOffset(sha(a), a.length), store.uploadOffset(sha(b), b.length)]);
    expect(results.filter((r) => r.status === 'fulfilled')).toEqual([{ status: 'fulfilled', value: 0 }]);
    expect(results.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason.code)).toEqual(['DISK_FULL']);
    const winner = results[0]!.status === 'fulfilled' ? a : b;
    expect(await store.writeChunk(sha(winner), winner.length, 0, winner)).toMatchObject({ complete: true });
  });

  it('a dropped upload stops counting: the refused one then fits', async () => {
    const store = await open();
    const first = randomBytes(8 * MiB);
    const second = randomBytes(13 * MiB);
    await store.uploadOffset(sha(first), first.length);
    await store.writeChunk(sha(first), first.length, 0, first.subarray(0, 4 * MiB));
    expect((await storeError(store.uploadOffset(sha(second), second.length))).code).toBe('DISK_FULL');
    // The rest of the first arrives corrupted: its partial is dropped at the end.
    const corrupt = Buffer.from(first.subarray(4 * MiB));
    corrupt[0] ^= 0xff;
    expect((await storeError(store.writeChunk(sha(first), first.length, 4 * MiB, corrupt))).code).toBe('HASH_MISMATCH');
    expect(await partials()).toEqual([]);
    expect(await store.uploadOffset(sha(second), second.length)).toBe(0);
    expect(await store.writeChunk(sha(second), second.length, 0, second)).toMatchObject({ complete: true });
  });

  it('an upload whose host stopped (end) no longer holds the rest of its bytes; its partial stays to be resumed', async () => {
    const store = await open();
    const first = randomBytes(8 * MiB);
    const second = randomBytes(13 * MiB);
    const upload = await store.beginUpload(sha(first), first.length);
    expect(upload).toMatchObject({ offset: 0, complete: false });
    await store.writeChunk(sha(first), first.length, 0, first.subarray(0, 4 * MiB));
    expect((await storeError(store.uploadOffset(sha(second), second.length))).code).toBe('DISK_FULL');
    // The host's connection was cut: the session ends the upload (twice is harmless).
    upload.end();
    upload.end();
    expect(await store.partialOffset(sha(first), first.length)).toBe(4 * MiB);
    expect(await store.uploadOffset(sha(second), second.length)).toBe(0);
    expect(await store.writeChunk(sha(second), second.length, 0, second)).toMatchObject({ complete: true });
  });

  it('an upload begun and ended before its first byte leaves nothing behind', async () => {
    const store = await open();
    const data = randomBytes(8 * MiB);
    const upload = await store.beginUpload(sha(data), data.length);
    upload.end();
    expect(await store.partialOffset(sha(data), data.length)).toBe(0);
    expect(await partials()).toEqual([]);
    // Nothing promised any more: 19 MiB of the ~20 free fit.
    const big = randomBytes(19 * MiB);
    expect(await store.uploadOffset(sha(big), big.length)).toBe(0);
  });

  it('a resume whose idle partial is evicted while it waits for the space lock starts over at 0, leaving no record without a file', async () => {
    const store = await BlobStore.open(path.join(disk, 'store'), { capBytes: 10_000, partialIdleMs: 100 });
    const a = randomBytes(2000);
    const first = await store.beginUpload(sha(a), a.length);
    await store.writeChunk(sha(a), a.length, 0, a.subarray(0, 1000));
    first.end(); // its host was cut off
    await new Promise((resolve) => setTimeout(resolve, 200)); // the partial is idle now
    // Hold the space lock so that another upload's eviction and the resume queue up in this order.
    const spaceLock = (store as unknown as { space: { spaceLock: { run(key: string, op: () => Promise<void>): Promise<void> } } }).space.spaceLock;
    let openFirst!: () => void;
    let openSecond!: () => void;
    void spaceLock.run('space', () => new Promise<void>((resolve) => (openFirst = resolve)));
    const b = randomBytes(9500);
    const bWrite = store.writeChunk(sha(b), b.length, 0, b); // needs the idle partial's 1000 bytes
    await new Promise((resolve) => setTimeout(resolve, 50));
    void spaceLock.run('space', () => new Promise<void>((resolve) => (openSecond = resolve)));
    const resume = store.beginUpload(sha(a), a.length); // its host comes back
    await new Promise((resolve) => setTimeout(resolve, 50));
    openFirst();
    await bWrite; // evicted the idle partial
    openSecond();
    const resumed = await resume;
    expect(resumed.offset).toBe(0);
    expect((await store.usage()).usedBytes).toBeLessThanOrEqual(10_000);
    expect(await store.writeChunk(sha(a), a.length, 0, a.subarray(0, 500))).toEqual({ received: 500, complete: false });
    resumed.end();
  });

  it('an upload idle longer than the partial idle time no longer holds the rest of its bytes', async () => {
    const store = await open({ partialIdleMs: 1500 });
    const first = randomBytes(8 * MiB);
    const second = randomBytes(13 * MiB);
    await store.uploadOffset(sha(first), first.length);
    await store.writeChunk(sha(first), first.length, 0, first.subarray(0, 4 * MiB));
    expect((await storeError(store.uploadOffset(sha(second), second.length))).code).toBe('DISK_FULL');
    await new Promise((resolve) => setTimeout(resolve, 1600));
    // ~16 MiB free hold the 13 without evicting the idle partial.
    expect(await store.uploadOffset(sha(second), second.length)).toBe(0);
    expect(await partials()).toEqual([`${sha(first)}.${first.length}.part`]);
    expect(await store.writeChunk(sha(second), second.length, 0, second)).toMatchObject({ complete: true });
  });

  it('evicts an unpinned old blob to make room for both; a pinned one is kept and the second refused', async () => {
    const store = await open();
    const old = randomBytes(8 * MiB);
    await store.uploadOffset(sha(old), old.length);
    await store.writeChunk(sha(old), old.length, 0, old);
    const first = randomBytes(8 * MiB);
    const second = randomBytes(8 * MiB);
    expect(await store.uploadOffset(sha(first), first.length)).toBe(0);
    expect(await store.has(sha(old))).not.toBeNull(); // ~12 MiB free: the first alone fits
    const unpin = store.pin([sha(old)]);
    const err = await storeError(store.uploadOffset(sha(second), second.length));
    expect(err.code).toBe('DISK_FULL');
    expect(err.message).toMatch(new RegExp(`${first.length} of them promised to 1 other upload in progress, and the store could free only 0 more$`));
    unpin();
    expect(await store.uploadOffset(sha(second), second.length)).toBe(0);
    expect(await store.has(sha(old))).toBeNull();
    expect(await store.writeChunk(sha(first), first.length, 0, first)).toMatchObject({ complete: true });
    expect(await store.writeChunk(sha(second), second.length, 0, second)).toMatchObject({ complete: true });
  });
});
