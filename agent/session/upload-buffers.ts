/**
 * Where upload chunks wait for the disk, so that receiving a large model keeps the agent's
 * memory flat (issue #3: under 100 MB for a 500 MB model).
 *
 * Every chunk arrives in fresh memory: the socket's 64 KiB reads, then the 1 MiB buffer the
 * WebSocket message (or the stdio/SSH frame) is assembled in. V8 frees such buffers only when
 * it collects the young generation, which on its own it does after ~32 MiB of them (twice its
 * default semi-space on 64-bit; 16 MiB on a 32-bit board). Chunks waiting in the upload
 * window (8 MiB) live long enough to survive two of those collections and be promoted, and
 * then wait for a full collection. Measured on a 500 MB upload over WebSocket: glibc's heap
 * held 46 MiB at the peak, the whole agent 101–108 MiB.
 *
 * So each chunk is copied, on arrival, into one of a few reused slabs (1 MiB; the copy costs
 * ~0.1 ms per MiB into warm memory), the network's buffers die young, and a young-generation
 * collection (a scavenge: ~0.3 ms, the live young data is a few objects) runs after every
 * COLLECT_EVERY_BYTES received. Same upload: 83–90 MiB. Slabs are given back once their chunk
 * is written and hashed, and dropped when no upload is running, so an idle agent keeps none.
 */
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import { SESSION_DEFAULTS } from './context';

/** Bytes received between two young-generation collections (measured: 4 MiB keeps the peak lowest without promoting chunks still in flight). */
export const COLLECT_EVERY_BYTES = 4 * 1024 * 1024;

type Collect = () => void;

/**
 * V8's young-generation collection, or null where it cannot be had. Node offers it only behind
 * --expose-gc; setting that flag at run time makes `gc` appear in contexts created afterwards
 * (a documented V8 behaviour that tools such as `expose-gc` rely on), so the agent needs no
 * special command line.
 */
export function youngCollector(): Collect | null {
  try {
    v8.setFlagsFromString('--expose-gc');
    const gc: unknown = vm.runInNewContext('gc');
    if (typeof gc !== 'function') return null;
    return () => (gc as (options: { type: string }) => void)({ type: 'minor' });
  } catch {
    return null;
  }
}

export interface UploadBuffersOptions {
  /** Slab size: the chunk size sessions ask for (other sizes are kept as they came). */
  slabBytes: number;
  /** Spare slabs kept while uploads run: the window plus a write batch, in slabs. */
  maxSpare: number;
  /** Young-generation collection; null: leave collecting to V8 (e.g. in tests). */
  collect: Collect | null;
  collectEveryBytes?: number;
}

export class UploadBuffers {
  /** Sized for sessions with the default limits: 1 MiB slabs, the window plus a write batch spare. */
  static forSessions(collect: Collect | null): UploadBuffers {
    const { chunkBytes, putWindowBytes, writeBatchBytes } = SESSION_DEFAULTS;
    return new UploadBuffers({ slabBytes: chunkBytes, maxSpare: Math.ceil((putWindowBytes + writeBatchBytes) / chunkBytes) + 1, collect });
  }

  private spare: Buffer[] = [];
  /** Slabs holding a chunk now: only these are taken back, each once. */
  private readonly lent = new Set<ArrayBufferLike>();
  private uploads = 0;
  private sinceCollect = 0;
  private readonly collectEveryBytes: number;

  constructor(private readonly opts: UploadBuffersOptions) {
    this.collectEveryBytes = opts.collectEveryBytes ?? COLLECT_EVERY_BYTES;
  }

  /** An upload starts; pair with uploadEnded(). */
  uploadStarted(): void {
    this.uploads++;
  }

  uploadEnded(): void {
    this.uploads = Math.max(0, this.uploads - 1);
    if (this.uploads === 0) {
      this.spare = [];
      this.lent.clear();
    }
  }

  /**
   * A copy of `data` in a slab; `data` itself when larger than a slab, or not more than half
   * of one (a slab per small chunk would hold more memory than it saves).
   */
  hold(data: Uint8Array): Uint8Array {
    this.sinceCollect += data.length;
    let held = data;
    if (data.length > this.opts.slabBytes / 2 && data.length <= this.opts.slabBytes) {
      const slab = this.spare.pop() ?? Buffer.allocUnsafeSlow(this.opts.slabBytes);
      slab.set(data);
      this.lent.add(slab.buffer);
      held = slab.subarray(0, data.length);
    }
    if (this.sinceCollect >= this.collectEveryBytes && this.opts.collect) {
      this.sinceCollect = 0;
      this.opts.collect();
    }
    return held;
  }

  /** The chunks are on disk and hashed: their slabs may be reused. */
  release(chunks: readonly Uint8Array[]): void {
    for (const chunk of chunks) {
      if (!this.lent.delete(chunk.buffer)) continue;
      if (this.uploads > 0 && this.spare.length < this.opts.maxSpare) this.spare.push(Buffer.from(chunk.buffer, 0, this.opts.slabBytes));
    }
  }
}
