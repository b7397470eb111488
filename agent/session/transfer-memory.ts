/**
 * Where upload chunks wait for the disk, so that receiving a large model keeps the agent's
 * memory flat (issue #3: under 100 MB while it receives a 500 MB model).
 *
 * A chunk arrives in fresh memory (the socket's reads, then the 1 MiB buffer its WebSocket
 * message or stdio/SSH frame is assembled in), which V8 frees only when it collects the young
 * generation (shared/young-collection.ts). Chunks waiting in the upload window (12 MiB) would live
 * long enough to survive two collections and be promoted, and then wait for a full one; glibc
 * keeps what was freed late. Measured on a 500 MB upload over WebSocket: glibc's heap held
 * 46 MiB at the peak, the whole agent 101–108 MiB.
 *
 * So each upload chunk waits in one of a few reused slabs (room for a 1 MiB chunk and the
 * frame around it), the network's buffers die young, and the young generation is collected
 * every few MiB moved either way. Same upload: 81–89 MiB, agent CPU per MB no higher. A slab is
 * given back once its chunk is written and hashed; the slabs are dropped once no upload has
 * run for KEEP_SLABS_MS, so an idle agent keeps none.
 *
 * A chunk gets into its slab one of two ways:
 * - assembled there: the session's transport asks forConnection()'s ReceiveBuffers for memory
 *   to join a large frame's socket reads in (shared/protocol/receive-buffers.ts) and is lent
 *   a free slab; hold() of a chunk lying in such a slab adopts the slab, no copy. Lent slabs
 *   nobody adopted come back when the transport settles. This saves the join into fresh
 *   memory, whose page faults cost ~6× the copy (0.33 vs 0.05 ms/MB), and hold()'s own copy.
 * - copied there by hold() (~0.1 ms per MiB into warm memory): chunks that arrived in fresh
 *   memory (a transport without the option, no slab free when the frame began, a fragmented
 *   WebSocket message, which ws joins into a fresh buffer).
 */
import type { CollectionPacer } from '../../shared/young-collection';
import type { ReceiveBuffers } from '../../shared/protocol/receive-buffers';
import { SESSION_DEFAULTS } from './context';

/** An idle agent keeps no slab for longer than this after its last upload. */
export const KEEP_SLABS_MS = 30_000;

/**
 * Room in each slab beyond the chunk it holds, so the whole frame that carries a chunk of
 * slabBytes fits (frame header and trailer, 12 bytes, and the chunk's envelope, < 64).
 */
export const FRAME_ROOM_BYTES = 4096;

export interface TransferMemoryOptions {
  /** The largest chunk a slab holds: the chunk size sessions ask for (larger chunks are kept as they came). */
  slabBytes: number;
  /** Slabs in the arena: the upload window plus a write batch, in slabs. */
  slabs: number;
  /** Told of every byte moved (the process's one pacer of young-generation collections). */
  pacer: CollectionPacer;
  /** How long the arena is kept after the last upload ends (default KEEP_SLABS_MS). */
  keepSlabsMs?: number;
}

/** One connection's borrowings: the slabs lent to it for assembling frames, not yet settled. */
class ConnectionLoans implements ReceiveBuffers {
  /** Slab offsets, with the arena they are of (it may have been dropped since). */
  readonly slabs: { arena: Buffer; at: number }[] = [];
  constructor(private readonly memory: TransferMemory) {}
  take(bytes: number): Uint8Array | null {
    return this.memory.lendForAssembly(this, bytes);
  }
  settle(): void {
    if (this.slabs.length > 0) this.memory.settle(this);
  }
}

export class TransferMemory {
  /** Sized for sessions with the default limits: 1 MiB chunks, the window plus a write batch. */
  static forSessions(pacer: CollectionPacer): TransferMemory {
    const { chunkBytes, putWindowBytes } = SESSION_DEFAULTS;
    // Unacknowledged bytes (queued and being written alike) are at most the window plus the
    // chunk that crosses it (the session refuses more); one more slab for a frame being assembled.
    return new TransferMemory({ slabBytes: chunkBytes, slabs: Math.ceil(putWindowBytes / chunkBytes) + 2, pacer });
  }

  /**
   * All slabs in one allocation, large enough for glibc to map it on its own, apart from the
   * heap where the network's short-lived buffers come and go (1 MiB slabs allocated one by one
   * landed among them: 95 MiB peak after a few GB of traffic instead of ~85). Made when an
   * upload needs it; dropped once uploads have stopped for keepSlabsMs.
   */
  private arena: Buffer | null = null;
  /** Bytes from one slab's start to the next: slabBytes plus FRAME_ROOM_BYTES. */
  private readonly slabStride: number;
  /** Offsets of the slabs free to take. */
  private free: number[] = [];
  /**
   * The slabs holding a chunk now, by the byteOffset of the chunk's view (the start of its
   * slab for a copy, a few bytes into it for an adopted frame): only the chunks handed out are
   * taken back, each once.
   */
  private readonly lent = new Map<number, number>();
  /** Offsets of the slabs lent to a transport to assemble a frame in, neither adopted nor settled. */
  private readonly assembling = new Set<number>();
  private uploads = 0;
  private dropTimer: NodeJS.Timeout | null = null;
  constructor(private readonly opts: TransferMemoryOptions) {
    this.slabStride = opts.slabBytes + FRAME_ROOM_BYTES;
  }

