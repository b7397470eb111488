/**
 * Streams a run of stored elements out of a file as native typed arrays. Shared by the .npy
 * and raw .bin readers, which only differ in where the data starts and its byte order.
 *
 * Each chunk is read into its own fresh buffer (so a consumer may keep chunks) that starts at
 * byte 0 of its ArrayBuffer, so typed-array views over it are always aligned whatever the
 * file offset. Little-endian native types become views with no per-element work; big-endian
 * data is swapped in place with Buffer.swapNN; float16 is decoded through a lookup table.
 * While the consumer works on one chunk the next is already being read.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { statPath } from '../fs/regular-file';
import { BadFileError, fileSystemError } from '../errors';
import { DTYPE_BYTES, NATIVE_BYTE_ORDER, viewArray, type ByteOrder } from './dtype';
import { decodeFloat16 } from './float16';
import type { DType, NumericArray } from './types';

/** Bytes per chunk when the consumer does not ask for a size. */
export const DEFAULT_CHUNK_BYTES = 2 * 1024 * 1024;

/** Node reads at most 2 GiB per call; stay well under it. */
const MAX_READ_BYTES = 1024 * 1024 * 1024;

export interface StoredRegion {
  /** The file, named in every message. */
  path: string;
  dtype: DType;
  byteOrder: ByteOrder;
  /** Byte offset of the first element. */
  offset: number;
  /** Number of elements. */
  length: number;
}

/** Size of a regular file; a missing file, a folder or a device → BadFileError naming it. */
export async function tensorFileSize(file: string): Promise<number> {
  const st = await statPath(file);
  if (st.isDirectory()) throw fileSystemError(file, Object.assign(new Error('is a folder'), { code: 'EISDIR' }));
  if (!st.isFile()) {
    throw new BadFileError('TENSOR_NOT_A_FILE', file, 'is not a regular file (a device, socket or pipe)', {
      hint: 'name a tensor file (.npy or raw .bin)',
    });
  }
  return st.size;
}

/** A 0-byte file where data was expected: usually a dump that failed or was cut off. */
export function emptyFileError(file: string): BadFileError {
  return new BadFileError('TENSOR_EMPTY_FILE', file, 'is empty (0 bytes)', {
    hint: 'whatever should have written it failed or was interrupted; produce it again',
  });
}

/** Elements per chunk: the caller's choice if it is a positive integer, else ~DEFAULT_CHUNK_BYTES. */
export function chunkElementsFor(dtype: DType, requested?: number): number {
  if (requested !== undefined && Number.isSafeInteger(requested) && requested > 0) return requested;
  return Math.max(1, Math.floor(DEFAULT_CHUNK_BYTES / DTYPE_BYTES[dtype]));
}

/** Stored bytes (in `byteOrder`) → a native chunk. Swaps `buf` in place. */
export function decodeStored(buf: Buffer, dtype: DType, byteOrder: ByteOrder, length: number): NumericArray {
  const itemBytes = DTYPE_BYTES[dtype];
  const bytes = buf.subarray(0, length * itemBytes);
  if (itemBytes > 1 && byteOrder !== NATIVE_BYTE_ORDER) {
    if (itemBytes === 2) bytes.swap16();
    else if (itemBytes === 4) bytes.swap32();
    else bytes.swap64();
  }
  if (buf.byteOffset % itemBytes !== 0) {
    const aligned = Buffer.allocUnsafeSlow(bytes.length);
    bytes.copy(aligned);
    return decodeStored(aligned, dtype, NATIVE_BYTE_ORDER, length);
  }
  if (dtype === 'float16') return decodeFloat16(new Uint16Array(buf.buffer, buf.byteOffset, length));
  // Buffers made here own a plain ArrayBuffer (never a SharedArrayBuffer).
  return viewArray(dtype, buf.buffer as ArrayBuffer, buf.byteOffset, length);
}

async function openForReading(file: string): Promise<FileHandle> {
  try {
    return await open(file, 'r');
  } catch (err) {
    throw fileSystemError(file, err);
  }
}

/** Exactly `byteLength` bytes at `position` into a fresh, aligned buffer. */
async function readBlock(fh: FileHandle, file: string, position: number, byteLength: number): Promise<Buffer> {
  const buf = Buffer.allocUnsafeSlow(byteLength);
  let done = 0;
  while (done < byteLength) {
    let bytesRead: number;
    try {
      ({ bytesRead } = await fh.read(buf, done, Math.min(byteLength - done, MAX_READ_BYTES), position + done));
    } catch (err) {
      throw fileSystemError(file, err);
    }
    if (bytesRead === 0) {
      throw new BadFileError('TENSOR_FILE_CHANGED', file, `ended early: ${position + done} bytes read, ${position + byteLength} expected`, {
        hint: 'the file shrank while it was being read; wait for whatever writes it to finish',
      });
    }
    done += bytesRead;
  }
  return buf;
}

/** Consecutive chunks of at most `chunkElements` elements covering the whole region. */
export async function* readRegionChunks(region: StoredRegion, chunkElements: number): AsyncGenerator<NumericArray> {
  if (region.length === 0) return;
  const itemBytes = DTYPE_BYTES[region.dtype];
  const fh = await openForReading(region.path);
  let start = 0;
  const readFrom = (first: number): { count: number; bytes: Promise<Buffer> } => {
    const count = Math.min(chunkElements, region.length - first);
    const bytes = readBlock(fh, region.path, region.offset + first * itemBytes, count * itemBytes);
    // Marks the read as handled while the consumer is busy elsewhere; awaiting it still throws.
    bytes.catch(() => undefined);
    return { count, bytes };
  };
  let pending: { count: number; bytes: Promise<Buffer> } | undefined = readFrom(0);
  try {
    while (pending) {
      const { count, bytes } = pending;
      const buf = await bytes;
      start += count;
      pending = start < region.length ? readFrom(start) : undefined;
      yield decodeStored(buf, region.dtype, region.byteOrder, count);
    }
  } finally {
    // The consumer may stop early: let the read ahead settle before closing its handle.
    if (pending) await pending.bytes.catch(() => undefined);
    await fh.close();
  }
}

/** The whole region as one native array (for Fortran-order data and small tensors). */
export async function readRegionWhole(region: StoredRegion): Promise<NumericArray> {
  const itemBytes = DTYPE_BYTES[region.dtype];
  const fh = await openForReading(region.path);
  try {
    const buf = await readBlock(fh, region.path, region.offset, region.length * itemBytes);
    return decodeStored(buf, region.dtype, region.byteOrder, region.length);
  } finally {
    await fh.close();
  }
}
