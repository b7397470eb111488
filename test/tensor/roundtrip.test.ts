/** Writers and readers agree with each other and with numpy, for every dtype. */
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openBin, writeBin } from '../../shared/tensor/bin';
import { allocArray, DTYPE_BYTES, DTYPES } from '../../shared/tensor/dtype';
import { decodeFloat16 } from '../../shared/tensor/float16';
import { openNpy, writeNpy } from '../../shared/tensor/npy';
import { readAll } from '../../shared/tensor/open';
import type { DType, NumericArray } from '../../shared/tensor/types';
import { collectChunks, concatPlain, expectAxError, FIXTURES, makeTempDir, plainValues } from './helpers';

let dir: string;
let cleanup: () => Promise<void>;
beforeAll(async () => ({ dir, cleanup } = await makeTempDir()));
afterAll(async () => cleanup());

let counter = 0;
const nextFile = (ext: string): string => join(dir, `t${counter++}${ext}`);

/** Reads a numpy fixture: the reference data for each dtype. */
async function fixtureData(dtype: DType): Promise<NumericArray> {
  return readAll(await openNpy(join(FIXTURES, `le_${dtype}.npy`)));
}

describe('round trips for every dtype', () => {
  it.each(DTYPES)('%s: writeNpy writes exactly the bytes numpy.save wrote', async (dtype) => {
    const data = await fixtureData(dtype);
    const file = nextFile('.npy');
    await writeNpy(file, dtype, [2, 3], data);
    expect((await readFile(file)).equals(await readFile(join(FIXTURES, `le_${dtype}.npy`)))).toBe(true);
  });

  it.each(DTYPES)('%s: writeNpy → openNpy and writeBin → openBin give the data back', async (dtype) => {
    const data = await fixtureData(dtype);
    const npy = nextFile('.npy');
    await writeNpy(npy, dtype, [3, 2], data);
    const src = await openNpy(npy);
    expect(src.info).toMatchObject({ dtype, shape: [3, 2], length: 6 });
    expect(plainValues(await readAll(src))).toEqual(plainValues(data));

    const bin = nextFile('.bin');
    await writeBin(bin, data, dtype);
    expect((await readFile(bin)).length).toBe(6 * DTYPE_BYTES[dtype]);
    expect(plainValues(await readAll(await openBin(bin, dtype, [6])))).toEqual(plainValues(data));
  });

  it('writes from an async iterable of chunks and checks the element count', async () => {
    async function* parts(): AsyncGenerator<Float32Array> {
      yield new Float32Array([1, 2, 3]);
      yield new Float32Array([]);
      yield new Float32Array([4, 5]);
    }
    const file = nextFile('.npy');
    await writeNpy(file, 'float32', [5], parts());
    expect(plainValues(await readAll(await openNpy(file)))).toEqual([1, 2, 3, 4, 5]);
    await expectAxError(writeNpy(nextFile('.npy'), 'float32', [4], parts()), 'TENSOR_WRITE_MISMATCH');
    await expectAxError(writeNpy(nextFile('.npy'), 'float32', [6], parts()), 'TENSOR_WRITE_MISMATCH');
  });

  it('writeBin takes the element type from the data and refuses mixed chunk types', async () => {
    const file = nextFile('.bin');
    await writeBin(file, new Int16Array([-1, 2]));
    expect([...(await readFile(file))]).toEqual([0xff, 0xff, 2, 0]);
    async function* mixed(): AsyncGenerator<NumericArray> {
      yield new Int16Array([1]);
      yield new Float32Array([1]);
    }
    await expectAxError(writeBin(nextFile('.bin'), mixed()), 'TENSOR_WRITE_TYPE');
  });

  it('refuses data of the wrong array class for the dtype', async () => {
    const err = await expectAxError(writeNpy(nextFile('.npy'), 'int32', [2], new Float32Array(2)), 'TENSOR_WRITE_TYPE');
    expect(err.message).toMatch(/cannot write a Float32Array as int32/);
    await expectAxError(writeNpy(nextFile('.npy'), 'float16', [2], new Uint16Array(2)), 'TENSOR_WRITE_TYPE');
    await expectAxError(writeNpy(nextFile('.npy'), 'float32', [2, -1], new Float32Array(2)), 'TENSOR_BAD_SHAPE');
  });
});

