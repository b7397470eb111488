/**
 * A lock file for a short read-modify-write of a shared file (two `axctl build` runs adding
 * their record to one .axctl/builds.json; a farm's verifies adding to the user's caches). The
 * lock is a file created exclusively (O_EXCL), holding the owner's pid, host and a random token;
 * it is removed when the work is done, and only while it is still the owner's own.
 *
 * A lock is given up as stale when its owner on this host no longer runs, or when it is older
 * than `staleMs` whoever made it: the work under it takes milliseconds, so an old lock is one
 * whose owner was killed, died while writing it (an empty file), or runs on another host
 * sharing the folder (NFS, CI containers) and crashed. A stale lock is removed by one process
 * at a time, under a second lock, once it has checked the lock is still the one judged stale
 * (takeOver). Waiting for a live owner ends after
 * `timeoutMs` with LockTimeoutError, which the caller turns into its own message.
 */
import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export interface LockOptions {
  /** How long to wait for another owner to let go. */
  readonly timeoutMs: number;
  /** Pause between attempts (default 25 ms: the work under the lock takes milliseconds). */
  readonly retryMs?: number;
  /** A lock older than this is stale whoever holds it (default 30 s). */
  readonly staleMs?: number;
}

const DEFAULT_STALE_MS = 30_000;

export class LockTimeoutError extends Error {
  constructor(readonly lockFile: string, readonly ownerPid: number | null, readonly waitedMs: number) {
    super(`${lockFile} is held${ownerPid !== null ? ` by process ${ownerPid}` : ''} and was not let go within ${waitedMs} ms`);
  }
}

interface Seen {
  /** The file's text: pid, host and token lines (possibly empty: its owner died writing it). */
  text: string;
  /** Tells this lock from a new one with the same (say, empty) text. */
  ino: number;
  pid: number | null;
  host: string;
  mtimeMs: number;
}

async function look(lockFile: string): Promise<Seen | null> {
  try {
    const [text, stat] = await Promise.all([fsp.readFile(lockFile, 'utf8'), fsp.stat(lockFile)]);
    const [pid, host] = text.split('\n');
    return { text, ino: stat.ino, pid: /^\d+$/.test(pid ?? '') ? Number(pid) : null, host: host ?? '', mtimeMs: stat.mtimeMs };
  } catch {
    return null; // gone meanwhile: try again
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'; // alive, someone else's
  }
}

function isStale(seen: Seen, staleMs: number): boolean {
  if (Date.now() - seen.mtimeMs > staleMs) return true;
  return seen.pid !== null && seen.host === os.hostname() && !isRunning(seen.pid);
}

/** Creates the lock holding `text`; false when it exists. A lock whose text could not be written is removed. */
async function tryTake(lockFile: string, text: string): Promise<boolean> {
  let fh: fsp.FileHandle;
  try {
    fh = await fsp.open(lockFile, 'wx');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
  try {
    await fh.writeFile(text);
  } catch (err) {
    await fh.close().catch(() => undefined);
    await fsp.rm(lockFile, { force: true }); // an empty lock would hold everyone up until stale
    throw err;
  } finally {
    await fh.close().catch(() => undefined);
  }
  return true;
}

/**
 * Removes a stale lock, holding `<lock>.takeover` (created exclusively) while it does, so that
 * of the processes that judged it stale one removes it, and only after checking, under that
 * guard, that the lock is still the very file judged stale (same inode and text): a live lock
 * made meanwhile is never removed. A guard left by a takeover that died is itself stale by age.
 * Throws the file system's error when the lock cannot be removed (a folder it may not write).
 */
async function takeOver(lockFile: string, stale: Seen, staleMs: number): Promise<void> {
  const guard = `${lockFile}.takeover`;
  const text = `${process.pid}\n${os.hostname()}\n${randomBytes(8).toString('hex')}\n`;
  if (!(await tryTake(guard, text))) {
    const other = await look(guard);
    if (other && Date.now() - other.mtimeMs > staleMs) await fsp.rm(guard, { force: true });
    return; // another takeover is under way: look again
  }
  try {
    const now = await look(lockFile);
    // The inode alone is not enough: a file removed and made again may get the same number.
    if (!now || now.ino !== stale.ino || now.mtimeMs !== stale.mtimeMs || now.text !== stale.text) return; // gone, or another lock now
    await fsp.unlink(lockFile).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    });
  } finally {
    await release(guard, text);
  }
}

/** Removes the lock if it is still ours (a lock taken over as stale meanwhile is another's now). */
async function release(lockFile: string, text: string): Promise<void> {
  const now = await fsp.readFile(lockFile, 'utf8').catch(() => null);
  if (now === text) await fsp.rm(lockFile, { force: true });
}

/** Runs `work` holding `lockFile`; its folder must exist. Throws LockTimeoutError, or the file system's error. */
export async function withLockFile<T>(lockFile: string, options: LockOptions, work: () => Promise<T>): Promise<T> {
  const started = Date.now();
  const text = `${process.pid}\n${os.hostname()}\n${randomBytes(8).toString('hex')}\n`;
  let owner: Seen | null = null;
  const staleMs = options.staleMs ?? DEFAULT_STALE_MS;
  while (!(await tryTake(lockFile, text))) {
    owner = await look(lockFile);
    if (owner && isStale(owner, staleMs)) await takeOver(lockFile, owner, staleMs);
    const waited = Date.now() - started;
    if (waited >= options.timeoutMs) throw new LockTimeoutError(path.resolve(lockFile), owner?.pid ?? null, waited);
    await new Promise((r) => setTimeout(r, options.retryMs ?? 25));
  }
  try {
    return await work();
  } finally {
    await release(lockFile, text);
  }
}
