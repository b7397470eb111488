/** openTensor: .npy by header, raw by options or the .npy twin, and clear errors otherwise. */
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTensor, npyTwinPath, readAll } from '../../shared/tensor/open';
import { DEFAULT_CHUNK_BYTES } from '../../shared/tensor/raw-reader';
import { expectAxError, FIXTURES, makeTempDir, plainValues } from './helpers';

let dir: string;
let cleanup: () => Promise<void>;
beforeAll(async () => ({ dir, cleanup } = await makeTempDir()));
afterAll(async () => cleanup());

const gtInput = join(FIXTURES, 'gt', 'input', 'data.bin');
const gtJoint = join(FIXTURES, 'gt', 'joint', 'out.bin');

describe('openTensor on a gt folder', () => {
  it('reads a raw .bin with dtype and shape from its .npy twin', async () => {
    const src = await openTensor(gtInput);
    expect(src.info).toEqual({ path: gtInput, dtype: 'uint8', shape: [1, 4, 4, 3], length: 48 });
    expect(plainValues(await readAll(src))).toEqual(Array.from({ length: 48 }, (_, i) => (i * 5) % 256));
    const twin = await readAll(await openTensor(join(FIXTURES, 'gt', 'input', 'data.npy')));
    expect(plainValues(await readAll(src))).toEqual(plainValues(twin));
  });

  it('gives the same float32 values from the .bin and the .npy', async () => {
    const bin = await readAll(await openTensor(gtJoint));
    const npy = await readAll(await openTensor(join(FIXTURES, 'gt', 'joint', 'out.npy')));
    expect(bin.constructor).toBe(Float32Array);
    expect(plainValues(bin)).toEqual(plainValues(npy));
    expect(bin[0]).toBe(-2);
    expect(bin[9]).toBe(2);
  });

  it('options win over the twin for raw files', async () => {
    const src = await openTensor(gtJoint, { dtype: 'int32', shape: [2, 5] });
    expect(src.info).toMatchObject({ dtype: 'int32', shape: [2, 5] });
    expect((await openTensor(gtJoint, { shape: [10] })).info).toMatchObject({ dtype: 'float32', shape: [10] });
  });

  it('a given dtype other than the twin one reads the file flat instead of taking the twin shape', async () => {
    // The twin says float32 [1, 10]; ten int16 elements would be 20 of the 40 bytes.
    expect((await openTensor(gtJoint, { dtype: 'int16' })).info).toMatchObject({ dtype: 'int16', shape: [20] });
    expect((await openTensor(gtJoint, { dtype: 'float32' })).info).toMatchObject({ dtype: 'float32', shape: [1, 10] });
  });

  it('npyTwinPath swaps or appends the extension', () => {
    expect(npyTwinPath('/g/joint/out.bin')).toBe('/g/joint/out.npy');
    expect(npyTwinPath('/g/joint/out')).toBe('/g/joint/out.npy');
    expect(npyTwinPath('a.b/c.raw')).toBe('a.b/c.npy');
  });
});

