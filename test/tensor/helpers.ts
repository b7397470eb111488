/** Shared by the tensor tests: temp folders, plain values, hand-made .npy bytes. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { isAxError, type AxError } from '../../shared/errors';
import type { NumericArray, TensorSource } from '../../shared/tensor/types';

export const FIXTURES = join(__dirname, '..', 'fixtures', 'tensor');

export async function makeTempDir(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'axctl-tensor-'));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** Values as expected.json writes them: bigints as strings, non-finite floats as words. */
export function plainValues(arr: NumericArray): Array<number | string> {
  return Array.from(arr as ArrayLike<number | bigint>, (v) => {
    if (typeof v === 'bigint') return v.toString();
    if (Number.isNaN(v)) return 'nan';
    if (v === Infinity) return 'inf';
    if (v === -Infinity) return '-inf';
    return v;
  });
}

/** Every chunk of `src` for `chunkElements`, checked to be aligned views of ≤ that size. */
export async function collectChunks(src: TensorSource, chunkElements?: number): Promise<NumericArray[]> {
  const chunks: NumericArray[] = [];
  for await (const chunk of src.chunks(chunkElements)) {
    if (chunkElements !== undefined) expect(chunk.length).toBeLessThanOrEqual(chunkElements);
    expect(chunk.byteOffset % chunk.BYTES_PER_ELEMENT).toBe(0);
    chunks.push(chunk);
  }
  return chunks;
}

export function concatPlain(chunks: NumericArray[]): Array<number | string> {
  return chunks.flatMap((c) => plainValues(c));
}

/** Awaits `promise` expecting an AxError with `code` whose message starts with `file`. */
export async function expectAxError(promise: Promise<unknown>, code: string, file?: string): Promise<AxError & { file?: string }> {
  let caught: unknown;
  try {
    await promise;
  } catch (err) {
    caught = err;
  }
  expect(isAxError(caught), `expected an AxError ${code}, got ${String(caught)}`).toBe(true);
  const err = caught as AxError & { file?: string };
  expect(err.code).toBe(code);
  if (file !== undefined) {
    expect(err.message.startsWith(`${file}: `)).toBe(true);
    expect(err.file).toBe(file);
  }
  return err;
}

export interface NpyParts {
  magic?: Buffer;
  major?: number;
  minor?: number;
  header?: string;
  /** Overrides the header length field. */
  headerLength?: number;
  /** Pads the header to this many bytes (numpy pads to a multiple of 64 with the preamble). */
  padTo?: number;
  data?: Uint8Array;
  encoding?: BufferEncoding;
}

/** A .npy file built by hand, to feed the reader exactly the bytes a test needs. */
export function npyBytes(parts: NpyParts): Buffer {
  const major = parts.major ?? 1;
  const preamble = major === 1 ? 10 : 12;
  let header = Buffer.from(parts.header ?? "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", parts.encoding ?? 'latin1');
  const padTo = parts.padTo ?? Math.ceil((preamble + header.length + 1) / 64) * 64 - preamble;
  header = Buffer.concat([header, Buffer.alloc(Math.max(0, padTo - header.length - 1), 0x20), Buffer.from('\n')]);
  const head = Buffer.alloc(preamble);
  (parts.magic ?? Buffer.from('\x93NUMPY', 'latin1')).copy(head, 0);
  head[6] = major;
  head[7] = parts.minor ?? 0;
  const length = parts.headerLength ?? header.length;
  if (major === 1) head.writeUInt16LE(length, 8);
  else head.writeUInt32LE(length, 8);
  return Buffer.concat([head, header, parts.data ?? Buffer.alloc(0)]);
}
