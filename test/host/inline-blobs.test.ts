/**
 * Outputs sent inside a RunResult (protocol 1.2): kept only whole, bounded, and written with the
 * same sha256 check and atomic rename as a download, so a damaged inline copy never lands.
 */
import { createHash, randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeInlineBlob } from '../../host/client/download';
import { INLINE_OUTPUT_BYTES, InlineBlobs } from '../../host/client/inline-blobs';

const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');
const same = (a: Uint8Array | undefined, b: Uint8Array) => a !== undefined && Buffer.from(a).equals(b);
const output = (data: Uint8Array, size = data.length) => ({ name: 'out', hash: sha256(data), size, data });

describe('inline outputs on the host', () => {
  const dirs: string[] = [];
  const tempDir = async () => {
    const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'axctl-inline-'));
    dirs.push(dir);
    return dir;
  };
  afterAll(async () => {
    for (const dir of dirs) await fsp.rm(dir, { recursive: true, force: true });
  });

  it('keeps an output only when its data is whole, and a copy of it', () => {
    const blobs = new InlineBlobs();
    const whole = randomBytes(100);
    const original = Buffer.from(whole);
    const hash = sha256(whole);
    const cut = randomBytes(100);
    blobs.keep([output(whole), output(cut.subarray(0, 50), 100), output(new Uint8Array(0), 0)]);
    expect(same(blobs.get(hash, 100), original)).toBe(true);
    expect(blobs.get(hash, 99)).toBeUndefined();
    expect(blobs.get(sha256(cut.subarray(0, 50)), 100)).toBeUndefined();
    expect(blobs.get(sha256(new Uint8Array(0)), 0)).toBeUndefined();
    // The transport may reuse the buffer the field was decoded from.
    whole.fill(0);
    expect(same(blobs.get(hash, 100), original)).toBe(true);
  });

  it('gives the bytes to compare from memory only when they are the blob: else BLOB_CORRUPT', () => {
    const blobs = new InlineBlobs();
    const data = randomBytes(64);
    const damaged = Buffer.from(data);
    damaged[3] ^= 1;
    const claimed = sha256(randomBytes(64)); // what the result said the damaged one was
    blobs.keep([output(data), { name: 'other', hash: claimed, size: 64, data: damaged }]);
    expect(same(blobs.getChecked(sha256(data), 64), data)).toBe(true);
    expect(() => blobs.getChecked(claimed, 64)).toThrow(expect.objectContaining({ code: 'BLOB_CORRUPT' }));
    expect(blobs.getChecked(sha256(randomBytes(64)), 64)).toBeUndefined();
  });

  it('drops the oldest beyond a few runs worth', () => {
    const blobs = new InlineBlobs();
    const runs = Array.from({ length: 6 }, () => randomBytes(INLINE_OUTPUT_BYTES));
    for (const data of runs) blobs.keep([output(data)]);
    expect(blobs.get(sha256(runs[0]!), INLINE_OUTPUT_BYTES)).toBeUndefined();
    expect(same(blobs.get(sha256(runs[5]!), INLINE_OUTPUT_BYTES), runs[5]!)).toBe(true);
  });

  it('writes a good blob into place, and refuses a damaged one (BLOB_CORRUPT) leaving nothing', async () => {
    const dir = await tempDir();
    const data = randomBytes(300);
    const good = path.join(dir, 'good.bin');
    await writeInlineBlob(sha256(data), data, good);
    expect(same(await fsp.readFile(good), data)).toBe(true);
    const bad = path.join(dir, 'bad.bin');
    const damaged = Buffer.from(data);
    damaged[7] ^= 1;
    await expect(writeInlineBlob(sha256(data), damaged, bad)).rejects.toMatchObject({ code: 'BLOB_CORRUPT' });
    expect(await fsp.readdir(dir)).toEqual(['good.bin']);
  });
});
