/**
 * A lock file for a short read-modify-write of a shared file (two `axctl build` runs adding
 * their record to one .axctl/builds.json; a farm's verifies adding to the user's caches). The
 * lock is a file created exclusively (O_EXCL), holding the owner's pid, host and a random token;
 * it is removed when the work is done, and only while it is still the owner's own.
 *
 * A lock is given up as stale when its owner on this host no longer runs, or when it is older
 * than `staleMs` whoever made it: the work under it takes milliseconds, so an old lock is one
 * whose owner was killed, died while writing it (an empty file), or runs on another host
 * sharing the folder (NFS, CI containers) and crashed. A stale lock is taken over by renaming
 * it aside, which only one process can do; what was renamed is checked to be the lock judged
 * stale, and put back if it was a live one made meanwhile. Waiting for a live owner ends after
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
  pid: number | null;
  host: string;
  mtimeMs: number;
}

async function look(lockFile: string): Promise<Seen | null> {
  try {
    const [text, stat] = await Promise.all([fsp.readFile(lockFile, 'utf8'), fsp.stat(lockFile)]);
    const [pid, host] = text.split('\n');
    return { text, pid: /^\d+$/.test(pid ?? '') ? Number(pid) : null, host: host ?? '', mtimeMs: stat.mtimeMs };
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
 * Moves a stale lock out of the way. Renaming is atomic: of two processes that both judged it
 * stale, one moves it. Should what was moved be another lock than the one judged (a live one
 * made between the look and the rename), it is linked back, which fails harmlessly if yet
 * another lock is there by then.
 */
async function takeOver(lockFile: string, stale: Seen): Promise<void> {
  const aside = `${lockFile}.stale-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    await fsp.rename(lockFile, aside);
  } catch {
    return; // moved or removed by another process: look again
  }
  const moved = await fsp.readFile(aside, 'utf8').catch(() => stale.text);
  if (moved !== stale.text) await fsp.link(aside, lockFile).catch(() => undefined);
  await fsp.rm(aside, { force: true });
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
  while (!(await tryTake(lockFile, text))) {
    owner = await look(lockFile);
    if (owner && isStale(owner, options.staleMs ?? DEFAULT_STALE_MS)) {
      await takeOver(lockFile, owner);
      continue;
    }
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
