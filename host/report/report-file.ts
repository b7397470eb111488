/**
 * Writing a report file where the user said, as a shell redirection would: a regular file
 * whole or not at all (temp file + rename, through symbolic links), a device, pipe or
 * /dev/stdout straight. A write that fails is an error naming the file. It never changes what
 * the run found: the caller prints the verdict first and exits 2 only because the requested
 * file is missing.
 */
import { ERRNO_TEXT } from '../../shared/errno-text';
import { BadFileError, isAxError } from '../../shared/errors';
import { firstLineOf } from '../../shared/first-line';
import { resolveOutput, UnwritableKindError, writeOutput, type OutputTarget, type UnwritableKind } from '../../shared/fs/output-file';

/** What to do about a failed report write, by errno; the words for the errno are ERRNO_TEXT's. */
const PROBLEMS: Record<string, [string, string]> = {
  EACCES: [ERRNO_TEXT.EACCES, 'choose a folder you can write to'],
  EPERM: [ERRNO_TEXT.EPERM, 'choose a folder you can write to'],
  EISDIR: [ERRNO_TEXT.EISDIR, 'name a file inside it'],
  ENOTDIR: [ERRNO_TEXT.ENOTDIR, 'check the path'],
  ENOSPC: [ERRNO_TEXT.ENOSPC, 'free some space or write elsewhere'],
  EROFS: [ERRNO_TEXT.EROFS, 'write elsewhere'],
  EDQUOT: [ERRNO_TEXT.EDQUOT, 'free some space or write elsewhere'],
  ENAMETOOLONG: [ERRNO_TEXT.ENAMETOOLONG, 'choose a shorter path'],
  ELOOP: [ERRNO_TEXT.ELOOP, 'fix the symbolic link'],
  // Folders are made as needed: a path removed meanwhile is missing, or one the kernel will not
  // make (a folder under /proc or /sys).
  ENOENT: ['its folder cannot be made there, or was removed while being written', 'write it to a folder on a normal file system, then run again'],
  EBADF: ['no descriptor of that number is open for writing', 'open it for axctl (e.g. 3>file) or name a file'],
  EBUSY: ['it is busy (a mount point or a device in use)', 'name another file'],
  ENXIO: ['no device is behind it', 'name another file'],
  EFBIG: ['the file would pass the size limit (ulimit -f)', 'raise the limit or write elsewhere'],
  EPIPE: ['the program reading the pipe stopped', 'keep the reader running until axctl ends'],
};

/** Written straight, the permission is the file's own, not its folder's. */
const STRAIGHT_PROBLEMS: Record<string, [string, string]> = {
  EACCES: [ERRNO_TEXT.EACCES, 'check its permissions, or name another file'],
  EPERM: [ERRNO_TEXT.EPERM, 'check its permissions, or name another file'],
};

const KINDS: Record<UnwritableKind, [string, string]> = {
  folder: [ERRNO_TEXT.EISDIR, 'name a file inside it'],
  socket: ['it is a socket', 'name a file, a device or a pipe'],
  'block device': ['it is a block device (a disk)', 'name a file'],
};

/** Writes `content` to `file`; any failure is a REPORT_WRITE_FAILED naming the file. */
export async function writeReportFile(file: string, content: string): Promise<void> {
  let target: OutputTarget | undefined;
  try {
    target = await resolveOutput(file);
    await writeOutput(target, content);
  } catch (err) {
    if (isAxError(err)) throw err;
    const errno = (err as NodeJS.ErrnoException | undefined)?.code ?? '';
    const [problem, hint] =
      err instanceof UnwritableKindError
        ? KINDS[err.kind]
        : ((target?.how === 'straight' ? STRAIGHT_PROBLEMS[errno] : undefined) ?? PROBLEMS[errno] ?? [firstLineOf(err), 'check the path and try again']);
    throw new BadFileError('REPORT_WRITE_FAILED', file, `cannot write the report: ${problem}`, { hint, cause: err });
  }
}
