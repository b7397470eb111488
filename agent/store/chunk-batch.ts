/**
 * Consecutive upload chunks handed to the store as one write. The store writes them with one
 * writev and hashes them one by one, so a batch is never joined into a fresh buffer: joining
 * 8 MiB costs a copy plus the page faults of new memory, more than the write itself.
 */
export class ChunkBatch {
  /** Total bytes, as a Uint8Array's `length` (so code that counts bytes takes either). */
  readonly length: number;

  constructor(readonly parts: readonly Uint8Array[]) {
    let length = 0;
    for (const part of parts) length += part.length;
    this.length = length;
  }
}

/** The pieces of a chunk or batch; null if `data` is neither. */
export function chunkParts(data: unknown): readonly Uint8Array[] | null {
  if (data instanceof Uint8Array) return [data];
  if (data instanceof ChunkBatch && data.parts.every((part) => part instanceof Uint8Array)) return data.parts;
  return null;
}

/** `parts` without their first `skip` bytes (views, no copies). */
export function dropFront(parts: readonly Uint8Array[], skip: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const part of parts) {
    if (skip >= part.length) {
      skip -= part.length;
      continue;
    }
    out.push(skip > 0 ? part.subarray(skip) : part);
    skip = 0;
  }
  return out;
}
