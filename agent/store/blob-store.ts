/**
 * The board's content-addressed blob store: models, inputs and run outputs, each named by its
 * sha256. Layout, resume and eviction rules are documented in docs/parts/agent-core.md; the
 * folders are kept by StoreFolders (store-folders.ts), the space by SpaceKeeper (space-keeper.ts).
 *
 * Uploads: every chunk (or batch of chunks, written with one writev) is written at the
 * partial's end, and a running sha256 follows the chunks, computed while the write is in
 * flight. fsync runs in the background and once more before the rename (background-sync.ts). Hash state cannot survive an agent
 * restart, so the first touch of a partial after a restart re-reads it to rebuild the hash;
 * the upload then continues from the partial's length, no byte is sent twice. The partial is
 * renamed into blobs/ only when its sha256 matches its name.
 *
 * Last use is kept in memory and in each blob file's mtime, so the least-recently-used order
 * survives restarts without an index file to keep consistent.
 */
import { createHash, type Hash } from 'node:crypto';
import { promises as fsp, rmSync, statSync, utimesSync } from 'node:fs';
import path from 'node:path';
import { fileSystemError } from '../../shared/errors';
import { BackgroundSync } from './background-sync';
import { fsyncDir, syncFile, writeAt } from './disk';
import { chunkParts, dropFront, type ChunkBatch } from './chunk-batch';
import { StoreError, storeIoError } from './errors';
import { assertHash, hashFileInto, sha256File, sha256FileKeeping } from './hashing';
import { KeyedLock } from './keyed-lock';
import { activeNow, SpaceBook } from './space-book';
import { SpaceKeeper } from './space-keeper';
import { BLOB_MODE, partialFileName, StoreFolders } from './store-folders';

export interface BlobStat {
  hash: string;
  size: number;
}

export interface BlobStoreOptions {
  /**
   * Most bytes blobs and partial uploads may occupy. Default: 80% of (what the store already
   * holds + the filesystem's free space) when the store is opened.
   */
  capBytes?: number;
  /** A partial upload not written for this long may be evicted to make room. Default 1 hour. */
  partialIdleMs?: number;
}

/** Largest single read(); a peer asks for chunks, never for a whole blob at once. */
export const MAX_READ_BYTES = 16 * 1024 * 1024;
const DEFAULT_PARTIAL_IDLE_MS = 60 * 60 * 1000;

interface UploadState {
  hasher: Hash;
  length: number;
  /** fsyncs the partial off the acknowledgement path (background-sync.ts). */
  sync: BackgroundSync;
}

export class BlobStore {
  readonly dir: string;
  private readonly folders: StoreFolders;
  private readonly book = new SpaceBook();
  private readonly space: SpaceKeeper;
  /** Running hashes of uploads this process has touched, keyed by partial file name. */
  private readonly uploads = new Map<string, UploadState>();
  private readonly hashLock = new KeyedLock();

  private constructor(dir: string, partialIdleMs: number) {
    this.dir = dir;
    this.folders = new StoreFolders(dir);
    this.space = new SpaceKeeper(this.book, this.folders, partialIdleMs, (name) => this.dropPartial(name));
  }

  static async open(dir: string, opts: BlobStoreOptions = {}): Promise<BlobStore> {
    if (opts.capBytes !== undefined && !(Number.isSafeInteger(opts.capBytes) && opts.capBytes > 0)) {
      throw new StoreError('BAD_CAP', `store cap must be a positive whole number of bytes, got ${opts.capBytes}`);
    }
    const store = new BlobStore(path.resolve(dir), opts.partialIdleMs ?? DEFAULT_PARTIAL_IDLE_MS);
    try {
      await store.folders.create();
      await store.folders.scan(store.book);
    } catch (err) {
      throw storeIoError(`cannot open the blob store at ${store.dir}`, err, store.dir);
    }
    await store.space.setCap(opts.capBytes);
    return store;
  }

