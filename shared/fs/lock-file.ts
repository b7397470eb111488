/**
 * A lock file for a short read-modify-write of a shared file (two `axctl build` runs adding
 * their record to one .axctl/builds.json). The lock is a file created exclusively (O_EXCL),
 * holding the owner's pid and host; it is removed when the work is done. A lock whose owner
 * on this host is no longer running (axctl was killed while holding it) is taken over, so a
 * crash never blocks later runs. Waiting for a live owner ends after `timeoutMs` with
 * LockTimeoutError, which the caller turns into its own message.
 */
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export interface LockOptions {
  /** How long to wait for another owner to let go. */
  readonly timeoutMs: number;
  /** Pause between attempts (default 25 ms: the work under the lock takes milliseconds). */
  readonly retryMs?: number;
}

export class LockTimeoutError extends Error {
  constructor(readonly lockFile: string, readonly ownerPid: number | null, readonly waitedMs: number) {
    super(`${lockFile} is held${ownerPid !== null ? ` by process ${ownerPid}` : ''} and was not let go within ${waitedMs} ms`);
  }
}

interface Owner { pid: number; host: string }

async function readOwner(lockFile: string): Promise<Owner | null> {
  try {
    const [pid, host] = (await fsp.readFile(lockFile, 'utf8')).split('\n');
    return /^\d+$/.test(pid) ? { pid: Number(pid), host: host ?? '' } : null;
  } catch {
    return null; // gone meanwhile, or half written: try again
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

async function tryTake(lockFile: string): Promise<boolean> {
  try {
    const fh = await fsp.open(lockFile, 'wx');
    try {
      await fh.writeFile(`${process.pid}\n${os.hostname()}\n`);
    } finally {
      await fh.close();
    }
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
}

/** Runs `work` holding `lockFile`; its folder must exist. Throws LockTimeoutError, or the file system's error. */
export async function withLockFile<T>(lockFile: string, options: LockOptions, work: () => Promise<T>): Promise<T> {
  const started = Date.now();
  let owner: Owner | null = null;
  while (!(await tryTake(lockFile))) {
    owner = await readOwner(lockFile);
    // Only an owner on this host can be checked; a lock from another host sharing the folder is waited for.
    if (owner && owner.host === os.hostname() && !isRunning(owner.pid)) {
      await fsp.rm(lockFile, { force: true });
      continue;
    }
    const waited = Date.now() - started;
    if (waited >= options.timeoutMs) throw new LockTimeoutError(path.resolve(lockFile), owner?.pid ?? null, waited);
    await new Promise((r) => setTimeout(r, options.retryMs ?? 25));
  }
  try {
    return await work();
  } finally {
    await fsp.rm(lockFile, { force: true });
  }
}
