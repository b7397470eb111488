/** Small file helpers the wrapper needs: existence checks with clear errors, and sha256. */
import { createHash } from 'node:crypto';
import { createReadStream, promises as fsp } from 'node:fs';
import { BadFileError, fileSystemError } from '../../shared/errors';

export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  try {
    for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  } catch (err) {
    throw fileSystemError(file, err);
  }
  return hash.digest('hex');
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