  async has(hash: string): Promise<BlobStat | null> {
    assertHash(hash);
    if (!this.book.blobs.has(hash)) return null;
    try {
      // In place: a stat of a local file takes microseconds; the async call's hand-off to the
      // thread pool and back ~0.1-0.7 ms on a busy board, once or twice per blob of a run.
      const stat = statSync(this.folders.blobPath(hash));
      return { hash, size: stat.size };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw this.folders.ioError(`blob ${hash}`, err);
      this.book.deleteBlob(hash); // removed behind our back
      return null;
    }
  }

  /**
   * Where an upload must continue; `size` if the blob is already complete. Same as
   * beginUpload(), for a caller that never says the upload ended (its claim on the disk then
   * lasts while the upload is active: written within the partial idle time).
   */
  async uploadOffset(hash: string, size: number): Promise<number> {
    return (await this.beginUpload(hash, size)).offset;
  }

  /**
   * A host starts or resumes uploading `hash`: where it must continue (`size` and `complete`
   * if the blob is already here). An upload that starts or resumes here counts as activity:
   * its partial is not evicted as idle meanwhile, and the rest of its bytes count against
   * other uploads' cap and disk checks (SpaceKeeper.admitUpload) until `end()` — call it however the upload ended
   * (done, failed, cut off; more than once is harmless), or the bytes of an upload given up
   * stay promised until it has been idle for the partial idle time.
   */
  async beginUpload(hash: string, size: number): Promise<{ offset: number; complete: boolean; end: () => void }> {
    assertHash(hash);
    this.space.checkSize(hash, size);
    return this.hashLock.run(hash, async () => {
      if (await this.completeBlob(hash, size)) return { offset: size, complete: true, end: () => undefined };
      const state = await this.uploadState(hash, size);
      const name = partialFileName(hash, size);
      // Less than the partial's length when it was evicted while the space lock was awaited.
      const offset = await this.space.admitUpload(hash, size, state.length, name);
      let ended = false;
      return {
        offset,
        complete: false,
        end: () => {
          if (!ended) this.book.endUpload(name);
          ended = true;
        },
      };
    });
  }

  /**
   * Bytes of a partial upload of `hash` declared `size` bytes long, as far as the store knows
   * (0 if none): for a `has` query, which must change nothing — no partial dropped, no state
   * kept. It waits for a write of that upload in progress (an upload just cut off may still be
   * writing its last chunk), so it answers what a resume would continue from.
   */
  async partialOffset(hash: string, size: number): Promise<number> {
    assertHash(hash);
    if (!Number.isSafeInteger(size) || size <= 0) return 0;
    return this.hashLock.run(hash, async () => this.book.partials.get(partialFileName(hash, size))?.length ?? 0);
  }

