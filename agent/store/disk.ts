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
  return (await filesystemSpace(dir))?.freeBytes ?? 0;
}

/**
 * Free and total bytes of the filesystem holding `dir` (free: for unprivileged users); null
 * when unknown (Node before 18.15, or statfs failed): callers then skip their disk check.
 */
export async function filesystemSpace(dir: string): Promise<{ freeBytes: number; totalBytes: number } | null> {
  const statfs = (fsp as { statfs?: (p: string) => Promise<{ bavail: number; blocks: number; bsize: number }> }).statfs;
  if (typeof statfs !== 'function') return null;
  try {
    const stats = await statfs(dir);
    return { freeBytes: stats.bavail * stats.bsize, totalBytes: stats.blocks * stats.bsize };
  } catch {
    return null;
  }
}

/** Bytes handed to writeAt's callback at a time, between turns of the event loop. */
const SLICE_BYTES = 1024 * 1024;

/**
 * Writes `parts`, back to back, at `offset` with writev (never joined in memory); on failure
 * cuts the file back to `offset`. No fsync: the upload's BackgroundSync does that off the
 * acknowledgement path. `eachSlice` gets the bytes in order, 1 MiB at most (never an empty
 * slice), while libuv's threads write, with a turn of the event loop between slices: the
 * caller's hashing overlaps the disk work instead of adding to it, and a large batch never
 * stalls the connections for more than a slice.
 */
export async function writeAt(file: string, offset: number, parts: readonly Uint8Array[], eachSlice: (slice: Uint8Array) => void): Promise<void> {
  // Only the first write creates the file: one that vanished meanwhile (evicted) must fail,
  // not come back as a sparse file with zeros where its first bytes were.
  const handle = await fsp.open(file, offset === 0 ? fsc.O_WRONLY | fsc.O_CREAT : fsc.O_WRONLY, 0o644);
  try {
    const written = writeAllAt(handle, parts, offset);
    written.catch(() => undefined); // awaited below; a failure must not count as unhandled meanwhile
    try {
      let first = true;
      for (const part of parts) {
        for (let at = 0; at < part.length; at += SLICE_BYTES) {
          if (!first) await new Promise<void>((resolve) => setImmediate(resolve));
          first = false;
          eachSlice(part.subarray(at, at + SLICE_BYTES));
        }
      }
    } finally {
      await written;
    }
  } catch (err) {
    await handle.truncate(offset).catch(() => undefined);
    throw err;
  } finally {
    await handle.close();
  }
}

async function writeAllAt(handle: fsp.FileHandle, parts: readonly Uint8Array[], offset: number): Promise<void> {
  let pending = parts.filter((part) => part.length > 0);
  let position = offset;
  while (pending.length > 0) {
    const { bytesWritten } = await handle.writev(pending, position);
    if (bytesWritten === 0) throw Object.assign(new Error(`a write at offset ${position} made no progress`), { code: 'EIO' });
    position += bytesWritten;
    // A short write (rare on regular files) continues where it stopped.
    let skip = bytesWritten;
    while (pending.length > 0 && skip >= pending[0]!.length) skip -= pending.shift()!.length;
    if (skip > 0) pending[0] = pending[0]!.subarray(skip);
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