  /**
   * Memory for one connection's transport to assemble large frames in (its own handle, so
   * one connection's settle() never gives back another's slab). Only for the transport of an
   * AgentSession: its handler is done with a message's bytes when it returns, except a chunk
   * that hold() keeps.
   */
  forConnection(): ReceiveBuffers {
    return new ConnectionLoans(this);
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
    if (this.uploads > 0) return;
    setImmediate(() => this.uploads === 0 && this.opts.pacer.settle()); // after the last acknowledgement goes out
    if (this.dropTimer) return;
    this.dropTimer = setTimeout(() => {
      this.dropTimer = null;
      this.arena = null;
      this.free = [];
      this.lent.clear();
      this.assembling.clear();
    }, this.opts.keepSlabsMs ?? KEEP_SLABS_MS);
    this.dropTimer.unref();
  }

  /**
   * `data`, held until release(): adopted where it lies when it was assembled in a slab lent
   * for it (forConnection()); else a copy in a slab; else `data` itself when larger than a
   * slab, not more than half of one (a slab per small chunk would hold more memory than it
   * saves), or when every slab holds a chunk (several uploads at once).
   */
  hold(data: Uint8Array): Uint8Array {
    this.moved(data.length);
    const { slabBytes } = this.opts;
    const arena = this.arena;
    if (arena && data.buffer === arena.buffer) {
      const slab = Math.floor(data.byteOffset / this.slabStride) * this.slabStride;
      if (data.byteOffset + data.length <= slab + this.slabStride && this.assembling.delete(slab)) {
        this.lent.set(data.byteOffset, slab);
        return data;
      }
      // Bytes of a slab not lent for this frame: never to be kept as a view of memory that is
      // or will be reused. Not expected (every frame in a slab is handled before its settle).
      return this.copy(data) ?? new Uint8Array(data);
    }
    if (data.length <= slabBytes / 2 || data.length > slabBytes) return data;
    return this.copy(data) ?? data;
  }

  /** `bytes` went through the agent (a download's chunk; hold() counts uploads itself). */
  moved(bytes: number): void {
    this.opts.pacer.moved(bytes);
  }

  /** The chunks are on disk and hashed: their slabs may be reused. */
  release(chunks: readonly Uint8Array[]): void {
    for (const chunk of chunks) {
      if (!this.arena || chunk.buffer !== this.arena.buffer) continue;
      const slab = this.lent.get(chunk.byteOffset);
      if (slab === undefined) continue;
      this.lent.delete(chunk.byteOffset);
      this.free.push(slab);
    }
  }

  /**
   * For ConnectionLoans.take(): a free slab to assemble a frame of `bytes` in, while an
   * upload runs (another large message has no chunk to keep) and the frame could carry a
   * chunk hold() would keep in a slab.
   */
  lendForAssembly(loans: ConnectionLoans, bytes: number): Uint8Array | null {
    if (this.uploads === 0 || bytes <= this.opts.slabBytes / 2 || bytes > this.slabStride) return null;
    const arena = this.ensureArena();
    const at = this.free.pop();
    if (at === undefined) return null;
    this.assembling.add(at);
    loans.slabs.push({ arena, at });
    return arena.subarray(at, at + bytes);
  }

  /** For ConnectionLoans.settle(): its slabs that were not adopted are free again. */
  settle(loans: ConnectionLoans): void {
    for (const { arena, at } of loans.slabs.splice(0)) {
      if (arena === this.arena && this.assembling.delete(at)) this.free.push(at);
    }
  }

  private ensureArena(): Buffer {
    if (!this.arena) {
      const { slabs } = this.opts;
      this.arena = Buffer.allocUnsafeSlow(slabs * this.slabStride);
      this.free = Array.from({ length: slabs }, (_, i) => (slabs - 1 - i) * this.slabStride);
    }
    return this.arena;
  }

  /** `data` copied into a free slab and lent; null when none is free. */
  private copy(data: Uint8Array): Uint8Array | null {
    if (data.length > this.opts.slabBytes) return null;
    const arena = this.ensureArena();
    const at = this.free.pop();
    if (at === undefined) return null;
    arena.set(data, at);
    this.lent.set(at, at);
    return arena.subarray(at, at + data.length);
  }
}
