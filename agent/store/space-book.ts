/**
 * The store's in-memory ledger: which blobs and partial uploads exist, how big they are, when
 * each was last used, which are pinned, and which to evict to make room. It does no I/O; the
 * BlobStore keeps it in step with the files (and rebuilds it from them at open).
 */

export interface BlobRecord {
  size: number;
  /** Last use, ms since the epoch (also written to the blob file's mtime). */
  lastUsed: number;
}

export interface PartialRecord {
  hash: string;
  /** The declared total size of the upload. */
  size: number;
  /** Bytes on disk; 0 for an upload begun (beginUpload) that has no file yet. */
  length: number;
  /** Last write, or last time the upload was begun or resumed (ms since the epoch: the least-recently-used order). */
  lastWrite: number;
  /** The same moment on the monotonic clock (activeNow()): how long the upload has been idle. */
  activeAt: number;
}

export interface Victim {
  kind: 'blob' | 'partial';
  /** Blob hash, or the partial's file name. */
  key: string;
  bytes: number;
}

/**
 * Idleness is timed on the monotonic clock. A board without a real-time clock boots in 1970
 * and jumps decades ahead at its first NTP sync: timed by the wall clock, every upload in
 * progress would turn idle at that moment (its partial evictable, its outstanding bytes no
 * longer counted), and one left by a host before the sync would never turn idle (it looks
 * written in the future). The wall clock still orders uses (least recently used first), which
 * must survive restarts.
 */
export function activeNow(): number {
  return performance.now();
}

/** activeNow() of a write made at `wallMs` (a partial's mtime, found at open): never in the future. */
export function activeAtWallTime(wallMs: number): number {
  return performance.now() - Math.max(0, Date.now() - wallMs);
}

export class SpaceBook {
  readonly blobs = new Map<string, BlobRecord>();
  /** Keyed by partial file name (`<hash>.<size>.part`). */
  readonly partials = new Map<string, PartialRecord>();
  private readonly pins = new Map<string, number>();
  /** Hosts uploading each partial (by file name) now: begun and not yet ended. */
  private readonly uploaders = new Map<string, number>();
  private blobBytes = 0;
  private partialBytes = 0;
  /** Bytes promised to writes in flight, counted as used until the write lands. */
  reservedBytes = 0;
  private clock = 0;

  /**
   * A strictly increasing timestamp. Never behind a time already recorded: a board without a
   * real-time clock may boot in 1970 with blobs used in 2026 on disk, and its new uses must
   * still count as the most recent.
   */
  tick(): number {
    this.clock = Math.max(Date.now(), this.clock + 1);
    return this.clock;
  }

  setBlob(hash: string, record: BlobRecord): void {
    this.deleteBlob(hash);
    this.blobs.set(hash, record);
    this.blobBytes += record.size;
    this.clock = Math.max(this.clock, record.lastUsed);
  }

  deleteBlob(hash: string): void {
    const old = this.blobs.get(hash);
    if (!old) return;
    this.blobs.delete(hash);
    this.blobBytes -= old.size;
  }

  setPartial(name: string, record: PartialRecord): void {
    this.deletePartial(name);
    this.partials.set(name, record);
    this.partialBytes += record.length;
    this.clock = Math.max(this.clock, record.lastWrite);
  }

  deletePartial(name: string): void {
    const old = this.partials.get(name);
    if (!old) return;
    this.partials.delete(name);
    this.partialBytes -= old.length;
  }

  /** Bytes of blobs and partial uploads on disk (not counting reservations). */
  storedBytes(): number {
    return this.blobBytes + this.partialBytes;
  }

  usedBytes(): number {
    return this.storedBytes() + this.reservedBytes;
  }

  pin(hash: string): void {
    this.pins.set(hash, (this.pins.get(hash) ?? 0) + 1);
  }

  unpin(hash: string): void {
    const count = this.pins.get(hash) ?? 0;
    if (count <= 1) this.pins.delete(hash);
    else this.pins.set(hash, count - 1);
  }

  isPinned(hash: string): boolean {
    return this.pins.has(hash);
  }

  /** A host starts or resumes uploading the partial `name`. */
  beginUpload(name: string): void {
    this.uploaders.set(name, (this.uploaders.get(name) ?? 0) + 1);
  }

  /**
   * A host stopped uploading `name`, however it ended. A record begun and never written (no
   * file behind it) leaves the book with its last uploader.
   */
  endUpload(name: string): void {
    const left = (this.uploaders.get(name) ?? 0) - 1;
    if (left > 0) {
      this.uploaders.set(name, left);
      return;
    }
    this.uploaders.delete(name);
    if (this.partials.get(name)?.length === 0) this.deletePartial(name);
  }

  /**
   * Bytes the uploads in progress, other than `except`, still expect (declared size − bytes on
   * disk), and how many they are. Those bytes are promised: without counting them, two uploads
   * begun together could each pass the disk check on the same free space, and one would fail
   * at a full disk later. Bytes already written are left out (they are gone from the free space
   * already). An upload counts while a host is uploading it (begun and not ended) and it is
   * *active*: begun, resumed or written within the last `partialIdleMs` — the same window in
   * which its partial is safe from eviction as idle, a bound for a caller that never ends its
   * upload. A partial whose host gave up or went away no longer holds the rest of its bytes;
   * resuming it checks the disk again. Completed, dropped or evicted uploads have left the book
   * and count for nothing.
   */
  outstandingBytes(partialIdleMs: number, except: string): { bytes: number; uploads: number } {
    const now = activeNow();
    let bytes = 0;
    let uploads = 0;
    for (const [name, partial] of this.partials) {
      if (name === except || !this.uploaders.has(name) || !this.isActive(partial, now, partialIdleMs) || partial.size <= partial.length) continue;
      bytes += partial.size - partial.length;
      uploads += 1;
    }
    return { bytes, uploads };
  }

  private isActive(partial: PartialRecord, now: number, partialIdleMs: number): boolean {
    return now - partial.activeAt <= partialIdleMs;
  }

  /**
   * What to evict, oldest use first, to free `needBytes`; null if even evicting everything
   * evictable would not be enough (then nothing should be evicted). Pinned blobs are never
   * chosen; a partial upload only when idle longer than `partialIdleMs` (someone may still be
   * sending it) and never the one named by `keepPartial`.
   */
  planEviction(needBytes: number, partialIdleMs: number, keepPartial?: string): { victims: Victim[]; unevictableBytes: number } | { victims: null; unevictableBytes: number } {
    const now = activeNow();
    const candidates: (Victim & { lastUsed: number })[] = [];
    let unevictableBytes = 0;
    for (const [hash, blob] of this.blobs) {
      if (this.isPinned(hash)) unevictableBytes += blob.size;
      else candidates.push({ kind: 'blob', key: hash, bytes: blob.size, lastUsed: blob.lastUsed });
    }
    for (const [name, partial] of this.partials) {
      const busy = name === keepPartial || this.isPinned(partial.hash) || this.isActive(partial, now, partialIdleMs);
      if (busy) unevictableBytes += partial.length;
      else candidates.push({ kind: 'partial', key: name, bytes: partial.length, lastUsed: partial.lastWrite });
    }
    candidates.sort((a, b) => a.lastUsed - b.lastUsed);
    const victims: Victim[] = [];
    let freed = 0;
    for (const candidate of candidates) {
      if (freed >= needBytes) break;
      victims.push({ kind: candidate.kind, key: candidate.key, bytes: candidate.bytes });
      freed += candidate.bytes;
    }
    if (freed < needBytes) return { victims: null, unevictableBytes };
    return { victims, unevictableBytes };
  }
}
