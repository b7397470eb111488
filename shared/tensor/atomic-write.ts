/**
 * Writes a file all-or-nothing: into a temp file in the same folder (so the rename cannot
 * cross file systems), flushed to disk, then renamed over the target. On any failure the
 * temp file is removed and the target is left as it was.
 */
import { randomBytes } from 'node:crypto';
import { open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { BadFileError, fileSystemError, isAxError } from '../errors';

/** Node writes at most 2 GiB per call; stay well under it. */
const MAX_WRITE_BYTES = 1024 * 1024 * 1024;

export type WriteBytes = (bytes: Uint8Array) => Promise<void>;

async function writeFully(fh: FileHandle, bytes: Uint8Array): Promise<void> {
  let done = 0;
  while (done < bytes.length) {
    const { bytesWritten } = await fh.write(bytes, done, Math.min(bytes.length - done, MAX_WRITE_BYTES));
    done += bytesWritten;
  }
}

/**
 * Calls `produce` with a function that appends bytes, then publishes the file. Errno errors
 * become BadFileErrors naming `file` (not the temp); AxErrors from `produce` pass through.
 */
export async function writeFileAtomic(file: string, produce: (write: WriteBytes) => Promise<void>): Promise<void> {
  const temp = join(dirname(file), `.${basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  let fh: FileHandle | undefined;
  try {
    fh = await open(temp, 'wx');
    const handle = fh;
    await produce((bytes) => writeFully(handle, bytes));
    await fh.sync();
    await fh.close();
    fh = undefined;
    await rename(temp, file);
  } catch (err) {
    if (fh) await fh.close().catch(() => undefined);
    await unlink(temp).catch(() => undefined);
    throw writeError(file, err);
  }
}

/** Errno errors name the target; the ones fileSystemError words as read errors get our own. */
function writeError(file: string, err: unknown): unknown {
  if (isAxError(err)) return err;
  const errno = (err as NodeJS.ErrnoException | undefined)?.code;
  if (typeof errno !== 'string') return err;
  if (['ENOENT', 'EACCES', 'EPERM', 'EISDIR', 'ENOTDIR'].includes(errno)) return fileSystemError(file, err);
  return new BadFileError('TENSOR_WRITE_FAILED', file, `cannot be written (${(err as Error).message})`, {
    hint: 'check free space and permissions of its folder',
    cause: err,
  });
}
