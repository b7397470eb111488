/**
 * Keeps the agent's memory flat while blobs move (issue #3: under 100 MB while it receives a
 * 500 MB model).
 *
 * Every chunk arrives in fresh memory: the socket's 64 KiB reads, then the 1 MiB buffer the
 * WebSocket message (or the stdio/SSH frame) is assembled in; a download's frames beyond the
 * few that transports recycle are fresh too. V8 frees such buffers only when it collects the
 * young generation, which on its own it does after ~32 MiB of them (twice its default
 * semi-space on 64-bit; 16 MiB on a 32-bit board). Chunks waiting in the upload window
 * (8 MiB) live long enough to survive two of those collections and be promoted, and then wait
 * for a full collection; glibc keeps what was freed late. Measured on a 500 MB upload over
 * WebSocket: glibc's heap held 46 MiB at the peak, the whole agent 101–108 MiB.
 *
 * So each upload chunk is copied, on arrival, into one of a few reused slabs (1 MiB; the copy
 * costs ~0.1 ms per MiB into warm memory), the network's buffers die young, and a
 * young-generation collection (a scavenge: ~0.3 ms, the live young data is a few objects)
 * runs after every COLLECT_EVERY_BYTES moved either way. Same upload: 81–89 MiB, agent CPU
 * per MB no higher. A slab is given back once its chunk is written and hashed; the slabs are
 * dropped once no upload has run for KEEP_SLABS_MS, so an idle agent keeps none.
 */
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import { SESSION_DEFAULTS } from './context';

/**
 * Bytes moved between two young-generation collections. Measured (500 MB upload): 2 MiB
 * 80–82 MiB peak but +0.3 ms of agent CPU per MB, 4 MiB 81–89, 8 MiB 90–94; a collection
 * every 5–15 ms of wall time instead promoted chunks still in flight (96–139 MiB).
 */
export const COLLECT_EVERY_BYTES = 4 * 1024 * 1024;

/** An idle agent keeps no slab for longer than this after its last upload. */
export const KEEP_SLABS_MS = 30_000;

/** A collection of V8's young generation (a scavenge). */
type Collect = () => void;

/**
 * V8's young-generation collection, or null where it cannot be had. Node offers it only behind
 * --expose-gc; setting that flag at run time makes `gc` appear in contexts created afterwards,
 * so the agent needs no special command line. (The `expose-gc` package does the same. Node
 * warns that flags changed at run time may behave unpredictably; this one only adds a function
 * to new contexts; tests check it on the Node that runs them and, through an upload, on the
 * armhf Node 18 under qemu. Without it the agent says so at start and works, with more memory.)
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

export interface TransferMemoryOptions {
  /** Slab size: the chunk size sessions ask for (other sizes are kept as they came). */
  slabBytes: number;
  /** Slabs in the arena: the upload window plus a write batch, in slabs. */
  slabs: number;
  /** Young-generation collection; null: leave collecting to V8 (e.g. in tests). */
  collect: Collect | null;
  collectEveryBytes?: number;
  /** How long the arena is kept after the last upload ends (default KEEP_SLABS_MS). */
  keepSlabsMs?: number;
}

export class TransferMemory {
  /** Sized for sessions with the default limits: 1 MiB slabs, the window plus a write batch. */
  static forSessions(collect: Collect | null): TransferMemory {
    const { chunkBytes, putWindowBytes, writeBatchBytes } = SESSION_DEFAULTS;
    return new TransferMemory({ slabBytes: chunkBytes, slabs: Math.ceil((putWindowBytes + writeBatchBytes) / chunkBytes) + 1, collect });
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
  private sinceCollect = 0;
  private readonly collectEveryBytes: number;

  constructor(private readonly opts: TransferMemoryOptions) {
    this.collectEveryBytes = opts.collectEveryBytes ?? COLLECT_EVERY_BYTES;
  }

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
    this.sinceCollect += bytes;
    if (this.sinceCollect < this.collectEveryBytes || !this.opts.collect) return;
    this.sinceCollect = 0;
    this.opts.collect();
  }

  /** The chunks are on disk and hashed: their slabs may be reused. */
  release(chunks: readonly Uint8Array[]): void {
    for (const chunk of chunks) {
      if (!this.arena || chunk.buffer !== this.arena.buffer || !this.lent.delete(chunk.byteOffset)) continue;
      this.free.push(chunk.byteOffset);
    }
  }
}
