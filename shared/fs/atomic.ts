/**
 * Atomic file writes: write a temporary file beside the target, then rename it into place,
 * so a reader never sees a half-written file and a crash leaves the old file intact.
 */
import * as fs from 'node:fs';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { isAxError } from '../errors';
import { readTextFile } from './regular-file';

export function tempPathFor(target: string): string {
  return path.join(path.dirname(target), `.${path.basename(target)}.${randomBytes(6).toString('hex')}.tmp`);
}

/**
 * `mkdir -p dir` (new folders get `mode`, less the umask), failing with the errno of the step
 * that failed. Never Node's recursive mkdir: where the kernel refuses a folder with ENOENT
 * although its parent exists (anything under /proc), Node 20's loops for ever; and on a
 * read-only file system it says ENOENT where making the missing folders one by one, as here,
 * gets the true reason (EROFS, EACCES, ENOTDIR...).
 */
export async function makeFolder(dir: string, mode?: number): Promise<void> {
  const missing: string[] = [];
  let existing = dir; // as given, not resolved: `link/..` is the link's parent, as for mkdir -p
  while (!(await fsp.lstat(existing).then(() => true, () => false))) {
    missing.unshift(existing);
    const parent = path.dirname(existing);
    if (parent === existing) break;
    existing = parent;
  }
  for (const folder of missing) {
    await fsp.mkdir(folder, mode).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'EEXIST') throw err;
    });
  }
  if (!(await fsp.stat(dir)).isDirectory()) throw notAFolder(dir); // a link to nowhere fails the stat itself
}

/** makeFolder for the scripts that work synchronously (the simulators). */
export function makeFolderSync(dir: string, mode?: number): void {
  const missing: string[] = [];
  let existing = dir;
  while (!fs.existsSync(existing) && !isLink(existing)) {
    missing.unshift(existing);
    const parent = path.dirname(existing);
    if (parent === existing) break;
    existing = parent;
  }
  for (const folder of missing) {
    try {
      fs.mkdirSync(folder, mode);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  if (!fs.statSync(dir).isDirectory()) throw notAFolder(dir);
}

function isLink(p: string): boolean {
  try {
    return fs.lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}

/** As mkdir(2) says of a path that is there but not a folder (what `mkdir -p` reports too). */
function notAFolder(dir: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`EEXIST: file already exists, mkdir '${dir}'`), { code: 'EEXIST', errno: -17, syscall: 'mkdir', path: dir });
}

/** Writes `data` to `target` atomically, creating the folder if needed. */
export async function writeFileAtomic(target: string, data: string | Uint8Array): Promise<void> {
  await makeFolder(path.dirname(target));
  await replaceViaTemp(target, (tmp) => fsp.writeFile(tmp, data));
}

/** `fill` writes a temporary file beside `target`, which is then renamed onto it; on failure the temporary file goes. */
export async function replaceViaTemp(target: string, fill: (tmp: string) => Promise<void>): Promise<void> {
  const tmp = tempPathFor(target);
  try {
    await fill(tmp);
    await fsp.rename(tmp, target);
  } catch (err) {
    await fsp.rm(tmp, { force: true });
    throw err;
  }
}

/** JSON, pretty-printed, written atomically. */
export function writeJsonAtomic(target: string, value: unknown): Promise<void> {
  return writeFileAtomic(target, JSON.stringify(value, null, 2) + '\n');
}

/**
 * Reads JSON, returning `fallback` when the file does not exist. Other errors propagate; the
 * value is whatever JSON the file holds (null, an array...), for the caller to check.
 */
export async function readJsonIfExists(file: string, fallback: unknown): Promise<unknown> {
  let text: string;
  try {
    text = await readTextFile(file, { what: 'a JSON record' });
  } catch (err) {
    if (isAxError(err) && err.code === 'FILE_NOT_FOUND') return fallback;
    throw err;
  }
  return JSON.parse(text);
}
