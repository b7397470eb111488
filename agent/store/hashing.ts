/**
 * Blob names and streamed sha256. A blob is named by its sha256 in lowercase hex and nothing
 * else: the check below runs before any name from a request is joined to a path, so a request
 * can never reach outside the store.
 */
import { createHash, type Hash } from 'node:crypto';
import { closeSync, createReadStream, fstatSync, openSync, readFileSync } from 'node:fs';
import { StoreError } from './errors';

const HASH_PATTERN = /^[0-9a-f]{64}$/;

/** Read size for hashing files: large enough for disk throughput, small enough for a board. */
const HASH_READ_BYTES = 1024 * 1024;

export function isHash(value: unknown): value is string {
  return typeof value === 'string' && HASH_PATTERN.test(value);
}

/** Returns `value` if it is a blob name, else throws StoreError BAD_HASH. */
export function assertHash(value: unknown): string {
  if (isHash(value)) return value;
  const shown = typeof value === 'string' ? `'${value.length > 80 ? value.slice(0, 80) + '…' : value}'` : typeof value;
  throw new StoreError('BAD_HASH', `not a blob hash: ${shown}`, {}, {
    hint: 'a blob is named by its sha256: 64 lowercase hex digits',
  });
}

/** Feeds `file` (from byte `start` to its end) into `hasher`; returns the bytes read. */
export async function hashFileInto(file: string, hasher: Hash, start = 0): Promise<number> {
  let bytes = 0;
  const stream = createReadStream(file, { start, highWaterMark: HASH_READ_BYTES });
  for await (const chunk of stream) {
    hasher.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return bytes;
}

export async function sha256File(file: string): Promise<{ hash: string; size: number }> {
  const hasher = createHash('sha256');
  const size = await hashFileInto(file, hasher);
  return { hash: hasher.digest('hex'), size };
}

/**
 * sha256File, also giving the bytes of the file when `keep(size)` (asked once its size is known)
 * says so; those are read whole, once: a small run output is then sent inline without being
 * read back from the store.
 */
export async function sha256FileKeeping(file: string, keep: (size: number) => boolean): Promise<{ hash: string; size: number; bytes?: Uint8Array }> {
  // Read in place: what is kept is small (the host's inline budget), and each async call would
  // cost a hand-off to the thread pool, between run_joint's exit and the result.
  const fd = openSync(file, 'r');
  let bytes: Buffer;
  let kept: number;
  try {
    kept = fstatSync(fd).size;
    if (!keep(kept)) return await sha256File(file);
    bytes = readFileSync(fd);
  } finally {
    closeSync(fd);
  }
  // One that grew after its size was taken is not kept: keep() allowed for that size.
  return { hash: createHash('sha256').update(bytes).digest('hex'), size: bytes.length, ...(bytes.length === kept && { bytes }) };
}
