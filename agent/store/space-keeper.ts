/**
 * The blob store's space keeping: the cap, room for uploads and ingested files under it
 * (STORE_FULL), room on the disk itself (DISK_FULL), and evicting least-recently-used blobs and
 * idle partial uploads to make either. Room is made under one space lock, against the
 * SpaceBook; the BlobStore calls in while it holds an upload's hash lock (hash lock outside,
 * space lock inside).
 */
import { promises as fsp } from 'node:fs';
import { filesystemFreeBytes, filesystemSpace } from './disk';
import { StoreError } from './errors';
import { KeyedLock } from './keyed-lock';
import { activeNow, type SpaceBook, type Victim } from './space-book';
import type { StoreFolders } from './store-folders';

const DEFAULT_CAP_SHARE = 0.8;
const SPACE = 'space';

/** `N <which> promised to K other upload(s) in progress`, for the refusals that count them. */
function promisedTo(others: { bytes: number; uploads: number }, which: 'of them' | 'more'): string {
  return `${others.bytes} ${which} promised to ${others.uploads} other upload${others.uploads === 1 ? '' : 's'} in progress`;
}

export class SpaceKeeper {
  private readonly spaceLock = new KeyedLock();
  private capBytes = 0;
  /** Size of the filesystem holding the store, when known (for STORE_FULL's hint). */
  private diskBytes: number | null = null;

  /**
   * `dropPartial` removes a partial upload the store's way (its file, its record and the
   * running hash the store keeps for it): eviction of an idle partial goes through it.
   */
  constructor(
    private readonly book: SpaceBook,
    private readonly folders: StoreFolders,
    private readonly partialIdleMs: number,
    private readonly dropPartial: (name: string) => Promise<void>,
  ) {}

  /**
   * Sets the cap (at open, once the book holds what is stored): `capBytes`, or by default 80%
   * of (what the store already holds + the filesystem's free space).
   */
  async setCap(capBytes: number | undefined): Promise<void> {
    const space = await filesystemSpace(this.folders.dir);
    this.capBytes = capBytes ?? Math.floor((this.book.storedBytes() + (space?.freeBytes ?? 0)) * DEFAULT_CAP_SHARE);
    this.diskBytes = space?.totalBytes ?? null;
  }

  async usage(): Promise<{ usedBytes: number; capBytes: number; freeBytes: number }> {
    return { usedBytes: this.book.storedBytes(), capBytes: this.capBytes, freeBytes: await filesystemFreeBytes(this.folders.dir) };
  }

  checkSize(hash: string, size: number): void {
    if (!Number.isSafeInteger(size) || size < 0) {
      throw new StoreError('BAD_SIZE', `blob ${hash}: size ${size} is not a whole number of bytes`, { hash });
    }
    if (size > this.capBytes) {
      // Raising the cap helps only when the disk itself can hold the blob: say both limits.
      const hint =
        this.diskBytes === null
          ? 'raise the agent\'s store cap (--store-cap), if the board\'s disk can hold the blob'
          : size > this.diskBytes
            ? `the board's disk holding the store is only ${this.diskBytes} bytes: give the agent a --store on a larger disk`
            : `raise the agent's store cap (--store-cap; the disk holding the store is ${this.diskBytes} bytes)`;
      throw new StoreError('STORE_FULL', `blob ${hash} is ${size} bytes, more than the store's cap of ${this.capBytes} bytes`, { hash, size, capBytes: this.capBytes, usedBytes: this.book.storedBytes() }, { hint });
    }
  }

  /**
   * Makes sure `wantBytes` more can be stored, evicting least-recently-used blobs (and idle
   * partials) if needed, and reserves `reserveBytes` of it until the returned release is called.
   */
  makeRoom(wantBytes: number, reserveBytes: number, keepPartial?: string): Promise<() => void> {
    return this.spaceLock.run(SPACE, async () => {
      const over = this.book.usedBytes() + wantBytes - this.capBytes;
      if (over > 0) {
        await this.evictOrRefuse(over, keepPartial, (unevictableBytes) => {
          const usedBytes = this.book.usedBytes();
          return new StoreError('STORE_FULL', `the store cannot take ${wantBytes} more bytes: cap ${this.capBytes}, in use ${usedBytes}, of which ${unevictableBytes} pinned or being uploaded`, { size: wantBytes, capBytes: this.capBytes, usedBytes, pinnedBytes: unevictableBytes }, { hint: 'wait for running work to finish or raise the agent\'s store cap' });
        });
      }
      this.book.reservedBytes += reserveBytes;
      let held = true;
      return () => {
        if (held) this.book.reservedBytes -= reserveBytes;
        held = false;
      };
    });
  }