  /**
   * Appends `data` (one chunk, or a batch of consecutive ones) at `offset`, the upload's current
   * end; resolves once it is written (fsync'd in the background), with the bytes received so
   * far. The last byte completes the upload: every byte fsync'd, sha256 checked, then the blob
   * is moved into place.
   */
  async writeChunk(hash: string, size: number, offset: number, data: Uint8Array | ChunkBatch): Promise<{ received: number; complete: boolean }> {
    assertHash(hash);
    this.space.checkSize(hash, size);
    if (!Number.isSafeInteger(offset) || offset < 0) {
      throw new StoreError('BAD_RANGE', `offset ${offset} of blob ${hash} is not a whole number of bytes`, { hash });
    }
    const parts = chunkParts(data);
    if (!parts) throw new StoreError('BAD_CHUNK', `blob ${hash}: a chunk must be bytes`, { hash });
    return this.hashLock.run(hash, async () => {
      // A blob already present (another upload won the race) is complete; the chunk is redundant.
      if (await this.completeBlob(hash, size)) return { received: size, complete: true };
      const name = partialFileName(hash, size);
      const file = this.folders.partialPath(name);
      const state = await this.uploadState(hash, size);
      // Two hosts uploading the same blob at once (two CI jobs deploying one new model) write one
      // partial: bytes another upload stored already are skipped, and only what lies past them
      // is written. A blob is named by its content, so they are the same bytes, and the final
      // sha256 checks every one. A gap (a chunk past the stored end) is still refused.
      const stored = offset < state.length ? Math.min(state.length - offset, data.length) : 0;
      const at = offset + stored; // where this chunk's new bytes go
      const tail = stored > 0 ? dropFront(parts, stored) : parts;
      const tailBytes = data.length - stored;
      if (tailBytes > 0 ? at !== state.length : offset > state.length) {
        throw new StoreError('OFFSET_MISMATCH', `blob ${hash}: chunk at offset ${offset}, but the upload continues at ${state.length}`, { hash, expectedOffset: state.length }, { hint: `send from offset ${state.length}` });
      }
      if (offset + data.length > size) {
        throw new StoreError('CHUNK_PAST_END', `blob ${hash}: a chunk of ${data.length} bytes at offset ${offset} runs past its size of ${size} bytes`, { hash, size });
      }
      if (tailBytes > 0) {
        const release = await this.space.makeRoom(size - state.length, tailBytes, name);
        if (state.length > 0 && this.uploads.get(name) !== state) {
          // Evicted as idle while this chunk waited for room: its bytes are gone, and writing
          // at the old offset would leave zeros in front (a corrupt blob under a valid name).
          release();
          throw new StoreError('OFFSET_MISMATCH', `blob ${hash}: the partial upload was evicted while this chunk waited for room; the upload continues at 0`, { hash, expectedOffset: 0 }, { hint: 'send from offset 0' });
        }
        try {
          state.sync.check(); // a background fsync that failed fails the upload as a failed write does
          // Hash on this thread while libuv writes: the two overlap instead of adding up (on a
          // board both are slow).
          await this.folders.withFolders(() => writeAt(file, at, tail, (slice) => state.hasher.update(slice)));
          if (at === 0) await fsyncDir(this.folders.partialDir); // the partial's name survives a crash
          state.sync.written(tailBytes);
        } catch (err) {
          throw await this.writeFailure(err, name, hash, size, offset);
        } finally {
          release();
        }
        state.length += tailBytes;
        this.uploads.set(name, state);
        this.book.setPartial(name, { hash, size, length: state.length, lastWrite: this.book.tick(), activeAt: activeNow() });
      }
      if (state.length < size) return { received: state.length, complete: false };
      try {
        if (size > 0) await state.sync.flush(); // every byte on disk before the blob is renamed into place (an empty one has no file yet)
      } catch (err) {
        throw await this.writeFailure(err, name, hash, size, offset);
      }
      this.uploads.delete(name);
      const actualHash = state.hasher.digest('hex');
      if (actualHash !== hash) {
        await this.dropPartial(name);
        throw new StoreError('HASH_MISMATCH', `blob ${hash}: the ${size} received bytes hash to ${actualHash}; the upload was discarded`, { hash, actualHash, size }, { hint: 'send the file again from offset 0' });
      }
      await this.promote(hash, size, file, name);
      return { received: size, complete: true };
    });
  }

  /** The error to throw for a failed write or fsync of an upload's partial, after cleaning up. */
  private async writeFailure(err: unknown, name: string, hash: string, size: number, offset: number): Promise<Error> {
    this.uploads.delete(name); // what reached the disk is unknown: re-read it next time
    const errno = (err as NodeJS.ErrnoException).code;
    if (errno === 'ENOENT') this.book.deletePartial(name); // deleted behind our back
    if (errno === 'ENOSPC' || errno === 'EDQUOT') {
      // This upload cannot complete, and its partial keeps the disk full (an idle partial
      // is evicted only after an hour): every later upload would fail too. Only this
      // upload's partial goes; another host's upload keeps its bytes.
      await this.dropPartial(name).catch(() => undefined);
      return new StoreError('DISK_FULL', `blob ${hash}: the board's disk filled up after ${offset} of ${size} bytes; the partial upload was dropped`, { hash, size }, {
        hint: `free space on the board's disk holding ${this.dir} (at least ${size} bytes), then send it again`,
        cause: err,
      });
    }
    return this.folders.ioError(`blob ${hash}: cannot write the upload`, err);
  }

