/**
 * Where upload chunks wait for the disk, so that receiving a large model keeps the agent's
 * memory flat (issue #3: under 100 MB while it receives a 500 MB model).
 *
 * A chunk arrives in fresh memory (the socket's reads, then the 1 MiB buffer its WebSocket
 * message or stdio/SSH frame is assembled in), which V8 frees only when it collects the young
 * generation (shared/young-collection.ts). Chunks waiting in the upload window (8 MiB) would live
 * long enough to survive two collections and be promoted, and then wait for a full one; glibc
 * keeps what was freed late. Measured on a 500 MB upload over WebSocket: glibc's heap held
 * 46 MiB at the peak, the whole agent 101–108 MiB.
 *
 * So each upload chunk is copied, on arrival, into one of a few reused slabs (1 MiB; the copy
 * costs ~0.1 ms per MiB into warm memory), the network's buffers die young, and the young
 * generation is collected every few MiB moved either way. Same upload: 81–89 MiB, agent CPU
 * per MB no higher. A slab is given back once its chunk is written and hashed; the slabs are
 * dropped once no upload has run for KEEP_SLABS_MS, so an idle agent keeps none.
 */
import type { CollectionPacer } from '../../shared/young-collection';
import { SESSION_DEFAULTS } from './context';

/** An idle agent keeps no slab for longer than this after its last upload. */
export const KEEP_SLABS_MS = 30_000;

export interface TransferMemoryOptions {
  /** Slab size: the chunk size sessions ask for (other sizes are kept as they came). */
  slabBytes: number;
  /** Slabs in the arena: the upload window plus a write batch, in slabs. */
  slabs: number;
  /** Told of every byte moved (the process's one pacer of young-generation collections). */
  pacer: CollectionPacer;
  /** How long the arena is kept after the last upload ends (default KEEP_SLABS_MS). */
  keepSlabsMs?: number;
}

export class TransferMemory {
  /** Sized for sessions with the default limits: 1 MiB slabs, the window plus a write batch. */
  static forSessions(pacer: CollectionPacer): TransferMemory {
    const { chunkBytes, putWindowBytes, writeBatchBytes } = SESSION_DEFAULTS;
    return new TransferMemory({ slabBytes: chunkBytes, slabs: Math.ceil((putWindowBytes + writeBatchBytes) / chunkBytes) + 1, pacer });
  }

  /**
   * All slabs in one allocation, large enough for glibc to map it on its own, apart from the
   * heap where the network's short-lived buffers come and go (1 MiB slabs allocated one by one
   * landed among them: 95 MiB peak after a few GB of traffic instead of ~85). Made when an
   * upload needs it; dropped once uploads have stopped for keepSlabsMs.
   */
  private arena: Buffer | null = null;
  /** Offsets of the slabs free to take. */
  private free: number[] = [];
  /** Offsets of the slabs holding a chunk now: only these are taken back, each once. */
  private readonly lent = new Set<number>();
  private uploads = 0;
  private dropTimer: NodeJS.Timeout | null = null;
  constructor(private readonly opts: TransferMemoryOptions) {}

  /** An upload starts; pair with uploadEnded(). */
  uploadStarted(): void {
    this.uploads++;
    if (this.dropTimer) clearTimeout(this.dropTimer);
    this.dropTimer = null;
  }

  /**
   * The arena outlives the last upload by keepSlabsMs: a deploy's uploads follow each other,
   * and slabs dropped after each would pile up as garbage until a full collection (measured:
   * 118 MiB after five uploads in a row, instead of ~85).
   */
  uploadEnded(): void {
    this.uploads = Math.max(0, this.uploads - 1);
    if (this.uploads > 0 || this.dropTimer) return;
    this.dropTimer = setTimeout(() => {
      this.dropTimer = null;
      this.arena = null;
      this.free = [];
      this.lent.clear();
    }, this.opts.keepSlabsMs ?? KEEP_SLABS_MS);
    this.dropTimer.unref();
  }

  /**
   * A copy of `data` in a slab; `data` itself when larger than a slab, not more than half of
   * one (a slab per small chunk would hold more memory than it saves), or when every slab holds
   * a chunk (several uploads at once).
   */
  hold(data: Uint8Array): Uint8Array {
    this.moved(data.length);
    const { slabBytes, slabs } = this.opts;
    if (data.length <= slabBytes / 2 || data.length > slabBytes) return data;
    if (!this.arena) {
      this.arena = Buffer.allocUnsafeSlow(slabs * slabBytes);
      this.free = Array.from({ length: slabs }, (_, i) => (slabs - 1 - i) * slabBytes);
    }
    const at = this.free.pop();
    if (at === undefined) return data;
    this.arena.set(data, at);
    this.lent.add(at);
    return this.arena.subarray(at, at + data.length);
  }

  /** `bytes` went through the agent (a download's chunk; hold() counts uploads itself). */
  moved(bytes: number): void {
    this.opts.pacer.moved(bytes);
  }

  /** The chunks are on disk and hashed: their slabs may be reused. */
  release(chunks: readonly Uint8Array[]): void {
    for (const chunk of chunks) {
      if (!this.arena || chunk.buffer !== this.arena.buffer || !this.lent.delete(chunk.byteOffset)) continue;
      this.free.push(chunk.byteOffset);
    }
  }
}
