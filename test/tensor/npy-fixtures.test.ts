/** Files written by real numpy (scripts/gen-npy-fixtures.py) read back exactly as numpy sees them. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openNpy, readNpyHeader } from '../../shared/tensor/npy';
import { openTensor, readAll } from '../../shared/tensor/open';
import { collectChunks, concatPlain, expectAxError, FIXTURES, plainValues } from './helpers';

interface Expected {
  dtype: string;
  shape: number[];
  version: number;
  byteOrder: 'little' | 'big';
  fortranOrder: boolean;
  values: Array<number | string>;
}

const expected = JSON.parse(readFileSync(join(FIXTURES, 'expected.json'), 'utf8')) as Record<string, Expected>;
const npyNames = Object.keys(expected);

describe('numpy-written .npy fixtures', () => {
  it('covers every dtype little- and big-endian, v1/v2/v3, Fortran, float16, scalars and empty shapes', () => {
    const dtypes = new Set(npyNames.map((n) => expected[n].dtype));
    expect([...dtypes].sort()).toEqual(['bool', 'float16', 'float32', 'float64', 'int16', 'int32', 'int64', 'int8', 'uint16', 'uint32', 'uint64', 'uint8']);
    expect(new Set(npyNames.map((n) => expected[n].version))).toEqual(new Set([1, 2, 3]));
    expect(npyNames.some((n) => expected[n].byteOrder === 'big' && expected[n].fortranOrder)).toBe(true);
    expect(npyNames.some((n) => expected[n].shape.length === 0)).toBe(true);
    expect(npyNames.some((n) => expected[n].shape.includes(0) && expected[n].shape.length > 1)).toBe(true);
  });

  it.each(npyNames)('%s: header matches numpy', async (name) => {
    const e = expected[name];
    const header = await readNpyHeader(join(FIXTURES, name));
    expect(header).toMatchObject({ version: e.version, dtype: e.dtype, byteOrder: e.byteOrder, fortranOrder: e.fortranOrder, shape: e.shape });
    expect(header.dataOffset % 64).toBe(0);
  });

  it.each(npyNames)('%s: values equal numpy in C order', async (name) => {
    const e = expected[name];
    const src = await openTensor(join(FIXTURES, name));
    expect(src.info).toEqual({ path: join(FIXTURES, name), dtype: e.dtype, shape: e.shape, length: e.values.length });
    expect(plainValues(await readAll(src))).toEqual(e.values);
  });

  it.each(npyNames)('%s: tiny chunk sizes give identical data', async (name) => {
    const src = await openNpy(join(FIXTURES, name));
    for (const n of [1, 2, 5, 7]) {
      const chunks = await collectChunks(src, n);
      expect(chunks.length).toBe(Math.ceil(src.info.length / n));
      expect(concatPlain(chunks)).toEqual(expected[name].values);
    }
  });

  it('delivers the documented chunk classes', async () => {
    const classOf = async (name: string): Promise<string> => (await readAll(await openNpy(join(FIXTURES, name)))).constructor.name;
    expect(await classOf('le_float16.npy')).toBe('Float32Array');
    expect(await classOf('le_bool.npy')).toBe('Uint8Array');
    expect(await classOf('be_int64.npy')).toBe('BigInt64Array');
    expect(await classOf('le_uint64.npy')).toBe('BigUint64Array');
    expect(await classOf('be_int16.npy')).toBe('Int16Array');
  });

  it('a zero-element tensor yields no chunks and an empty array', async () => {
    const src = await openNpy(join(FIXTURES, 'zero_dim_float32.npy'));
    expect(src.info.length).toBe(0);
    expect(await collectChunks(src)).toEqual([]);
    expect((await readAll(src)).length).toBe(0);
  });

  it.each([
    ['unsupported_complex64.npy', /'<c8' \(complex numbers\)/],
    ['unsupported_object.npy', /'\|O' \(Python objects/],
    ['unsupported_unicode.npy', /'<U2' \(unicode strings\)/],
    ['unsupported_structured.npy', /structured/],
  ])('%s is refused with NPY_UNSUPPORTED_DTYPE', async (name, message) => {
    const file = join(FIXTURES, name);
    const err = await expectAxError(readNpyHeader(file), 'NPY_UNSUPPORTED_DTYPE', file);
    expect(err.message).toMatch(message);
  });
});