  /**
   * Up to `length` bytes at `offset` (fewer at the end). Into `into` when given (it must hold
   * `length` bytes): a download reads every chunk into one buffer instead of a fresh one each.
   */
  async read(hash: string, offset: number, length: number, into?: Uint8Array): Promise<Uint8Array> {
    assertHash(hash);
    if (!Number.isSafeInteger(offset) || offset < 0 || !Number.isSafeInteger(length) || length < 0 || length > MAX_READ_BYTES) {
      throw new StoreError('BAD_RANGE', `blob ${hash}: cannot read ${length} bytes at offset ${offset} (at most ${MAX_READ_BYTES} bytes per read)`, { hash });
    }
    const file = await this.pathOf(hash);
    let handle: fsp.FileHandle;
    try {
      handle = await fsp.open(file, 'r');
    } catch (err) {
      throw this.missingOr(hash, err);
    }
    try {
      const size = (await handle.stat()).size;
      if (offset > size) throw new StoreError('BAD_RANGE', `blob ${hash}: offset ${offset} is past its end (${size} bytes)`, { hash, size });
      const want = Math.min(length, size - offset);
      const buffer = into && into.length >= want ? into.subarray(0, want) : Buffer.allocUnsafe(want);
      let got = 0;
      while (got < buffer.length) {
        const { bytesRead } = await handle.read(buffer, got, buffer.length - got, offset + got);
        if (bytesRead === 0) break;
        got += bytesRead;
      }
      return buffer.subarray(0, got);
    } catch (err) {
      throw this.folders.ioError(`blob ${hash}: cannot read`, err);
    } finally {
      await handle.close();
    }
  }

  /**
   * Moves `file` (a run output) into the store; the file is gone afterwards. When `keep(size)`
   * says so, its bytes come back too, as read to hash it.
   */
  async ingestFile(file: string, opts: { keep?: (size: number) => boolean } = {}): Promise<BlobStat & { bytes?: Uint8Array }> {
    let stat: BlobStat & { bytes?: Uint8Array };
    try {
      stat = opts.keep ? await sha256FileKeeping(file, opts.keep) : await sha256File(file);
    } catch (err) {
      throw fileSystemError(file, err);
    }
    const { hash, size } = stat;
    return this.hashLock.run(hash, async () => {
      if (await this.has(hash)) {
        rmSync(file, { force: true });
        await this.touch(hash);
        return stat;
      }
      this.space.checkSize(hash, size);
      const release = await this.space.makeRoom(size, size);
      try {
        await syncFile(file); // run_joint does not fsync what it dumps
        await fsp.chmod(file, BLOB_MODE);
        await this.folders.moveIntoBlobs(file, hash, { acrossFilesystems: true });
      } catch (err) {
        throw this.folders.ioError(`cannot move ${file} into the store`, err);
      } finally {
        release();
      }
      this.book.setBlob(hash, { size, lastUsed: this.book.tick() });
      await this.touch(hash);
      return stat;
    });
  }

  async pathOf(hash: string): Promise<string> {
    return (await this.use(hash)).path;
  }

  /** A stored blob about to be used (by a run): its path and size; marked as used. BLOB_NOT_FOUND if it is not there. */
  async use(hash: string): Promise<{ path: string; size: number }> {
    const stat = await this.has(hash);
    if (!stat) {
      throw new StoreError('BLOB_NOT_FOUND', `blob ${hash} is not in the store`, { hash }, { hint: 'upload it first' });
    }
    await this.touch(hash);
    return { path: this.folders.blobPath(hash), size: stat.size };
  }

  pin(hashes: string[]): () => void {
    const valid = hashes.map((hash) => assertHash(hash));
    for (const hash of valid) this.book.pin(hash);
    let pinned = true;
    return () => {
      if (!pinned) return;
      pinned = false;
      for (const hash of valid) this.book.unpin(hash);
    };
  }

  async usage(): Promise<{ usedBytes: number; capBytes: number; freeBytes: number }> {
    return this.space.usage();
  }

  /** '' while the store can be written; else why not (StoreFolders.writeProblem). */
  async writeProblem(): Promise<string> {
    return this.folders.writeProblem();
  }

