/**
 * The board's content-addressed blob store: models, inputs and run outputs, each named by its
 * sha256. Layout, resume and eviction rules are documented in docs/parts/agent-core.md.
 *
 *   <dir>/blobs/<hash>               verified blobs only (read-only files)
 *   <dir>/partial/<hash>.<size>.part uploads in progress
 *   <dir>/jobs/job-XXXXXX/           one folder per run_joint run
 *   <dir>/tmp/                       copies on their way into blobs/
 *
 * Uploads: every chunk (or batch of chunks, written with one writev) is written at the
 * partial's end and fsync'd before it counts as received, and a running sha256 follows the
 * chunks, computed while the write and fsync are in flight. Hash state cannot survive an agent
 * restart, so the first touch of a partial after a restart re-reads it to rebuild the hash;
 * the upload then continues from the partial's length, no byte is sent twice. The partial is
 * renamed into blobs/ only when its sha256 matches its name.
 *
 * Last use is kept in memory and in each blob file's mtime, so the least-recently-used order
 * survives restarts without an index file to keep consistent.
 */
import { createHash, type Hash } from 'node:crypto';
import { constants as fsc, promises as fsp } from 'node:fs';
import path from 'node:path';
import { errnoText } from '../../shared/errno-text';
import { fileSystemError } from '../../shared/errors';
import { filesystemFreeBytes, filesystemSpace, fsyncDir, syncFile, writeDurably } from './disk';
import { chunkParts, type ChunkBatch } from './chunk-batch';
import { StoreError, storeIoError } from './errors';
import { assertHash, hashFileInto, isHash, sha256File } from './hashing';
import { KeyedLock } from './keyed-lock';
import { SpaceBook, type Victim } from './space-book';

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
const DEFAULT_CAP_SHARE = 0.8;
const DEFAULT_PARTIAL_IDLE_MS = 60 * 60 * 1000;
const PARTIAL_NAME = /^([0-9a-f]{64})\.(\d+)\.part$/;
const SPACE = 'space';

interface UploadState {
  hasher: Hash;
  length: number;
}

export class BlobStore {
  readonly dir: string;
  private readonly blobsDir: string;
  private readonly partialDir: string;
  private readonly jobsDir: string;
  private readonly tmpDir: string;
  private readonly book = new SpaceBook();
  /** Running hashes of uploads this process has touched, keyed by partial file name. */
  private readonly uploads = new Map<string, UploadState>();
  private readonly hashLock = new KeyedLock();
  private readonly spaceLock = new KeyedLock();
  private capBytes = 0;
  /** Size of the filesystem holding the store, when known (for STORE_FULL's hint). */
  private diskBytes: number | null = null;

  private constructor(dir: string, private readonly partialIdleMs: number) {
    this.dir = dir;
    this.blobsDir = path.join(dir, 'blobs');
    this.partialDir = path.join(dir, 'partial');
    this.jobsDir = path.join(dir, 'jobs');
    this.tmpDir = path.join(dir, 'tmp');
  }

  static async open(dir: string, opts: BlobStoreOptions = {}): Promise<BlobStore> {
    if (opts.capBytes !== undefined && !(Number.isSafeInteger(opts.capBytes) && opts.capBytes > 0)) {
      throw new StoreError('BAD_CAP', `store cap must be a positive whole number of bytes, got ${opts.capBytes}`);
    }
    const store = new BlobStore(path.resolve(dir), opts.partialIdleMs ?? DEFAULT_PARTIAL_IDLE_MS);
    try {
      for (const folder of [store.dir, store.blobsDir, store.partialDir, store.jobsDir, store.tmpDir]) {
        await fsp.mkdir(folder, { recursive: true });
      }
      // Job folders and temp copies left by a crash belong to nothing any more.
      for (const folder of [store.jobsDir, store.tmpDir]) {
        for (const name of await fsp.readdir(folder)) await fsp.rm(path.join(folder, name), { recursive: true, force: true });
      }
      await store.scan();
    } catch (err) {
      throw storeIoError(`cannot open the blob store at ${store.dir}`, err, store.dir);
    }
    const space = await filesystemSpace(store.dir);
    store.capBytes = opts.capBytes ?? Math.floor((store.book.storedBytes() + (space?.freeBytes ?? 0)) * DEFAULT_CAP_SHARE);
    store.diskBytes = space?.totalBytes ?? null;
    return store;
  }

