/**
 * Writing a report file: whole or not at all (temp file + rename), and a write that fails is
 * an error naming the file. It never changes what the run found: the caller prints the
 * verdict first and exits 2 only because the requested file is missing.
 */
import { writeFileAtomic } from '../../shared/fs/atomic';
import { BadFileError, isAxError } from '../../shared/errors';

const PROBLEMS: Record<string, [string, string]> = {
  EACCES: ['permission denied', 'choose a folder you can write to'],
  EPERM: ['permission denied', 'choose a folder you can write to'],
  EISDIR: ['is a folder', 'name a file, e.g. report.html'],
  ENOTDIR: ['a part of the path is a file, not a folder', 'check the path'],
  ENOSPC: ['no space left on the device', 'free some space or write elsewhere'],
  EROFS: ['the file system is read-only', 'write elsewhere'],
  EDQUOT: ['disk quota exceeded', 'free some space or write elsewhere'],
  ENAMETOOLONG: ['the name is too long', 'choose a shorter path'],
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
