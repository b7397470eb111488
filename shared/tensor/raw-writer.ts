/**
 * Turns typed arrays into little-endian stored bytes for the .npy and .bin writers. On a
 * little-endian machine a chunk's own memory is written as is (no copy); float16 is encoded
 * from float32.
 */
import { UsageError } from '../errors';
import type { WriteBytes } from './atomic-write';
import { arrayClassName, arrayMatchesDType, DTYPE_BYTES, DTYPES, NATIVE_BYTE_ORDER } from './dtype';
import { encodeFloat16 } from './float16';
import type { DType, NumericArray } from './types';

export type TensorData = NumericArray | AsyncIterable<NumericArray>;

/** The dtype an array's own class stores (Uint8Array → uint8, Float32Array → float32...). */
export function dtypeOfArray(arr: NumericArray): DType {
  const dtype = DTYPES.find((d) => d !== 'bool' && d !== 'float16' && arrayMatchesDType(arr, d));
  if (dtype === undefined) throw new TypeError(`not a tensor array: ${Object.prototype.toString.call(arr)}`);
  return dtype;
}

function isAsyncIterable(data: TensorData): data is AsyncIterable<NumericArray> {
  return typeof (data as AsyncIterable<NumericArray>)[Symbol.asyncIterator] === 'function';
}

/** Little-endian stored bytes of one chunk of `dtype`. */
function storedBytes(chunk: NumericArray, dtype: DType): Uint8Array {
  if (dtype === 'float16') return storedBytes(encodeFloat16(chunk as Float32Array), 'uint16');
  const bytes = new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  if (DTYPE_BYTES[dtype] === 1 || NATIVE_BYTE_ORDER === 'little') return bytes;
  const swapped = Buffer.from(bytes);
  if (DTYPE_BYTES[dtype] === 2) swapped.swap16();
  else if (DTYPE_BYTES[dtype] === 4) swapped.swap32();
  else swapped.swap64();
  return swapped;
}

/**
 * Writes `data` as stored elements of `dtype` (undefined: the first chunk's own type) and
 * returns how many were written. Every chunk must be the array class chunks of that dtype
 * arrive in (float16: Float32Array); a mismatch, or more than `expected` elements, is a
 * UsageError naming `file`.
 */
export async function writeElements(
  write: WriteBytes,
  file: string,
  dtype: DType | undefined,
  data: TensorData,
  expected?: number,
): Promise<number> {
  let written = 0;
  let type = dtype;
  const put = async (chunk: NumericArray): Promise<void> => {
    type ??= dtypeOfArray(chunk);
    if (!arrayMatchesDType(chunk, type)) {
      throw new UsageError('TENSOR_WRITE_TYPE', `${file}: cannot write a ${chunk.constructor.name} as ${type}`, {
        hint: `pass ${type} data as a ${arrayClassName(type)}`,
      });
    }
    written += chunk.length;
    if (expected !== undefined && written > expected) throw countMismatch(file, written, expected);
    if (chunk.length > 0) await write(storedBytes(chunk, type));
  };
  if (isAsyncIterable(data)) {
    for await (const chunk of data) await put(chunk);
  } else {
    await put(data);
  }
  if (expected !== undefined && written !== expected) throw countMismatch(file, written, expected);
  return written;
}

function countMismatch(file: string, written: number, expected: number): UsageError {
  const what = written > expected ? `more than ${expected}` : String(written);
  return new UsageError('TENSOR_WRITE_MISMATCH', `${file}: got ${what} elements but the shape holds ${expected}`, {
    hint: 'pass data with exactly as many elements as the product of the shape',
  });
}