  async has(hash: string): Promise<BlobStat | null> {
    assertHash(hash);
    if (!this.book.blobs.has(hash)) return null;
    try {
      const stat = await fsp.stat(this.blobPath(hash));
      return { hash, size: stat.size };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw this.ioError(`blob ${hash}`, err);
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
   * other uploads' disk checks (makeDiskRoom) until `end()` — call it however the upload ended
   * (done, failed, cut off; more than once is harmless), or the bytes of an upload given up
   * stay promised until it has been idle for the partial idle time.
   */
  async beginUpload(hash: string, size: number): Promise<{ offset: number; complete: boolean; end: () => void }> {
    assertHash(hash);
    this.checkSize(hash, size);
    return this.hashLock.run(hash, async () => {
      if (await this.completeBlob(hash, size)) return { offset: size, complete: true, end: () => undefined };
      const state = await this.uploadState(hash, size);
      const name = partialFileName(hash, size);
      await this.makeDiskRoom(hash, size, state.length, name);
      let ended = false;
      return {
        offset: state.length,
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
   * end; resolves once it is on disk (fsync'd), with the bytes received so far. The last byte
   * completes the upload: sha256 checked, then the blob is moved into place.
   */
  async writeChunk(hash: string, size: number, offset: number, data: Uint8Array | ChunkBatch): Promise<{ received: number; complete: boolean }> {
    assertHash(hash);
    this.checkSize(hash, size);
    if (!Number.isSafeInteger(offset) || offset < 0) {
      throw new StoreError('BAD_RANGE', `offset ${offset} of blob ${hash} is not a whole number of bytes`, { hash });
    }
    const parts = chunkParts(data);
    if (!parts) throw new StoreError('BAD_CHUNK', `blob ${hash}: a chunk must be bytes`, { hash });
    return this.hashLock.run(hash, async () => {
      // A blob already present (another upload won the race) is complete; the chunk is redundant.
      if (await this.completeBlob(hash, size)) return { received: size, complete: true };
      const name = partialFileName(hash, size);
      const file = path.join(this.partialDir, name);
      const state = await this.uploadState(hash, size);
      if (offset !== state.length) {
        throw new StoreError('OFFSET_MISMATCH', `blob ${hash}: chunk at offset ${offset}, but the upload continues at ${state.length}`, { hash, expectedOffset: state.length }, { hint: `send from offset ${state.length}` });
      }
      if (offset + data.length > size) {
        throw new StoreError('CHUNK_PAST_END', `blob ${hash}: a chunk of ${data.length} bytes at offset ${offset} runs past its size of ${size} bytes`, { hash, size });
      }
      if (data.length > 0) {
        const release = await this.makeRoom(size - state.length, data.length, name);
        if (state.length > 0 && this.uploads.get(name) !== state) {
          // Evicted as idle while this chunk waited for room: its bytes are gone, and writing
          // at the old offset would leave zeros in front (a corrupt blob under a valid name).
          release();
          throw new StoreError('OFFSET_MISMATCH', `blob ${hash}: the partial upload was evicted while this chunk waited for room; the upload continues at 0`, { hash, expectedOffset: 0 }, { hint: 'send from offset 0' });
        }
        try {
          // Hash on this thread while libuv writes and fsyncs: the two overlap instead of
          // adding up (on a board both are slow).
          await this.withFolders(() => writeDurably(file, offset, parts, (slice) => state.hasher.update(slice)));
          if (offset === 0) await fsyncDir(this.partialDir); // the partial's name survives a crash
        } catch (err) {
          this.uploads.delete(name); // what reached the disk is unknown: re-read it next time
          const errno = (err as NodeJS.ErrnoException).code;
          if (errno === 'ENOENT') this.book.deletePartial(name); // deleted behind our back
          if (errno === 'ENOSPC' || errno === 'EDQUOT') {
            // This upload cannot complete, and its partial keeps the disk full (an idle partial
            // is evicted only after an hour): every later upload would fail too. Only this
            // upload's partial goes; another host's upload keeps its bytes.
            await this.dropPartial(name).catch(() => undefined);
            throw new StoreError('DISK_FULL', `blob ${hash}: the board's disk filled up after ${offset} of ${size} bytes; the partial upload was dropped`, { hash, size }, {
              hint: `free space on the board's disk holding ${this.dir} (at least ${size} bytes), then send it again`,
              cause: err,
            });
          }
          throw this.ioError(`blob ${hash}: cannot write the upload`, err);
        } finally {
          release();
        }
        state.length += data.length;
        this.uploads.set(name, state);
        this.book.setPartial(name, { hash, size, length: state.length, lastWrite: this.book.tick() });
      }
      if (state.length < size) return { received: state.length, complete: false };
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
      throw this.ioError(`blob ${hash}: cannot read`, err);
    } finally {
      await handle.close();
    }
  }

  /** Moves `file` (a run output) into the store; the file is gone afterwards. */
  async ingestFile(file: string): Promise<BlobStat> {
    let stat: BlobStat;
    try {
      stat = await sha256File(file);
    } catch (err) {
      throw fileSystemError(file, err);
    }
    const { hash, size } = stat;
    return this.hashLock.run(hash, async () => {
      if (await this.has(hash)) {
        await fsp.rm(file, { force: true });
        await this.touch(hash);
        return stat;
      }
      this.checkSize(hash, size);
      const release = await this.makeRoom(size, size);
      try {
        await syncFile(file); // run_joint does not fsync what it dumps
        await fsp.chmod(file, 0o444);
        await this.withFolders(() => fsp.rename(file, this.blobPath(hash))).catch(async (err: NodeJS.ErrnoException) => {
          if (err.code !== 'EXDEV') throw err;
          await this.copyIn(file, hash);
        });
        await fsyncDir(this.blobsDir);
      } catch (err) {
        throw this.ioError(`cannot move ${file} into the store`, err);
      } finally {
        release();
      }
      this.book.setBlob(hash, { size, lastUsed: this.book.tick() });
      await this.touch(hash);
      return stat;
    });
  }

  async pathOf(hash: string): Promise<string> {
    if (!(await this.has(hash))) {
      throw new StoreError('BLOB_NOT_FOUND', `blob ${hash} is not in the store`, { hash }, { hint: 'upload it first' });
    }
    await this.touch(hash);
    return this.blobPath(hash);
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
    return { usedBytes: this.book.storedBytes(), capBytes: this.capBytes, freeBytes: await filesystemFreeBytes(this.dir) };
  }

  /**
   * '' while the store can be written; else why not, for BoardFacts (a farm's `axctl boards`
   * should not call a board healthy when every upload and run on it would fail). A store
   * folder deleted behind the agent's back is not a problem: its folders are made again on
   * the next write.
   */
  async writeProblem(): Promise<string> {
    try {
      await fsp.access(this.dir, fsc.W_OK);
      return '';
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return '';
      return `the store folder ${this.dir} cannot be written (${errnoText(err) ?? code ?? 'unknown error'})`;
    }
  }

  async makeJobDir(): Promise<{ dir: string; remove(): Promise<void> }> {
    let dir: string;
    try {
      dir = await this.withFolders(() => fsp.mkdtemp(path.join(this.jobsDir, 'job-')));
    } catch (err) {
      throw this.ioError('cannot create a job folder', err);
    }
    let removed = false;
    return {
      dir,
      async remove() {
        if (removed) return;
        removed = true;
        await fsp.rm(dir, { recursive: true, force: true });
      },
    };
  }

  /** A StoreError whose hint names this store's folder. */
  private ioError(what: string, err: unknown): StoreError {
    return storeIoError(what, err, this.dir);
  }

  /**
   * Runs `op`; if it fails with ENOENT because one of the store's own folders is gone (someone
   * deleted the store, or cleaned it by hand), makes the folders again and runs it once more:
   * the agent recovers without a restart. A missing file (a partial that vanished) stays an
   * error: the retry fails the same way.
   */
  private async withFolders<T>(op: () => Promise<T>): Promise<T> {
    try {
      return await op();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || !(await this.restoreFolders())) throw err;
      return op();
    }
  }

  /** Makes missing store folders again; true if any was missing. */
  private async restoreFolders(): Promise<boolean> {
    let restored = false;
    for (const folder of [this.dir, this.blobsDir, this.partialDir, this.jobsDir, this.tmpDir]) {
      const exists = await fsp.stat(folder).then(() => true, () => false);
      if (exists) continue;
      await fsp.mkdir(folder, { recursive: true }).catch(() => undefined); // the retry says why
      restored = true;
    }
    return restored;
  }

  private blobPath(hash: string): string {
    return path.join(this.blobsDir, hash);
  }

  /** Rebuilds the ledger from the files (at open). */
  private async scan(): Promise<void> {
    for (const name of await fsp.readdir(this.blobsDir)) {
      if (!isHash(name)) continue;
      const stat = await fsp.stat(path.join(this.blobsDir, name));
      if (stat.isFile()) this.book.setBlob(name, { size: stat.size, lastUsed: stat.mtimeMs });
    }
    for (const name of await fsp.readdir(this.partialDir)) {
      const match = PARTIAL_NAME.exec(name);
      const file = path.join(this.partialDir, name);
      if (!match || !Number.isSafeInteger(Number(match[2]))) continue;
      if (this.book.blobs.has(match[1])) {
        await fsp.rm(file, { force: true }); // finished before the crash: the blob is in place
        continue;
      }
      const stat = await fsp.stat(file);
      this.book.setPartial(name, { hash: match[1], size: Number(match[2]), length: stat.size, lastWrite: stat.mtimeMs });
    }
  }

  private checkSize(hash: string, size: number): void {
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
    const file = path.join(this.partialDir, name);
    let hasher = createHash('sha256');
    let length = 0;
    try {
      length = await hashFileInto(file, hasher);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw this.ioError(`blob ${hash}: cannot read its partial upload`, err);
    }
    if (length > size) {
      await this.dropPartial(name);
      hasher = createHash('sha256');
      length = 0;
    }
    const record = this.book.partials.get(name);
    // An upload begun but not written yet (or whose file went behind our back) stays in the
    // book at length 0: it still expects all its bytes.
    if (length > 0 || record) this.book.setPartial(name, { hash, size, length, lastWrite: record?.lastWrite ?? this.book.tick() });
    const state = { hasher, length };
    // Kept only once there are bytes (writeChunk keeps a new one after its first write): an
    // upload asked about and never continued must not hold a hash object forever.
    if (length > 0) this.uploads.set(name, state);
    return state;
  }

  /**
   * Makes sure `wantBytes` more can be stored, evicting least-recently-used blobs (and idle
   * partials) if needed, and reserves `reserveBytes` of it until the returned release is called.
   */
  private makeRoom(wantBytes: number, reserveBytes: number, keepPartial?: string): Promise<() => void> {
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
   * Before an upload starts (or resumes): its bytes still to come must fit on the filesystem,
   * after evicting what may be evicted (the cap alone does not ensure it: the cap may be larger
   * than the disk, or other files fill it). Evicts what is needed; refuses at once with
   * DISK_FULL when even that would not do, instead of failing at a full disk later.
   *
   * Free space here is what is free less what is promised: bytes reserved for writes in flight
   * and the rest of every *other* upload in progress (SpaceBook.outstandingBytes). Without the
   * latter, two uploads begun together would each pass on the same free space. The upload is
   * then recorded as begun, in the same hold of the space lock, so that the next check counts
   * it. (A chunk being written counts twice until it lands — reserved and still expected — so
   * a check at that moment errs towards refusing, by one write batch at most.)
   */
  private makeDiskRoom(hash: string, size: number, length: number, name: string): Promise<void> {
    return this.spaceLock.run(SPACE, async () => {
      const wantBytes = size - length;
      const space = wantBytes > 0 ? await filesystemSpace(this.dir) : null; // null: unknown, the writes will tell
      if (space) {
        const unreserved = Math.max(0, space.freeBytes - this.book.reservedBytes);
        const others = this.book.outstandingBytes(this.partialIdleMs, name);
        const free = unreserved - others.bytes; // below 0 if others took more than the disk has
        if (wantBytes > free) {
          await this.evictOrRefuse(wantBytes - free, name, (unevictableBytes) => {
            const evictable = this.book.storedBytes() - unevictableBytes;
            const promised = others.bytes > 0 ? `, ${others.bytes} of them promised to ${others.uploads} other upload${others.uploads === 1 ? '' : 's'} in progress` : '';
            return new StoreError('DISK_FULL', `blob ${hash}: ${wantBytes} more bytes do not fit on the board's disk: ${unreserved} bytes free${promised}, and the store could free only ${evictable} more`, { hash, size: wantBytes }, {
              hint: `free at least ${wantBytes - free - evictable} bytes on the board's disk holding ${this.dir}, or give the agent a --store on a larger disk`,
            });
          });
        }
      }
      this.book.setPartial(name, { hash, size, length, lastWrite: this.book.tick() });
      this.book.beginUpload(name);
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
    await fsp.rm(this.blobPath(victim.key), { force: true }).catch((err) => {
      throw this.ioError(`cannot evict blob ${victim.key}`, err);
    });
    this.book.deleteBlob(victim.key);
  }

  private async dropPartial(name: string): Promise<void> {
    await fsp.rm(path.join(this.partialDir, name), { force: true });
    this.book.deletePartial(name);
    this.uploads.delete(name);
  }

  private async promote(hash: string, size: number, file: string, name: string): Promise<void> {
    try {
      if (size === 0) await fsp.writeFile(file, new Uint8Array(0)); // nothing was ever written
      await fsp.chmod(file, 0o444);
      await this.withFolders(() => fsp.rename(file, this.blobPath(hash)));
      await fsyncDir(this.blobsDir);
    } catch (err) {
      throw this.ioError(`blob ${hash}: cannot move the finished upload into place`, err);
    }
    this.book.deletePartial(name);
    this.book.setBlob(hash, { size, lastUsed: this.book.tick() });
    await this.touch(hash);
  }

  /** Across filesystems a rename is impossible: copy into tmp/ (same filesystem), then rename. */
  private async copyIn(file: string, hash: string): Promise<void> {
    const temp = path.join(this.tmpDir, `${hash}.${process.pid}.copy`);
    try {
      await this.withFolders(() => fsp.copyFile(file, temp));
      await syncFile(temp);
      await fsp.rename(temp, this.blobPath(hash));
      await fsp.rm(file, { force: true });
    } finally {
      await fsp.rm(temp, { force: true });
    }
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
    await fsp.utimes(this.blobPath(hash), seconds, seconds).catch(() => undefined);
  }

  private missingOr(hash: string, err: unknown): StoreError {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      this.book.deleteBlob(hash);
      return new StoreError('BLOB_NOT_FOUND', `blob ${hash} is not in the store`, { hash }, { hint: 'upload it first' });
    }
    return this.ioError(`blob ${hash}`, err);
  }
}

function partialFileName(hash: string, size: number): string {
  return `${hash}.${size}.part`;
}
