/**
 * The store on a small, real filesystem (a tmpfs; needs root, as .ci/run has): an upload that
 * cannot fit is refused before any byte is written; one that fills the disk anyway drops only
 * its own partial; a blob over the cap on a disk smaller than the blob says so.
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
