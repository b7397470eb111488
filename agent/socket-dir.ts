/**
 * Where a store's owner socket goes when it cannot go beside the store (store-owner.ts): a
 * folder of the agent's user in the temp folder, `$TMPDIR/axagent-<uid>/`.
 *
 * Not the shared temp folder itself: any local user can create a path there first, and a
 * socket of theirs answering at the store's socket path would pass for the store's owner, so
 * the agent would relay its hosts to them. In a folder that belongs to this user, is no
 * symbolic link and is closed to everyone else (0700), nobody else can create, replace or
 * remove anything (the sticky bit of /tmp keeps others from renaming the folder itself); the
 * agent refuses a folder that is not so rather than repairing it, since whatever it holds may
 * have been put there while it was open.
 */
import { promises as fsp, type Stats } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { UsageError } from '../shared/errors';

/** This process's user id (POSIX); undefined where there is none (Windows). */
function currentUid(): number | undefined {
  return process.getuid?.();
}

/** `$TMPDIR/axagent-<uid>`: the same folder for every agent process of this user. */
export function privateSocketDir(): string {
  return path.join(os.tmpdir(), `axagent-${currentUid() ?? os.userInfo().username}`);
}

/** Makes the folder (0700) or checks the one there: this user's, a real folder, closed to others. */
export async function ensurePrivateSocketDir(dir: string = privateSocketDir()): Promise<string> {
  try {
    await fsp.mkdir(dir, { mode: 0o700 });
    await fsp.chmod(dir, 0o700); // mkdir's mode passes through the umask
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  const problem = whyNotPrivate(await fsp.lstat(dir));
  if (problem) {
    throw new UsageError('SOCKET_DIR_NOT_PRIVATE', `${dir} ${problem}, so the store's socket cannot safely go there`, {
      hint: `another user may have made it to catch this agent's hosts: remove it, or keep the store at a shorter path on a filesystem that can hold a unix socket`,
    });
  }
  return dir;
}

function whyNotPrivate(stat: Stats): string | null {
  if (stat.isSymbolicLink()) return 'is a symbolic link';
  if (!stat.isDirectory()) return 'is not a folder';
  const uid = currentUid();
  if (uid !== undefined && stat.uid !== uid) return `belongs to user ${stat.uid}, not to this agent's user (${uid})`;
  if ((stat.mode & 0o077) !== 0) return `can be used by other users (mode ${(stat.mode & 0o777).toString(8)}, not 700)`;
  return null;
}