  async makeJobDir(): Promise<{ dir: string; remove(): Promise<void> }> {
    return this.folders.makeJobDir();
  }

  /** True if the blob is already stored; throws if it is stored with another size. */
  private async completeBlob(hash: string, size: number): Promise<boolean> {
    const stat = await this.has(hash);
    if (!stat) return false;
    if (stat.size !== size) {
      throw new StoreError('BAD_SIZE', `blob ${hash} is ${stat.size} bytes, not ${size}`, { hash, size: stat.size });
    }
    await this.touch(hash);
    return true;
  }

  /** The running hash of an upload; after a restart rebuilt by re-reading its partial. */
  private async uploadState(hash: string, size: number): Promise<UploadState> {
    const name = partialFileName(hash, size);
    const known = this.uploads.get(name);
    if (known) return known;
    // A partial of the same hash with another declared size: one of the two sizes is wrong,
    // and the latest request is the one being served.
    for (const [other, partial] of this.book.partials) {
      if (partial.hash === hash && other !== name) await this.dropPartial(other);
    }
    const file = this.folders.partialPath(name);
    let hasher = createHash('sha256');
    let length = 0;
    try {
      length = await hashFileInto(file, hasher);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw this.folders.ioError(`blob ${hash}: cannot read its partial upload`, err);
    }
    if (length > size) {
      await this.dropPartial(name);
      hasher = createHash('sha256');
      length = 0;
    }
    const record = this.book.partials.get(name);
    // An upload begun but not written yet (or whose file went behind our back) stays in the
    // book at length 0: it still expects all its bytes.
    if (length > 0 || record) this.book.setPartial(name, { hash, size, length, lastWrite: record?.lastWrite ?? this.book.tick(), activeAt: record?.activeAt ?? activeNow() });
    const state = { hasher, length, sync: new BackgroundSync(() => syncFile(file)) };
    // Kept only once there are bytes (writeChunk keeps a new one after its first write): an
    // upload asked about and never continued must not hold a hash object forever.
    if (length > 0) this.uploads.set(name, state);
    return state;
  }

  private async dropPartial(name: string): Promise<void> {
    await fsp.rm(this.folders.partialPath(name), { force: true });
    this.book.deletePartial(name);
    this.uploads.delete(name);
  }

  private async promote(hash: string, size: number, file: string, name: string): Promise<void> {
    try {
      if (size === 0) await fsp.writeFile(file, new Uint8Array(0)); // nothing was ever written
      await fsp.chmod(file, BLOB_MODE);
      await this.folders.moveIntoBlobs(file, hash);
    } catch (err) {
      throw this.folders.ioError(`blob ${hash}: cannot move the finished upload into place`, err);
    }
    this.book.deletePartial(name);
    this.book.setBlob(hash, { size, lastUsed: this.book.tick() });
    await this.touch(hash);
  }

  /**
   * A host asked for this blob because it is about to use it (Has before a run): it counts as
   * used now, so making room for the rest of that host's uploads evicts other blobs first.
   * Deliberately not part of has(), which the store's own bookkeeping also calls.
   */
  async markUsed(hash: string): Promise<void> {
    assertHash(hash);
    await this.touch(hash);
  }

  /** Marks a blob used now, in memory and in its mtime (best effort: a read-only mount still works). */
  private async touch(hash: string): Promise<void> {
    const record = this.book.blobs.get(hash);
    if (!record) return;
    record.lastUsed = this.book.tick();
    const seconds = record.lastUsed / 1000;
    try {
      utimesSync(this.folders.blobPath(hash), seconds, seconds); // in place, as has() stats
    } catch {
      // The order in memory holds; only an agent restarted later sees the old one.
    }
  }

  private missingOr(hash: string, err: unknown): StoreError {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      this.book.deleteBlob(hash);
      return new StoreError('BLOB_NOT_FOUND', `blob ${hash} is not in the store`, { hash }, { hint: 'upload it first' });
    }
    return this.folders.ioError(`blob ${hash}`, err);
  }
}
