/**
 * sha256 of local files, cached by absolute path and file version (size, mtime, ctime and inode:
 * shared/fs/file-version.ts), so re-deploying a large model that has not changed costs a stat
 * instead of a full read. The cache lives in the user's cache folder (XDG_CACHE_HOME or ~/.cache) and is rewritten
 * atomically.
 *
 * Racily clean (git's name for it): file times come from a coarse clock (a few ms per tick), so
 * a file hashed in the same tick as its last change could change again in that tick, same size,
 * and keep its whole version. An entry therefore records when its stat was taken, and one taken
 * within RACY_MS of the file's last change is not believed: the file is hashed once more, and
 * that entry, taken later, is.
 */
import * as os from 'node:os';
import * as path from 'node:path';
import { fileSystemError } from '../../shared/errors';
import { readJsonIfExists } from '../../shared/fs/atomic';
import { updateJsonFile } from '../../shared/fs/shared-json';
import { statRegularFile } from '../../shared/fs/regular-file';
import { fileVersion, sameFileVersion, type FileVersion } from '../../shared/fs/file-version';
import { sha256File } from '../../shared/fs/sha256-file';

interface Entry extends FileVersion {
  hash: string;
  /** Wall-clock time of the stat the entry was made from (absent in entries of older releases). */
  statAtMs?: number;
}

/** Longer than the file-time clock's tick (1–10 ms by the kernel's HZ) plus its lag behind Date.now(). */
const RACY_MS = 50;

function racilyClean(e: Entry): boolean {
  return e.statAtMs !== undefined && e.statAtMs - Math.max(e.mtimeMs, e.ctimeMs) < RACY_MS;
}

export interface FileDigest {
  path: string;
  size: number;
  hash: string;
}

export function defaultHashCacheFile(): string {
  const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(base, 'axctl', 'hashes.json');
}

export class HashCache {
  private entries: Record<string, Entry> | undefined;
  /** Entries this process hashed: what save() adds to the file as it is by then. */
  private added: Record<string, Entry> = {};

  constructor(private readonly cacheFile: string = defaultHashCacheFile()) {}

  /** Hash of `file`, from the cache when its size, mtime, ctime and inode are unchanged. */
  async digest(file: string): Promise<FileDigest> {
    const abs = path.resolve(file);
    const statAtMs = Date.now();
    const st = await statRegularFile(file);
    const entries = await this.load();
    const known = entries[abs];
    const key = fileVersion(st);
    if (known && sameFileVersion(known, key) && !racilyClean(known)) return { path: abs, size: st.size, hash: known.hash };
    let hash: string;
    try {
      hash = await sha256File(abs);
    } catch (err) {
      throw fileSystemError(file, err);
    }
    entries[abs] = this.added[abs] = { ...key, hash, statAtMs };
    return { path: abs, size: st.size, hash };
  }

  /**
   * Adds this process's new entries to the file as other processes left it (a farm verifies
   * several boards at once); a cache that cannot be written only costs speed, never fails a deploy.
   */
  async save(): Promise<void> {
    if (Object.keys(this.added).length === 0) return;
    try {
      await updateJsonFile(this.cacheFile, (current) => ({ ...validEntries(current), ...this.added }));
      this.added = {};
    } catch {
      // Read-only home or full disk: hashing again next time is the only cost.
    }
  }

  private async load(): Promise<Record<string, Entry>> {
    if (this.entries) return this.entries;
    let data: unknown;
    try {
      data = await readJsonIfExists(this.cacheFile, {});
    } catch {
      data = {}; // a corrupt cache is rebuilt, not an error
    }
    this.entries = validEntries(data);
    return this.entries;
  }
}

/**
 * The well-formed entries of what the cache file held. Anything else (null, an array, an entry
 * without a hash) is dropped: a damaged cache costs a rehash, never a failed deploy. So is an
 * entry written by an older axctl, keyed by size and mtime only: it may be stale.
 */
function validEntries(data: unknown): Record<string, Entry> {
  const entries: Record<string, Entry> = Object.create(null) as Record<string, Entry>;
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return entries;
  for (const [file, entry] of Object.entries(data as Record<string, unknown>)) {
    const e = entry as Partial<Entry> | null;
    if (isEntry(e)) entries[file] = { size: e.size, mtimeMs: e.mtimeMs, ctimeMs: e.ctimeMs, ino: e.ino, hash: e.hash, ...(typeof e.statAtMs === 'number' && { statAtMs: e.statAtMs }) };
  }
  return entries;
}

function isEntry(e: Partial<Entry> | null): e is Entry {
  const numbers = [e?.size, e?.mtimeMs, e?.ctimeMs, e?.ino];
  return numbers.every((n) => typeof n === 'number') && typeof e?.hash === 'string' && /^[0-9a-f]{64}$/.test(e.hash);
}