  /**
   * Admits an upload that starts (or resumes): its bytes still to come must fit under the cap
   * (checkCapRoom) and on the filesystem, after evicting what may be evicted (the cap alone does
   * not ensure disk space: the cap may be larger than the disk, or other files fill it). Evicts
   * what the disk needs; refuses at once with DISK_FULL when even that would not do, instead of
   * failing at a full disk later. Then records the upload as begun, in the same hold of the
   * space lock, so that the next check counts it. Returns the length it continues from.
   *
   * Free space here is what is free less what is promised: bytes reserved for writes in flight
   * and the rest of every *other* upload in progress (SpaceBook.outstandingBytes). Without the
   * latter, two uploads begun together would each pass on the same free space. (A chunk being
   * written counts twice until it lands — reserved and still expected — so a check at that
   * moment errs towards refusing, by one write batch at most.)
   */
  admitUpload(hash: string, size: number, knownLength: number, name: string): Promise<number> {
    return this.spaceLock.run(SPACE, async () => {
      // The partial may have been evicted as idle while this waited for the lock: then the
      // upload starts over, and its old length must not come back as a record with no file.
      const length = knownLength > 0 && !this.book.partials.has(name) ? 0 : knownLength;
      const wantBytes = size - length;
      const others = this.book.outstandingBytes(this.partialIdleMs, name);
      if (wantBytes > 0) this.checkCapRoom(hash, wantBytes, others, name);
      const space = wantBytes > 0 ? await filesystemSpace(this.folders.dir) : null; // null: unknown, the writes will tell
      if (space) {
        const unreserved = Math.max(0, space.freeBytes - this.book.reservedBytes);
        const free = unreserved - others.bytes; // below 0 if others took more than the disk has
        if (wantBytes > free) {
          await this.evictOrRefuse(wantBytes - free, name, (unevictableBytes) => {
            const evictable = this.book.storedBytes() - unevictableBytes;
            const promised = others.bytes > 0 ? `, ${promisedTo(others, 'of them')}` : '';
            return new StoreError('DISK_FULL', `blob ${hash}: ${wantBytes} more bytes do not fit on the board's disk: ${unreserved} bytes free${promised}, and the store could free only ${evictable} more`, { hash, size: wantBytes }, {
              hint: `free at least ${wantBytes - free - evictable} bytes on the board's disk holding ${this.folders.dir}, or give the agent a --store on a larger disk`,
            });
          });
        }
      }
      this.book.setPartial(name, { hash, size, length, lastWrite: this.book.tick(), activeAt: activeNow() });
      this.book.beginUpload(name);
      return length;
    });
  }

  /**
   * The cap, at an upload's start: refuses it at once (STORE_FULL) when its remaining bytes,
   * with what the other uploads in progress still expect, cannot fit under the cap even after
   * evicting everything that may go. It evicts nothing: making room for the cap stays lazy,
   * chunk by chunk in makeRoom, so an upload given up early costs no blob for bytes that never
   * came. Without this, two uploads begun together could each pass and one fail half way.
   */
  private checkCapRoom(hash: string, wantBytes: number, others: { bytes: number; uploads: number }, name: string): void {
    const over = this.book.usedBytes() + others.bytes + wantBytes - this.capBytes;
    if (over <= 0) return;
    const plan = this.book.planEviction(over, this.partialIdleMs, name);
    if (plan.victims) return;
    const usedBytes = this.book.usedBytes();
    const evictable = this.book.storedBytes() - plan.unevictableBytes;
    const promised = others.bytes > 0 ? `, ${promisedTo(others, 'more')}` : '';
    throw new StoreError('STORE_FULL', `blob ${hash}: ${wantBytes} more bytes do not fit under the store's cap of ${this.capBytes}: ${usedBytes} in use${promised}, and the store could free only ${evictable}`, { hash, size: wantBytes, capBytes: this.capBytes, usedBytes, pinnedBytes: plan.unevictableBytes }, {
      hint: "wait for the other uploads or running work to finish, or raise the agent's store cap (--store-cap)",
    });
  }

  /**
   * Frees `needBytes` by evicting least-recently-used blobs and idle partials (SpaceBook's
   * plan: nothing pinned, never `keepPartial`); when even evicting all that may go would not
   * free enough, evicts nothing and throws `refuse(bytes that cannot be evicted)`. Callers hold
   * the space lock.
   */
  private async evictOrRefuse(needBytes: number, keepPartial: string | undefined, refuse: (unevictableBytes: number) => StoreError): Promise<void> {
    const plan = this.book.planEviction(needBytes, this.partialIdleMs, keepPartial);
    if (!plan.victims) throw refuse(plan.unevictableBytes);
    for (const victim of plan.victims) await this.evict(victim);
  }

  private async evict(victim: Victim): Promise<void> {
    if (victim.kind === 'partial') {
      await this.dropPartial(victim.key);
      return;
    }
    await fsp.rm(this.folders.blobPath(victim.key), { force: true }).catch((err) => {
      throw this.folders.ioError(`cannot evict blob ${victim.key}`, err);
    });
    this.book.deleteBlob(victim.key);
  }
}
