/** Bad .npy input: every problem is a BadFileError with a stable code naming the file. */
import { mkdir, readFile, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeNpyHeader, openNpy, readNpyHeader } from '../../shared/tensor/npy';
import { readAll } from '../../shared/tensor/open';
import { expectAxError, FIXTURES, makeTempDir, npyBytes, plainValues } from './helpers';

let dir: string;
let cleanup: () => Promise<void>;
beforeAll(async () => ({ dir, cleanup } = await makeTempDir()));
afterAll(async () => cleanup());

const f4 = (values: number[]): Uint8Array => new Uint8Array(new Float32Array(values).buffer);
let counter = 0;
async function fileWith(bytes: Uint8Array): Promise<string> {
  const file = join(dir, `case${counter++}.npy`);
  await writeFile(file, bytes);
  return file;
}
const header = (descr: string, shape: string, fortran = 'False'): string => `{'descr': '${descr}', 'fortran_order': ${fortran}, 'shape': ${shape}, }`;

describe('readNpyHeader refuses bad files', () => {
  it.each([
    ['an empty file', 'TENSOR_EMPTY_FILE', Buffer.alloc(0), /is empty/],
    ['text', 'NPY_BAD_MAGIC', Buffer.from('hello world, not numpy'), /not a \.npy file/],
    ['a wrong magic of npy length', 'NPY_BAD_MAGIC', npyBytes({ magic: Buffer.from('\x93NUMPX', 'latin1') }), /\\x93NUMPY/],
    ['only part of the magic', 'NPY_TRUNCATED', Buffer.from('\x93NUM', 'latin1'), /inside the \.npy preamble/],
    ['the magic and no version', 'NPY_TRUNCATED', Buffer.from('\x93NUMPY\x01', 'latin1'), /inside the \.npy preamble/],
    ['a v2 preamble cut in its length field', 'NPY_TRUNCATED', npyBytes({ major: 2 }).subarray(0, 10), /preamble/],
    ['version 4.0', 'NPY_BAD_VERSION', npyBytes({ major: 4 }), /version 4\.0/],
    ['version 1.1', 'NPY_BAD_VERSION', npyBytes({ minor: 1 }), /version 1\.1/],
    ['a header cut short', 'NPY_TRUNCATED', npyBytes({}).subarray(0, 40), /header needs 128 bytes, the file has 40/],
    ['a header length past the end', 'NPY_TRUNCATED', npyBytes({ headerLength: 60000 }), /header needs 60010 bytes/],
    ['a 2 GB header length', 'NPY_BAD_HEADER', npyBytes({ major: 2, headerLength: 2 ** 31 }), /declares a 2147483648-byte header/],
    ['a header that is not a dict', 'NPY_BAD_HEADER', npyBytes({ header: "('<f4', False, (2,))" }), /exactly 'descr'/],
    ['a header with code in it', 'NPY_BAD_HEADER', npyBytes({ header: "{'descr': __import__('os').system('true'), 'fortran_order': False, 'shape': (2,), }" }), /unreadable header/],
    ['an unterminated string', 'NPY_BAD_HEADER', npyBytes({ header: "{'descr': '<f4, 'fortran_order': False, 'shape': (2,), }" }), /unreadable header/],
    ['a missing key', 'NPY_BAD_HEADER', npyBytes({ header: "{'descr': '<f4', 'shape': (2,), }" }), /exactly/],
    ['an extra key', 'NPY_BAD_HEADER', npyBytes({ header: "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'x': 1}" }), /exactly/],
    ['a non-boolean fortran_order', 'NPY_BAD_HEADER', npyBytes({ header: header('<f4', '(2,)', '0') }), /fortran_order/],
    ['a shape that is not a tuple', 'NPY_BAD_HEADER', npyBytes({ header: header('<f4', "'2'") }), /'shape'/],
    ['a fractional dim', 'NPY_BAD_HEADER', npyBytes({ header: header('<f4', '(2.5,)') }), /unreadable header/],
    ['a negative dim', 'NPY_BAD_HEADER', npyBytes({ header: header('<f4', '(-2,)') }), /not a non-negative integer/],
    ['an impossibly large shape', 'NPY_BAD_HEADER', npyBytes({ header: header('<f4', '(1099511627776, 1099511627776)') }), /too large/],
    ['invalid UTF-8 in a v3 header', 'NPY_BAD_HEADER', npyBytes({ major: 3, header: "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), '\xff': 1}" }), /UTF-8/],
    ['a complex dtype', 'NPY_UNSUPPORTED_DTYPE', npyBytes({ header: header('<c8', '(2,)'), data: new Uint8Array(16) }), /'<c8' \(complex/],
    ['an object dtype', 'NPY_UNSUPPORTED_DTYPE', npyBytes({ header: header('|O', '(2,)') }), /'\|O' \(Python objects/],
    ['a long double', 'NPY_UNSUPPORTED_DTYPE', npyBytes({ header: header('<f16', '(2,)') }), /'<f16'/],
    ['a | byte order on a 4-byte type', 'NPY_UNSUPPORTED_DTYPE', npyBytes({ header: header('|f4', '(2,)'), data: f4([1, 2]) }), /'\|f4'/],
    ['a shape bigger than the data', 'NPY_SIZE_MISMATCH', npyBytes({ header: header('<f4', '(100,)'), data: f4([1, 2]) }), /cut short: shape \[100\] of float32 needs 400 data bytes, the file has 8/],
    ['trailing data', 'NPY_SIZE_MISMATCH', npyBytes({ data: Buffer.concat([f4([1, 2]), Buffer.from('junk')]) }), /4 bytes of trailing data/],
  ])('%s → %s', async (_what, code, bytes, message) => {
    const file = await fileWith(bytes);
    const err = await expectAxError(readNpyHeader(file), code, file);
    expect(err.message).toMatch(message);
    expect(err.hint, 'every .npy error says what to do').toBeTruthy();
    // openNpy refuses the same file the same way.
    await expectAxError(openNpy(file), code, file);
  });

  it.each([
    ['a descr of 100,000 characters', header('['.repeat(100_000), '(2,)'), 'NPY_UNSUPPORTED_DTYPE'],
    ['a dimension of 5,000 digits', header('<f4', `(${'9'.repeat(5000)},)`), 'NPY_BAD_HEADER'],
  ])('%s: the message quotes only the start of it', async (_what, text, code) => {
    const file = await fileWith(npyBytes({ major: 2, header: text, data: f4([1, 2]) }));
    const err = await expectAxError(readNpyHeader(file), code, file);
    expect(err.describe().length).toBeLessThan(file.length + 400);
    expect(err.message).toMatch(/\.\.\.'? \(\d+ characters\)/);
  });

  it('a numpy file cut off inside its data → NPY_SIZE_MISMATCH', async () => {
    const whole = await readFile(join(FIXTURES, 'le_float64.npy'));
    const file = await fileWith(whole.subarray(0, whole.length - 3));
    const err = await expectAxError(readNpyHeader(file), 'NPY_SIZE_MISMATCH', file);
    expect(err.message).toMatch(/needs 48 data bytes, the file has 45/);
  });

  it('a folder → FILE_IS_FOLDER, a missing file → FILE_NOT_FOUND', async () => {
    const folder = join(dir, 'folder.npy');
    await mkdir(folder);
    await expectAxError(readNpyHeader(folder), 'FILE_IS_FOLDER', folder);
    const missing = join(dir, 'missing.npy');
    await expectAxError(openNpy(missing), 'FILE_NOT_FOUND', missing);
  });

  it('decodeNpyHeader works on bytes alone', () => {
    const bytes = npyBytes({ data: f4([1, 2]) });
    expect(decodeNpyHeader('mem.npy', bytes, bytes.length)).toEqual({
      version: 1, dtype: 'float32', byteOrder: 'little', fortranOrder: false, shape: [2], dataOffset: 128, dataBytes: 8,
    });
    expect(() => decodeNpyHeader('mem.npy', bytes, bytes.length + 1)).toThrow(/mem\.npy: has 1 bytes of trailing data/);
  });
});

describe('readNpyHeader accepts what numpy accepts', () => {
  it.each([
    ['double-quoted strings and no trailing comma', '{"descr": "<i2", "fortran_order": False, "shape": (2,)}'],
    ["Python 2's long suffix", "{'descr': '<i2', 'fortran_order': False, 'shape': (2L,), }"],
    ['keys in another order and a list shape', "{'shape': [2], 'fortran_order': False, 'descr': '<i2'}"],
    ['newlines and tabs between tokens', "{'descr':\t'<i2',\n 'fortran_order': False,\n 'shape': ( 2 , ) }"],
  ])('%s', async (_what, text) => {
    const file = await fileWith(npyBytes({ header: text, data: new Uint8Array(new Int16Array([-3, 7]).buffer) }));
    expect(plainValues(await readAll(await openNpy(file)))).toEqual([-3, 7]);
  });

  it('decodes a v3 header as UTF-8 (the descr comes back intact in the message)', async () => {
    const text = "{'descr': '<f4λ', 'fortran_order': False, 'shape': (2,), }";
    const file = await fileWith(npyBytes({ major: 3, header: text, encoding: 'utf8', data: new Uint8Array(8) }));
    const err = await expectAxError(readNpyHeader(file), 'NPY_UNSUPPORTED_DTYPE', file);
    expect(err.message).toContain("'<f4λ'");
  });

  it('reads float64 data that starts at an offset not a multiple of 8', async () => {
    const data = new Uint8Array(new Float64Array([Math.PI, -0, 1e-310]).buffer);
    const file = await fileWith(npyBytes({ header: header('<f8', '(3,)'), padTo: 3, data }));
    const h = await readNpyHeader(file);
    expect(h.dataOffset % 8).not.toBe(0);
    expect(plainValues(await readAll(await openNpy(file)))).toEqual([Math.PI, -0, 1e-310]);
  });
});

describe('reading after the header was checked', () => {
  it('a file that shrinks while being read → TENSOR_FILE_CHANGED', async () => {
    const file = await fileWith(npyBytes({ header: header('<f4', '(1000,)'), data: f4(new Array(1000).fill(1)) }));
    const src = await openNpy(file);
    await truncate(file, 64 + 100);
    await expectAxError(readAll(src), 'TENSOR_FILE_CHANGED', file);
  });

  it('stopping early while the next chunk fails to read leaves no unhandled rejection', async () => {
    const file = await fileWith(npyBytes({ header: header('<f4', '(1000,)'), data: f4(new Array(1000).fill(2)) }));
    const src = await openNpy(file);
    const seen: number[] = [];
    for await (const chunk of src.chunks(100)) {
      seen.push(chunk.length);
      await truncate(file, 64);
      await new Promise((resolve) => setTimeout(resolve, 20));
      break;
    }
    expect(seen).toEqual([100]);
  });
});
