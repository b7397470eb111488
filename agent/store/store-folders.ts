/**
 * The blob store's folders, the names of the files in them, and their self-repair: a store
 * folder deleted behind the agent's back is made again on the next write.
 *
 *   <dir>/blobs/<hash>               verified blobs only (read-only files)
 *   <dir>/partial/<hash>.<size>.part uploads in progress
 *   <dir>/jobs/job-XXXXXX/           one folder per run_joint run
 *   <dir>/tmp/                       copies on their way into blobs/
 */
import { constants as fsc, mkdtempSync, promises as fsp, readdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { errnoText } from '../../shared/errno-text';
import { fsyncDir, syncFile } from './disk';
import { StoreError, storeIoError } from './errors';
import { isHash } from './hashing';
import { activeAtWallTime, type SpaceBook } from './space-book';
import { makeFolder } from '../../shared/fs/atomic';

/**
 * The store holds models and their inputs, often a customer's confidential ones: its folders
 * are the agent's user's alone (run_joint runs as that user), and a blob can be read by that
 * user only and written by nobody (a blob is named by its content and must never change).
 */
export const STORE_FOLDER_MODE = 0o700;
export const BLOB_MODE = 0o400;

const PARTIAL_NAME = /^([0-9a-f]{64})\.(\d+)\.part$/;

/** The folder of run_joint's job folders in the store `dir` (also read before the store opens: leftover-runs.ts). */
export function jobsFolder(dir: string): string {
  return path.join(dir, 'jobs');
}

export function partialFileName(hash: string, size: number): string {
  return `${hash}.${size}.part`;
}

export class StoreFolders {
  private readonly blobsDir: string;
  readonly partialDir: string;
  private readonly jobsDir: string;
  private readonly tmpDir: string;

  constructor(readonly dir: string) {
    this.blobsDir = path.join(dir, 'blobs');
    this.partialDir = path.join(dir, 'partial');
    this.jobsDir = jobsFolder(dir);
    this.tmpDir = path.join(dir, 'tmp');
  }

  /** Makes the folders (at open) and clears what a crash left in jobs/ and tmp/. */
  async create(): Promise<void> {
    for (const folder of this.all()) {
      await makeFolder(folder, STORE_FOLDER_MODE);
    }
    // Job folders and temp copies left by a crash belong to nothing any more.
    for (const folder of [this.jobsDir, this.tmpDir]) {
      for (const name of await fsp.readdir(folder)) await fsp.rm(path.join(folder, name), { recursive: true, force: true });
    }
  }

  /** Rebuilds the ledger from the files (at open). */
  async scan(book: SpaceBook): Promise<void> {
    // In place: a stat per blob, before the agent serves anyone (an agent started per SSH
    // connection scans at every connection). One async stat after another cost ~60 us each
    // here and more on a board, against a few microseconds for the system call.
    for (const name of readdirSync(this.blobsDir)) {
      if (!isHash(name)) continue;
      const stat = statSync(path.join(this.blobsDir, name));
      if (stat.isFile()) book.setBlob(name, { size: stat.size, lastUsed: stat.mtimeMs });
    }
    for (const name of readdirSync(this.partialDir)) {
      const match = PARTIAL_NAME.exec(name);
      const file = path.join(this.partialDir, name);
      if (!match || !Number.isSafeInteger(Number(match[2]))) continue;
      if (book.blobs.has(match[1])) {
        rmSync(file, { force: true }); // finished before the crash: the blob is in place
        continue;
      }
      const stat = statSync(file);
      book.setPartial(name, { hash: match[1], size: Number(match[2]), length: stat.size, lastWrite: stat.mtimeMs, activeAt: activeAtWallTime(stat.mtimeMs) });
    }
  }

  blobPath(hash: string): string {
    return path.join(this.blobsDir, hash);
  }

  /** The file of the partial upload named `name` (partialFileName). */
  partialPath(name: string): string {
    return path.join(this.partialDir, name);
  }

  /** A StoreError whose hint names this store's folder. */
  ioError(what: string, err: unknown): StoreError {
    return storeIoError(what, err, this.dir);
  }

  /**
   * Runs `op`; if it fails with ENOENT because one of the store's own folders is gone (someone
   * deleted the store, or cleaned it by hand), makes the folders again and runs it once more:
   * the agent recovers without a restart. A missing file (a partial that vanished) stays an
   * error: the retry fails the same way.
   */
  async withFolders<T>(op: () => Promise<T>): Promise<T> {
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
    for (const folder of this.all()) {
      const exists = await fsp.stat(folder).then(() => true, () => false);
      if (exists) continue;
      await makeFolder(folder, STORE_FOLDER_MODE).catch(() => undefined); // the retry says why
      restored = true;
    }
    return restored;
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
      // In place (a job folder per run, made while the host waits): no thread-pool round trip.
      dir = await this.withFolders(async () => mkdtempSync(path.join(this.jobsDir, 'job-')));
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

  /**
   * Renames `file` into blobs/ as `hash` and makes that durable. With `acrossFilesystems`, a
   * file on another filesystem (a run output) is copied in instead.
   */
  async moveIntoBlobs(file: string, hash: string, opts: { acrossFilesystems?: boolean } = {}): Promise<void> {
    await this.withFolders(() => fsp.rename(file, this.blobPath(hash))).catch(async (err: NodeJS.ErrnoException) => {
      if (!opts.acrossFilesystems || err.code !== 'EXDEV') throw err;
      await this.copyIn(file, hash);
    });
    await fsyncDir(this.blobsDir);
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

  /** The store folder and its subfolders, parents first. */
  private all(): string[] {
    return [this.dir, this.blobsDir, this.partialDir, this.jobsDir, this.tmpDir];
  }
}
