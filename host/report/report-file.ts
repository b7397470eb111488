/**
 * Writing a report file: whole or not at all (temp file + rename), and a write that fails is
 * an error naming the file. It never changes what the run found: the caller prints the
 * verdict first and exits 2 only because the requested file is missing.
 */
import { writeFileAtomic } from '../../shared/fs/atomic';
import { ERRNO_TEXT } from '../../shared/errno-text';
import { BadFileError, isAxError } from '../../shared/errors';

/** What to do about a failed report write, by errno; the words for the errno are ERRNO_TEXT's. */
const PROBLEMS: Record<string, [string, string]> = {
  EACCES: [ERRNO_TEXT.EACCES, 'choose a folder you can write to'],
  EPERM: [ERRNO_TEXT.EPERM, 'choose a folder you can write to'],
  EISDIR: [ERRNO_TEXT.EISDIR, 'name a file, e.g. report.html'],
  ENOTDIR: [ERRNO_TEXT.ENOTDIR, 'check the path'],
  ENOSPC: [ERRNO_TEXT.ENOSPC, 'free some space or write elsewhere'],
  EROFS: [ERRNO_TEXT.EROFS, 'write elsewhere'],
  EDQUOT: [ERRNO_TEXT.EDQUOT, 'free some space or write elsewhere'],
  ENAMETOOLONG: [ERRNO_TEXT.ENAMETOOLONG, 'choose a shorter path'],
};

/** Writes `content` to `file` atomically; any failure is a REPORT_WRITE_FAILED naming the file. */
export async function writeReportFile(file: string, content: string): Promise<void> {
  try {
    await writeFileAtomic(file, content);
  } catch (err) {
    if (isAxError(err)) throw err;
    const errno = (err as NodeJS.ErrnoException | undefined)?.code ?? '';
    const [problem, hint] = PROBLEMS[errno] ?? [(err as Error)?.message ?? String(err), 'check the path and try again'];
    throw new BadFileError('REPORT_WRITE_FAILED', file, `cannot write the report: ${problem}`, { hint, cause: err });
  }
}
