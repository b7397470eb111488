/** Small file helpers the wrapper needs: existence checks with clear errors, and sha256. */
import { promises as fsp } from 'node:fs';
import { BadFileError, fileSystemError } from '../../shared/errors';
import { sha256File as sha256Of } from '../../shared/fs/sha256-file';

/** sha256 of `file` (shared/fs/sha256-file.ts), its failures named as this file's. */
export async function sha256File(file: string): Promise<string> {
  try {
    return await sha256Of(file);
  } catch (err) {
    throw fileSystemError(file, err);
  }
}

/** Throws a BadFileError naming `what` the file was meant to be when it is missing or a folder. */
export async function requireFile(file: string, what: string): Promise<void> {
  let stat;
  try {
    stat = await fsp.stat(file);
  } catch (err) {
    const e = fileSystemError(file, err);
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new BadFileError('FILE_NOT_FOUND', file, `no such file (the ${what})`, { hint: 'check the path' });
    }
    throw e;
  }
  if (stat.isDirectory()) throw new BadFileError('FILE_IS_FOLDER', file, `is a folder, the ${what} must be a file`, { hint: 'name the file inside it' });
  if (!stat.isFile()) {
    throw new BadFileError('FILE_NOT_REGULAR', file, `is not a regular file (a device, socket or pipe), the ${what} must be a file`, { hint: 'name the file itself' });
  }
}

export async function fileExists(file: string): Promise<boolean> {
  try {
    return (await fsp.stat(file)).isFile();
  } catch {
    return false;
  }
}
