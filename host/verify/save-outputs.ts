/**
 * `verify --save-outputs DIR`: the board's outputs kept as `<name>.bin`. The folder is
 * checked before anything touches the network (a file in its place, a read-only place, files
 * of someone else's: exit 2 at once); the outputs are fetched into a temporary folder as
 * without the option and moved into DIR once compared, so a write that fails there (a full
 * disk) costs the copies, never the verdict: the caller prints the verdict, then the error,
 * and exits 2.
 *
 * DIR must be new, empty, or hold only what an earlier --save-outputs wrote: its files are
 * listed in DIR/.axctl-saved-outputs.json, written before they are moved in. A file of the
 * user's own that happens to be called `<output>.bin` is never replaced. Afterwards DIR holds
 * this run's outputs only: an earlier run's that this one did not write are removed.
 */
import { constants, promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { BadFileError, fileWriteError } from '../../shared/errors';
import { makeFolder, replaceViaTemp, writeJsonAtomic } from '../../shared/fs/atomic';
import { statError } from '../../shared/fs/regular-file';

/** The list of the files --save-outputs wrote into a folder (the folder's mark of ownership). */
export const SAVED_OUTPUTS_LIST = '.axctl-saved-outputs.json';

/** Makes `dir` if missing; checks it is a folder this process can write into that holds nothing of anyone else's. */
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
  const ours = await savedOutputNames(dir);
  let entries: string[];
  try {
    entries = await fsp.readdir(dir);
  } catch (err) {
    throw await statError(dir, err);
  }
  const others = entries.filter((name) => name !== SAVED_OUTPUTS_LIST && !ours.has(name)).sort();
  if (others.length > 0) throw notOurFolder(dir, others);
}

/**
 * Moves each fetched output (name → file in a temporary folder) into `dir` as
 * `<name with '/' → '_'>.bin`, each whole or not at all. Throws a BadFileError naming the
 * file that could not be written, or the file of someone else's in the way (made during the run).
 */
export async function moveOutputsInto(dir: string, files: ReadonlyMap<string, string>): Promise<void> {
  const ours = await savedOutputNames(dir);
  const names = [...files.values()].map((file) => path.basename(file));
  const inTheWay: string[] = [];
  for (const name of names) {
    if (!ours.has(name) && (await fsp.lstat(path.join(dir, name)).then(() => true, () => false))) inTheWay.push(name);
  }
  if (inTheWay.length > 0) throw notOurFolder(dir, inTheWay);
  // Listed before they arrive: a move cut short leaves files the next run still knows as ours.
  const list = path.join(dir, SAVED_OUTPUTS_LIST);
  try {
    await writeJsonAtomic(list, { writtenBy: 'axctl verify --save-outputs', files: [...new Set([...ours, ...names])].sort() });
  } catch (err) {
    throw fileWriteError(list, err);
  }
  for (const file of files.values()) {
    const target = path.join(dir, path.basename(file));
    try {
      await moveFile(file, target);
    } catch (err) {
      throw fileWriteError(target, err);
    }
  }
  // The folder now holds this run's outputs only: an earlier run's of another model (an output
  // renamed or gone) would be read beside them by `axctl compare DIR gt/joint`. Only files the
  // list names as ours are removed.
  const stale = [...ours].filter((name) => !names.includes(name));
  if (stale.length === 0) return;
  for (const name of stale) await fsp.rm(path.join(dir, name), { force: true }).catch(() => undefined);
  try {
    await writeJsonAtomic(list, { writtenBy: 'axctl verify --save-outputs', files: [...new Set(names)].sort() });
  } catch (err) {
    throw fileWriteError(list, err);
  }
}

/** The files an earlier --save-outputs listed in `dir` (none when it has no readable list). */
async function savedOutputNames(dir: string): Promise<Set<string>> {
  let text: string;
  try {
    text = await fsp.readFile(path.join(dir, SAVED_OUTPUTS_LIST), 'utf8');
  } catch {
    return new Set();
  }
  try {
    const files = (JSON.parse(text) as { files?: unknown }).files;
    // Only plain names: a list edited to name ../something must not reach outside the folder.
    return new Set(Array.isArray(files) ? files.filter((f): f is string => typeof f === 'string' && f === path.basename(f)) : []);
  } catch {
    return new Set();
  }
}

function notOurFolder(dir: string, names: readonly string[]): BadFileError {
  const shown = names.length > 3 ? `${names.slice(0, 3).join(', ')} and ${names.length - 3} more` : names.join(', ');
  return new BadFileError('SAVE_OUTPUTS_NOT_OURS', dir, `holds files --save-outputs did not write (${shown}); they could be replaced`, {
    hint: 'name a new or empty folder for --save-outputs, or move those files elsewhere',
  });
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
