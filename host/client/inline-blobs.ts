/**
 * Outputs the agent sent inside a RunResult (protocol 1.2): kept by hash so that fetching them
 * needs no Get round trip. Bounded: the oldest go first, and a blob not kept is simply fetched.
 */
import { createHash } from 'node:crypto';
import type { RunOutput as WireRunOutput } from '../../shared/protocol/envelope';
import { checkArrived } from './download';

/** What a run asks the agent to send inline, in all. */
export const INLINE_OUTPUT_BYTES = 1024 * 1024;
/** What the client keeps at most (a few runs' worth, for callers that run before they fetch). */
const KEPT_BYTES = 4 * INLINE_OUTPUT_BYTES;

export class InlineBlobs {
  private readonly blobs = new Map<string, Uint8Array>();
  /** Blobs whose bytes were found to match their hash (checked once). */
  private readonly checked = new Set<string>();
  private keptBytes = 0;

  keep(outputs: readonly WireRunOutput[]): void {
    for (const { hash, size, data } of outputs) {
      // An empty data field is "not inline" (also for an empty blob: that one is fetched).
      if (data.length === 0 || data.length !== size || this.blobs.has(hash)) continue;
      // A copy: the decoded field may be a view of the transport's receive buffer.
      this.blobs.set(hash, new Uint8Array(data));
      this.keptBytes += data.length;
    }
    for (const [hash, data] of this.blobs) {
      if (this.keptBytes <= KEPT_BYTES) break;
      this.blobs.delete(hash);
      this.checked.delete(hash);
      this.keptBytes -= data.length;
    }
  }

  /** The bytes of blob `hash` if the agent sent them inline with this size; not yet checked against the hash. */
  get(hash: string, size: number): Uint8Array | undefined {
    const data = this.blobs.get(hash);
    return data && data.length === size ? data : undefined;
  }

  /** As get(), sha256-checked: BLOB_CORRUPT when the bytes are not blob `hash`. */
  getChecked(hash: string, size: number): Uint8Array | undefined {
    const data = this.get(hash, size);
    if (data && !this.checked.has(hash)) {
      checkArrived(hash, createHash('sha256').update(data).digest('hex'));
      this.checked.add(hash);
    }
    return data;
  }
}
