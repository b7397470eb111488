/**
 * Batched writes: a ChunkBatch (consecutive chunks the session queued up) is written with one
 * writev and hashed part by part, never joined. The same guarantees as single chunks: bytes in
 * order, written before the reply, sha256 checked before the blob appears, resumable.
 */
import { createHash, randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BlobStore } from '../../agent/store/blob-store';
import { ChunkBatch } from '../../agent/store/chunk-batch';
import { writeAt } from '../../agent/store/disk';
import { StoreError } from '../../agent/store/errors';

const sha = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');
let dir: string;

beforeEach(async () => {
  dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'axctl-store-batch-'));
});
afterEach(async () => {
  await fsp.rm(dir, { recursive: true, force: true });
});

/** `data` cut at `cuts` into separate views (odd offsets included, as network buffers come). */
function pieces(data: Uint8Array, cuts: number[]): Uint8Array[] {
  const bounds = [0, ...cuts, data.length];
  return bounds.slice(1).map((end, i) => data.subarray(bounds[i]!, end));
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  const err = await promise.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(StoreError);
  return (err as StoreError).code;
}

describe('ChunkBatch', () => {
  it('counts its bytes in length, like a Uint8Array', () => {
    expect(new ChunkBatch([new Uint8Array(3), new Uint8Array(0), new Uint8Array(5)]).length).toBe(8);
    expect(new ChunkBatch([]).length).toBe(0);
  });
});

describe('batched uploads', () => {
  it('stores a blob written as batches of parts, in order, with the received counts of single chunks', async () => {
    const store = await BlobStore.open(dir, { capBytes: 10_000_000 });
    const data = randomBytes(300_001);
    const hash = sha(data);
    const first = new ChunkBatch(pieces(data.subarray(0, 100_000), [1, 4097, 4097, 65_537]));
    const second = new ChunkBatch(pieces(data.subarray(100_000, 250_000), [3, 100_000]));
    expect(await store.writeChunk(hash, data.length, 0, first)).toEqual({ received: 100_000, complete: false });
    expect(await store.writeChunk(hash, data.length, 100_000, second)).toEqual({ received: 250_000, complete: false });
    expect(await store.writeChunk(hash, data.length, 250_000, data.subarray(250_000))).toEqual({ received: data.length, complete: true });
    expect((await fsp.readFile(await store.pathOf(hash))).equals(data)).toBe(true);
  });

  it('writes only the new part of a batch that overlaps what is stored; refuses a gap, a batch past the end, or a part that is not bytes', async () => {
    const store = await BlobStore.open(dir, { capBytes: 10_000_000 });
    const data = randomBytes(1000);
    const hash = sha(data);
    await store.writeChunk(hash, data.length, 0, data.subarray(0, 100));
    // Overlapping what is stored (another host's upload of the same blob): only the new part is written.
    expect(await store.writeChunk(hash, data.length, 50, new ChunkBatch(pieces(data.subarray(50, 200), [70])))).toEqual({ received: 200, complete: false });
    expect(await codeOf(store.writeChunk(hash, data.length, 250, new ChunkBatch(pieces(data.subarray(250, 300), [20]))))).toBe('OFFSET_MISMATCH');
    expect(await codeOf(store.writeChunk(hash, data.length, 200, new ChunkBatch([data.subarray(200), new Uint8Array(1)])))).toBe('CHUNK_PAST_END');
    const notBytes = new ChunkBatch([data.subarray(200, 300), 'text' as unknown as Uint8Array]);
    expect(await codeOf(store.writeChunk(hash, data.length, 200, notBytes))).toBe('BAD_CHUNK');
    expect(await store.uploadOffset(hash, data.length)).toBe(200); // the refused ones wrote nothing
    expect(await store.writeChunk(hash, data.length, 200, new ChunkBatch(pieces(data.subarray(200), [300])))).toEqual({ received: 1000, complete: true });
    expect(Buffer.from(await store.read(hash, 0, 1000)).equals(data)).toBe(true);
  });

  it('discards a batched upload whose sha256 is not its name', async () => {
    const store = await BlobStore.open(dir, { capBytes: 10_000_000 });
    const data = randomBytes(5000);
    const wrongName = sha(Buffer.from('something else'));
    expect(await codeOf(store.writeChunk(wrongName, data.length, 0, new ChunkBatch(pieces(data, [1000, 2000]))))).toBe('HASH_MISMATCH');
    expect(await store.has(wrongName)).toBeNull();
    expect(await fsp.readdir(path.join(dir, 'partial'))).toEqual([]);
  });

  it('resumes after a restart from what the batches left on disk', async () => {
    const data = randomBytes(200_000);
    const hash = sha(data);
    const before = await BlobStore.open(dir, { capBytes: 10_000_000 });
    await before.writeChunk(hash, data.length, 0, new ChunkBatch(pieces(data.subarray(0, 120_000), [40_000, 80_001])));
    const after = await BlobStore.open(dir, { capBytes: 10_000_000 });
    expect(await after.uploadOffset(hash, data.length)).toBe(120_000);
    const reply = await after.writeChunk(hash, data.length, 120_000, new ChunkBatch(pieces(data.subarray(120_000), [5])));
    expect(reply).toEqual({ received: data.length, complete: true });
    expect((await fsp.readFile(await after.pathOf(hash))).equals(data)).toBe(true);
  });
});

describe('writeAt', () => {
  it('writes the parts back to back at the offset, calling back for each non-empty part', async () => {
    const file = path.join(dir, 'f');
    await fsp.writeFile(file, Buffer.from('0123456789'));
    const seen: string[] = [];
    const parts = [Buffer.from('ab'), Buffer.alloc(0), Buffer.from('cde')];
    await writeAt(file, 4, parts, (part) => seen.push(Buffer.from(part).toString()));
    expect(await fsp.readFile(file, 'utf8')).toBe('0123abcde9');
    expect(seen).toEqual(['ab', 'cde']);
  });

  it('hands large parts to the callback in slices of at most 1 MiB, in order', async () => {
    const file = path.join(dir, 'f');
    const big = randomBytes(2.5 * 1024 * 1024);
    const slices: Uint8Array[] = [];
    await writeAt(file, 0, [big.subarray(0, 10), big.subarray(10)], (slice) => slices.push(slice));
    expect(slices.map((x) => x.length)).toEqual([10, 1024 * 1024, 1024 * 1024, 0.5 * 1024 * 1024 - 10]);
    expect(Buffer.concat(slices).equals(big)).toBe(true);
    expect((await fsp.readFile(file)).equals(big)).toBe(true);
  });

  it('does not create a file that vanished before a write past its start (no zeros in front)', async () => {
    const file = path.join(dir, 'gone');
    await expect(writeAt(file, 4, [Buffer.from('abc')], () => undefined)).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(fsp.stat(file)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('cuts the file back to the offset and fails when the callback fails', async () => {
    const file = path.join(dir, 'f');
    await fsp.writeFile(file, Buffer.from('0123'));
    const failing = writeAt(file, 4, [Buffer.from('abc'), Buffer.from('def')], (part) => {
      if (part[0] === 0x64) throw new Error('hash broke');
    });
    await expect(failing).rejects.toThrow('hash broke');
    expect(await fsp.readFile(file, 'utf8')).toBe('0123');
  });
});