describe('atomic writes', () => {
  it('a failed write leaves the old file untouched and no temp file behind', async () => {
    const folder = join(dir, 'atomic');
    await mkdir(folder);
    const file = join(folder, 'out.npy');
    await writeFile(file, 'old content');
    async function* failing(): AsyncGenerator<Float32Array> {
      yield new Float32Array(1000);
      throw new Error('source broke');
    }
    await expect(writeNpy(file, 'float32', [2000], failing())).rejects.toThrow('source broke');
    await expectAxError(writeNpy(file, 'float32', [3], new Float32Array(2)), 'TENSOR_WRITE_MISMATCH');
    expect(await readFile(file, 'utf8')).toBe('old content');
    expect(await readdir(folder)).toEqual(['out.npy']);
  });

  it('a missing folder or a folder in the way is a BadFileError naming the target', async () => {
    const missing = join(dir, 'no-such-folder', 'x.bin');
    await expectAxError(writeBin(missing, new Uint8Array(1)), 'FILE_NOT_FOUND', missing);
    const folder = join(dir, 'in-the-way.npy');
    await mkdir(join(folder, 'child'), { recursive: true });
    await expectAxError(writeNpy(folder, 'uint8', [1], new Uint8Array(1)), 'FILE_IS_FOLDER', folder);
    expect((await readdir(dir)).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });
});

/** Arbitrary data of `dtype` with `length` elements, including each type's edge values. */
function dataOf(dtype: DType, length: number): fc.Arbitrary<NumericArray> {
  const ints = (min: number, max: number) => fc.array(fc.integer({ min, max }), { minLength: length, maxLength: length });
  const bigs = (min: bigint, max: bigint) => fc.array(fc.bigInt({ min, max }), { minLength: length, maxLength: length });
  const from = <T>(arb: fc.Arbitrary<T[]>, make: (v: T[]) => NumericArray) => arb.map(make);
  switch (dtype) {
    case 'bool': return from(ints(0, 1), (v) => Uint8Array.from(v));
    case 'uint8': return from(ints(0, 255), (v) => Uint8Array.from(v));
    case 'int8': return from(ints(-128, 127), (v) => Int8Array.from(v));
    case 'uint16': return from(ints(0, 65535), (v) => Uint16Array.from(v));
    case 'int16': return from(ints(-32768, 32767), (v) => Int16Array.from(v));
    case 'uint32': return from(ints(0, 2 ** 32 - 1), (v) => Uint32Array.from(v));
    case 'int32': return from(ints(-(2 ** 31), 2 ** 31 - 1), (v) => Int32Array.from(v));
    case 'int64': return from(bigs(-(2n ** 63n), 2n ** 63n - 1n), (v) => BigInt64Array.from(v));
    case 'uint64': return from(bigs(0n, 2n ** 64n - 1n), (v) => BigUint64Array.from(v));
    case 'float16': return from(ints(0, 65535), (v) => decodeFloat16(Uint16Array.from(v)));
    case 'float32': return from(fc.array(fc.float(), { minLength: length, maxLength: length }), (v) => Float32Array.from(v));
    case 'float64': return from(fc.array(fc.double(), { minLength: length, maxLength: length }), (v) => Float64Array.from(v));
  }
}

const tensorCase = fc
  .record({ dtype: fc.constantFrom(...DTYPES), shape: fc.array(fc.integer({ min: 0, max: 5 }), { maxLength: 4 }) })
  .chain(({ dtype, shape }) =>
    fc.record({
      dtype: fc.constant(dtype),
      shape: fc.constant(shape),
      data: dataOf(dtype, shape.reduce((a, b) => a * b, 1)),
      chunk: fc.integer({ min: 1, max: 9 }),
    }),
  );

describe('property: any tensor survives a round trip through .npy and .bin', () => {
  it('whole and in chunks of any size', async () => {
    await fc.assert(
      fc.asyncProperty(tensorCase, async ({ dtype, shape, data, chunk }) => {
        const expected = plainValues(data);
        const npy = nextFile('.npy');
        await writeNpy(npy, dtype, shape, data);
        const fromNpy = await openNpy(npy);
        expect(fromNpy.info).toMatchObject({ dtype, shape, length: data.length });
        expect(plainValues(await readAll(fromNpy))).toEqual(expected);
        expect(concatPlain(await collectChunks(fromNpy, chunk))).toEqual(expected);

        const bin = nextFile('.bin');
        await writeBin(bin, data, dtype);
        const fromBin = await openBin(bin, dtype, shape);
        expect(concatPlain(await collectChunks(fromBin, chunk))).toEqual(expected);
        expect((await readAll(fromBin)).constructor).toBe(allocArray(dtype, 0).constructor);
      }),
      { numRuns: 150 },
    );
  });
});
