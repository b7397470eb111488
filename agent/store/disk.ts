/** Small filesystem helpers the store needs for durability and free-space figures. */
import { randomBytes } from 'node:crypto';
import { constants as fsc, promises as fsp } from 'node:fs';
import path from 'node:path';

/**
 * Makes a rename or create inside `dir` durable. Some filesystems refuse fsync on a folder
 * (EINVAL/EISDIR/EPERM); there the rename is as durable as the filesystem makes it anyway.
 */
export async function fsyncDir(dir: string): Promise<void> {
  let handle: fsp.FileHandle | undefined;
  try {
    handle = await fsp.open(dir, 'r');
    await handle.sync();
  } catch (err) {
    const errno = (err as NodeJS.ErrnoException).code;
    if (errno !== 'EINVAL' && errno !== 'EISDIR' && errno !== 'EPERM' && errno !== 'EBADF') throw err;
  } finally {
    await handle?.close();
  }
}

/** Writes `text` to `file` through a temporary sibling and a rename: never half a file. */
export async function writeFileAtomic(file: string, text: string): Promise<void> {
  const temp = path.join(path.dirname(file), `.${path.basename(file)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    const handle = await fsp.open(temp, 'w');
    try {
      await handle.writeFile(text, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fsp.rename(temp, file);
  } catch (err) {
    await fsp.rm(temp, { force: true });
    throw err;
  }
  await fsyncDir(path.dirname(file));
}

/**
 * Free bytes on the filesystem holding `dir` (for unprivileged users). fs.statfs exists from
 * Node 18.15; on an older Node the answer is 0 ("unknown") rather than asking `df`: the agent
 * executes nothing but the configured run_joint.
 */
export async function filesystemFreeBytes(dir: string): Promise<number> {
  const statfs = (fsp as { statfs?: (p: string) => Promise<{ bavail: number; bsize: number }> }).statfs;
  if (typeof statfs !== 'function') return 0;
  try {
    const stats = await statfs(dir);
    return stats.bavail * stats.bsize;
  } catch {
    return 0;
  }
}

/**
 * Writes `data` at `offset` and fsyncs, calling `whileSyncing` once the fsync is under way; on
 * failure cuts the file back to `offset`.
 */
export async function writeDurably(file: string, offset: number, data: Uint8Array, whileSyncing: () => void): Promise<void> {
  const handle = await fsp.open(file, fsc.O_WRONLY | fsc.O_CREAT, 0o644);
  try {
    let written = 0;
    while (written < data.length) {
      const { bytesWritten } = await handle.write(data, written, data.length - written, offset + written);
      written += bytesWritten;
    }
    const synced = handle.sync();
    whileSyncing();
    await synced;
  } catch (err) {
    await handle.truncate(offset).catch(() => undefined);
    throw err;
  } finally {
    await handle.close();
  }
}

/** fsync of a file someone else wrote (run_joint does not fsync its dumps). */
export async function syncFile(file: string): Promise<void> {
  const handle = await fsp.open(file, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
