/**
 * `verify --save-outputs DIR`: the board's outputs kept as `<name>.bin`. The folder is
 * checked before anything touches the network (a file in its place, a read-only place: exit
 * 2 at once); the outputs are fetched into a temporary folder as without the option and
 * moved into DIR once compared, so a write that fails there (a full disk) costs the copies,
 * never the verdict: the caller prints the verdict, then the error, and exits 2.
 */
import { constants, promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { BadFileError, fileWriteError } from '../../shared/errors';
import { makeFolder, replaceViaTemp } from '../../shared/fs/atomic';
import { statError } from '../../shared/fs/regular-file';

/** Makes `dir` if missing and checks that it is a folder this process can write into. */
export async function prepareOutputFolder(dir: string): Promise<void> {
  let stats;
  try {
    stats = await fsp.stat(dir);
  } catch (err) {
    const errno = (err as NodeJS.ErrnoException).code;
    // ENOTDIR: a file on the path; making the folder says so in a write's words below.
    if (errno !== 'ENOENT' && errno !== 'ENOTDIR') throw await statError(dir, err);
    const dangling = await fsp.readlink(dir).catch(() => undefined);
    if (dangling !== undefined) {
      throw new BadFileError('FILE_NOT_FOUND', dir, `is a symbolic link to ${dangling}, which does not exist`, {
        hint: 'make the folder it points to, or name another folder for --save-outputs',
      });
    }
  }
  if (stats && !stats.isDirectory()) {
    throw new BadFileError('FILE_NOT_FOLDER', dir, 'is a file, --save-outputs needs a folder', { hint: 'name a folder; it is made if missing' });
  }
  try {
    if (!stats) await makeFolder(dir);
    await fsp.access(dir, constants.W_OK);
  } catch (err) {
    throw fileWriteError(dir, err);
  }
}

/**
 * Moves each fetched output (name → file in a temporary folder) into `dir` as
 * `<name with '/' → '_'>.bin`, each whole or not at all. Throws a BadFileError naming the
 * file that could not be written.
 */
export async function moveOutputsInto(dir: string, files: ReadonlyMap<string, string>): Promise<void> {
  for (const file of files.values()) {
    const target = path.join(dir, path.basename(file));
    try {
      await moveFile(file, target);
    } catch (err) {
      throw fileWriteError(target, err);
    }
  }
}

async function moveFile(from: string, to: string): Promise<void> {
  try {
    await fsp.rename(from, to);
    return;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err;
  }
  // Another file system (the temporary folder is often a tmpfs): copy beside, then rename.
  await replaceViaTemp(to, (temp) => fsp.copyFile(from, temp));
}