describe('openTensor on raw files without a twin', () => {
  it('needs a dtype: TENSOR_NEEDS_SPEC says what to pass', async () => {
    const file = join(dir, 'lonely.bin');
    await copyFile(gtJoint, file);
    const err = await expectAxError(openTensor(file), 'TENSOR_NEEDS_SPEC', file);
    expect(err.message).toContain('lonely.npy');
    expect((err as unknown as { hint: string }).hint).toMatch(/--dtype and --shape.*--log/);
  });

  it('with a dtype alone reads the file as a flat tensor', async () => {
    const file = join(dir, 'flat.bin');
    await copyFile(gtJoint, file);
    const src = await openTensor(file, { dtype: 'float32' });
    expect(src.info).toMatchObject({ dtype: 'float32', shape: [10], length: 10 });
    const odd = join(dir, 'odd.bin');
    await writeFile(odd, Buffer.alloc(10));
    const err = await expectAxError(openTensor(odd, { dtype: 'float32' }), 'BIN_SIZE_MISMATCH', odd);
    expect(err.message).toMatch(/10 bytes, not a whole number of float32 elements/);
  });

  it('a size that does not match → BIN_SIZE_MISMATCH with both numbers and what to pass', async () => {
    const err = await expectAxError(openTensor(gtJoint, { dtype: 'float32', shape: [1, 1000] }), 'BIN_SIZE_MISMATCH', gtJoint);
    expect(err.message).toMatch(/is 40 bytes, but shape \[1, 1000\] of float32 needs 4000/);
    expect((err as unknown as { hint: string }).hint).toMatch(/--dtype and --shape/);
    const hint = (await expectAxError(openTensor(gtJoint, { dtype: 'float64', shape: [10, 1] }), 'BIN_SIZE_MISMATCH')) as unknown as { hint: string };
    expect(hint.hint).toMatch(/fits 10 elements of a 4-byte dtype/);
  });

  it('an empty file → TENSOR_EMPTY_FILE, unless the shape has no elements', async () => {
    const file = join(dir, 'empty.bin');
    await writeFile(file, '');
    await expectAxError(openTensor(file), 'TENSOR_EMPTY_FILE', file);
    await expectAxError(openTensor(file, { dtype: 'float32', shape: [1, 10] }), 'TENSOR_EMPTY_FILE', file);
    expect((await openTensor(file, { dtype: 'float32', shape: [1, 0] })).info.length).toBe(0);
    const npy = join(dir, 'empty.npy');
    await writeFile(npy, '');
    await expectAxError(openTensor(npy), 'TENSOR_EMPTY_FILE', npy);
  });

  it('a folder → FILE_IS_FOLDER, a missing file → FILE_NOT_FOUND, both naming the path', async () => {
    const folder = join(dir, 'outputs.bin');
    await mkdir(folder);
    await expectAxError(openTensor(folder, { dtype: 'uint8', shape: [1] }), 'FILE_IS_FOLDER', folder);
    await expectAxError(openTensor(folder), 'FILE_IS_FOLDER', folder);
    const missing = join(dir, 'missing.bin');
    await expectAxError(openTensor(missing, { dtype: 'uint8', shape: [1] }), 'FILE_NOT_FOUND', missing);
  });

  it('a damaged twin is reported, naming the twin', async () => {
    const file = join(dir, 'withbadtwin.bin');
    await writeFile(file, Buffer.alloc(8));
    await writeFile(join(dir, 'withbadtwin.npy'), 'not numpy at all');
    await expectAxError(openTensor(file), 'NPY_BAD_MAGIC', join(dir, 'withbadtwin.npy'));
  });
});

describe('openTensor on .npy with options', () => {
  const npy = join(FIXTURES, 'le_int32.npy');

  it('agreeing options are fine', async () => {
    expect((await openTensor(npy, { dtype: 'int32', shape: [2, 3] })).info).toMatchObject({ dtype: 'int32', shape: [2, 3] });
  });

  it('disagreeing options → TENSOR_SPEC_MISMATCH', async () => {
    const err = await expectAxError(openTensor(npy, { dtype: 'float32' }), 'TENSOR_SPEC_MISMATCH', npy);
    expect(err.message).toMatch(/has dtype int32 in its header, but float32 was given/);
    const err2 = await expectAxError(openTensor(npy, { shape: [6] }), 'TENSOR_SPEC_MISMATCH', npy);
    expect(err2.message).toMatch(/has shape \[2, 3\] in its header, but \[6\] was given/);
  });

  it('the .npy extension is recognised in any case', async () => {
    const upper = join(dir, 'UPPER.NPY');
    await copyFile(npy, upper);
    expect((await openTensor(upper)).info.dtype).toBe('int32');
  });
});

describe('streaming', () => {
  it('a large raw file streams in default-sized chunks', async () => {
    const n = 3 * 1024 * 1024 + 5;
    const data = new Float32Array(n).map((_, i) => i * 0.5);
    const file = join(dir, 'big.bin');
    await writeFile(file, new Uint8Array(data.buffer));
    const src = await openTensor(file, { dtype: 'float32' });
    let seen = 0;
    let chunks = 0;
    for await (const chunk of src.chunks()) {
      expect(chunk).toBeInstanceOf(Float32Array);
      expect(chunk.byteLength).toBeLessThanOrEqual(DEFAULT_CHUNK_BYTES);
      expect(chunk[0]).toBe(seen * 0.5);
      expect(chunk[chunk.length - 1]).toBe((seen + chunk.length - 1) * 0.5);
      seen += chunk.length;
      chunks++;
    }
    expect(seen).toBe(n);
    expect(chunks).toBe(Math.ceil((n * 4) / DEFAULT_CHUNK_BYTES));
    expect(chunks).toBeGreaterThan(1);
  });

  it('each call to chunks() starts over', async () => {
    const src = await openTensor(gtJoint);
    const first = plainValues(await readAll(src));
    expect(plainValues(await readAll(src))).toEqual(first);
  });
});
