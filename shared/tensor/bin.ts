/**
 * Raw tensor files (`.bin`, as run_joint and `pulsar run` write them): little-endian
 * elements in C order, no header. The dtype and shape come from elsewhere, so the only check
 * possible is that the size matches them exactly.
 */
import { BadFileError } from '../errors';
import { writeFileAtomic } from './atomic-write';
import { DTYPE_BYTES } from './dtype';
import { chunkElementsFor, decodeStored, emptyFileError, readRegionChunks, tensorFileSize, type StoredRegion } from './raw-reader';
import { writeElements, type TensorData } from './raw-writer';
import { elementCount, formatShape } from './shape';
import type { DType, TensorSource } from './types';

/** What a file of `size` bytes would hold, to help the user pick the right --dtype/--shape. */
function sizeHint(size: number, elements: number): string {
  const perElement = elements > 0 ? size / elements : 0;
  const fits = [1, 2, 4, 8].includes(perElement) ? ` (the size fits ${elements} elements of a ${perElement}-byte dtype)` : '';
  return `pass the --dtype and --shape it was written with, or --log of the run that wrote it${fits}`;
}

/**
 * The shape of raw data of `size` bytes read flat (1-D) as `dtype`; BIN_SIZE_MISMATCH when the
 * size is not a whole number of its elements. `file` names the data in the message.
 */
export function flatShape(file: string, size: number, dtype: DType): number[] {
  const itemBytes = DTYPE_BYTES[dtype];
  if (size % itemBytes !== 0) {
    throw new BadFileError('BIN_SIZE_MISMATCH', file, `is ${size} bytes, not a whole number of ${dtype} elements (${itemBytes} bytes each)`, {
      hint: 'pass the --dtype it was written with, and --shape',
    });
  }
  return [size / itemBytes];
}

/** The element count of `shape`, which raw data of `size` bytes must hold exactly: else BIN_SIZE_MISMATCH naming `file`. */
function checkedLength(file: string, size: number, dtype: DType, shape: readonly number[]): number {
  const itemBytes = DTYPE_BYTES[dtype];
  const length = elementCount(shape, itemBytes);
  const expected = length * itemBytes;
  if (size !== expected) {
    throw new BadFileError('BIN_SIZE_MISMATCH', file, `is ${size} bytes, but shape ${formatShape(shape)} of ${dtype} needs ${expected} (${length} × ${itemBytes} bytes)`, {
      hint: sizeHint(size, length),
    });
  }
  return length;
}

/** A streaming source over a raw little-endian C-order file of `dtype` and `shape`. */
export async function openBin(file: string, dtype: DType, shape: readonly number[]): Promise<TensorSource> {
  const size = await tensorFileSize(file);
  if (size === 0 && elementCount(shape, DTYPE_BYTES[dtype]) > 0) throw emptyFileError(file);
  const length = checkedLength(file, size, dtype, shape);
  const region: StoredRegion = { path: file, dtype, byteOrder: 'little', offset: 0, length };
  return {
    info: { path: file, dtype, shape: [...shape], length },
    chunks: (n?: number) => readRegionChunks(region, chunkElementsFor(dtype, n)),
  };
}

/**
 * A source over raw little-endian C-order bytes held in memory (a board output that came back
 * with its run's result), checked as openBin checks a file: sized as `dtype` and `shape` say,
 * or read flat without a shape (flatShape). `label` names it in messages.
 */
export function bytesSource(label: string, bytes: Uint8Array, dtype: DType, shape: readonly number[] = flatShape(label, bytes.length, dtype)): TensorSource {
  const length = checkedLength(label, bytes.length, dtype, shape);
  return {
    info: { path: label, dtype, shape: [...shape], length },
    async *chunks(chunkElements?: number) {
      // A copy: decoding may swap bytes in place, and the caller keeps its bytes.
      const all = decodeStored(Buffer.from(bytes), dtype, 'little', length);
      const step = chunkElementsFor(dtype, chunkElements);
      for (let at = 0; at < length; at += step) yield all.subarray(at, Math.min(length, at + step));
    },
  };
}

/**
 * Writes raw little-endian elements atomically. Without `dtype` the element type is the
 * data's own (Float32Array → float32 ...); pass it to store float16 (from Float32Array).
 * Every chunk of an iterable must be of the same class.
 */
export async function writeBin(file: string, data: TensorData, dtype?: DType): Promise<void> {
  await writeFileAtomic(file, async (write) => {
    await writeElements(write, file, dtype, data);
  });
}
