/**
 * The `--output-gt` folder of `axctl sim`. pulsar run writes its tensors into whatever folder
 * it is given and leaves older files there: a tensor of an earlier run under another name
 * (another model, an input renamed) would stay beside the new ones, and `axctl verify --gt`
 * would read a mix. So pulsar writes into a fresh folder beside the target, and only a run
 * that succeeded is swapped in, replacing the old gt whole; a failed run leaves it untouched.
 *
 * Replacing means deleting, so the target must be empty or look like a gt folder pulsar run
 * wrote (shared/parsers/gt-folder.ts): only input/, joint/, onnx/ (or the older output/)
 * holding .bin, .npy and input/filename.txt. Anything else, say a home or source folder
 * named by mistake, is refused before pulsar runs and nothing is deleted.
 */
import { randomBytes } from 'node:crypto';
import { constants as fsConstants, promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { BadFileError, fileSystemError, fileWriteError } from '../../shared/errors';
import { makeFolder } from '../../shared/fs/atomic';

const GT_SUBFOLDERS = ['input', 'joint', 'onnx', 'output'];

/** What in `dir` pulsar run would not have written, or null when it is all gt. */
async function foreignEntry(dir: string): Promise<string | null> {
  for (const entry of await fsp.readdir(dir, { withFileTypes: true })) {
    const sub = path.join(dir, entry.name);
    if (entry.isDirectory() && entry.name.startsWith('.axctl-')) continue; // a sim's fresh or set-aside gt (below)
    if (!entry.isDirectory() || !GT_SUBFOLDERS.includes(entry.name)) return sub;
    for (const file of await fsp.readdir(sub, { withFileTypes: true })) {
      const isTensor = /\.(bin|npy)$/i.test(file.name) || (entry.name === 'input' && file.name === 'filename.txt');
      if (!file.isFile() || !isTensor) return path.join(sub, file.name);
    }
  }
  return null;
}

/**
 * Refuses a target that is not a folder, not a gt folder or a symbolic link, before anything
 * runs. A missing target is fine: the swap makes it.
 */
export async function checkGtTarget(dir: string): Promise<void> {
  const refuse = (problem: string) => new BadFileError('SIM_OUTPUT_GT_NOT_GT', dir, problem, {
    hint: 'name a new or empty folder for --output-gt, or the gt folder of an earlier sim (it is replaced whole)',
  });
  let stat;
  try {
    stat = await fsp.lstat(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw fileSystemError(dir, err);
  }
  if (stat.isSymbolicLink()) throw refuse('is a symbolic link; axctl replaces the gt folder whole and will not replace a link');
  if (!stat.isDirectory()) throw refuse('is not a folder');
  let foreign: string | null;
  try {
    foreign = await foreignEntry(dir);
  } catch (err) {
    throw fileSystemError(dir, err);
  }
  if (foreign) {
    throw refuse(`does not look like a gt folder (it holds ${path.relative(dir, foreign)}, which pulsar run does not write); not replacing it`);
  }
}

/**
 * A sim killed outright (SIGKILL, a power cut) leaves its fresh folder, or the old gt it had
 * set aside, beside `dir` (or, for a folder that cannot be swapped, the fresh one inside it).
 * The old ones are removed at once (a live run removes its own just after renaming it, so
 * removing it too changes nothing); a fresh one only once a day old, as another sim may be
 * writing it (a sim of a large model can take hours).
 */
const LEFTOVER_FRESH_MS = 24 * 60 * 60 * 1000;
/** The fresh folder's name inside a gt folder that cannot be swapped whole. */
const INSIDE_PREFIX = '.axctl-new-';

async function sweepLeftovers(dir: string): Promise<void> {
  const sweep = async (folder: string, prefix: string) => {
    for (const name of await fsp.readdir(folder).catch(() => [] as string[])) {
      if (!name.startsWith(prefix)) continue;
      const leftover = path.join(folder, name);
      const kind = name.slice(prefix.length);
      const old = kind.startsWith('old-');
      if (!old && !kind.startsWith('new-')) continue;
      const stat = await fsp.lstat(leftover).catch(() => undefined);
      if (!stat?.isDirectory()) continue;
      if (old || Date.now() - stat.mtimeMs > LEFTOVER_FRESH_MS) await fsp.rm(leftover, { recursive: true, force: true }).catch(() => undefined);
    }
  };
  await sweep(path.dirname(dir), `.${path.basename(dir)}.axctl-`);
  await sweep(dir, '.axctl-');
}

/** Where pulsar writes, and how it then becomes `dir`. */
export interface FreshGt {
  readonly path: string;
  /**
   * 'beside': a sibling of `dir`, swapped in whole by renames. 'inside': in `dir` itself, for a
   * folder that cannot be renamed (a mount point, such as a docker volume) or whose parent
   * cannot be written: its contents replace `dir`'s sub-folders one by one.
   */
  readonly how: 'beside' | 'inside';
}

/** A folder `dir` cannot be renamed away from: a mount point, or one in a folder this user may not write. */
async function mustStayInPlace(dir: string): Promise<boolean> {
  const [own, parent] = await Promise.all([fsp.stat(dir).catch(() => null), fsp.stat(path.dirname(dir)).catch(() => null)]);
  if (!own || !parent) return false;
  if (own.dev !== parent.dev || (await isMountPoint(dir))) return true;
  return fsp.access(path.dirname(dir), fsConstants.W_OK).then(() => false, () => true);
}

/**
 * Whether `dir` is a mount point by the kernel's table (Linux: /proc/self/mountinfo, whose
 * fifth field is the mount point, with spaces and the like as octal escapes). A bind mount
 * from the same file system has its parent's device number, so that comparison alone misses it.
 */
async function isMountPoint(dir: string): Promise<boolean> {
  const [table, real] = await Promise.all([fsp.readFile('/proc/self/mountinfo', 'utf8').catch(() => ''), fsp.realpath(dir).catch(() => dir)]);
  const unescape = (field: string) => field.replace(/\\([0-7]{3})/g, (_m, octal: string) => String.fromCharCode(parseInt(octal, 8)));
  return table.split('\n').some((line) => unescape(line.split(' ')[4] ?? '') === real);
}

/** A new empty folder for pulsar to write the gt into, on the same file system as `dir` (so moving it in is renaming). */
export async function makeFreshGt(dir: string): Promise<FreshGt> {
  const parent = path.dirname(dir);
  try {
    await makeFolder(parent);
    await sweepLeftovers(dir);
    const how = (await mustStayInPlace(dir)) ? 'inside' : 'beside';
    const base = how === 'inside' ? path.join(dir, INSIDE_PREFIX) : path.join(parent, `.${path.basename(dir)}.axctl-new-`);
    // mkdir, not mkdtemp: mkdtemp makes it 700, and the gt of a shared farm is read by others.
    for (;;) {
      const fresh = `${base}${randomBytes(4).toString('hex')}`;
      try {
        await fsp.mkdir(fresh);
        return { path: fresh, how };
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
    }
  } catch (err) {
    throw fileWriteError(dir, err);
  }
}

/** Removes a folder made by makeFreshGt (the run failed or was stopped). */
export async function discardGt(fresh: FreshGt): Promise<void> {
  await fsp.rm(fresh.path, { recursive: true, force: true });
}

/**
 * Puts `fresh` in place of `dir`. Beside: the old gt is renamed aside, the new one renamed in,
 * then the old one deleted; should the second rename fail, the old gt goes back. Inside: the
 * old gt's sub-folders are deleted and the new ones renamed in (checkGtTarget made sure they
 * are all gt).
 */
export async function swapInGt(fresh: FreshGt, dir: string): Promise<void> {
  // pulsar may have run for hours: what was checked before it ran is checked again.
  const foreign = await foreignEntry(dir).catch(() => null);
  if (foreign) {
    throw new BadFileError('SIM_OUTPUT_GT_NOT_GT', dir, `was given ${path.relative(dir, foreign)} while pulsar ran, which pulsar run does not write; not replacing it`, {
      hint: `the new gt is in ${fresh.path}: move what you added elsewhere and rename that folder, or run the sim again`,
    });
  }
  if (fresh.how === 'inside') return moveContentsIn(fresh, dir);
  const old = `${path.join(path.dirname(dir), `.${path.basename(dir)}.axctl-old-`)}${path.basename(fresh.path).slice(-8)}`;
  let movedAside = false;
  try {
    await fsp.rename(dir, old);
    movedAside = true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      await discardGt(fresh);
      throw fileWriteError(dir, err);
    }
  }
  try {
    await fsp.rename(fresh.path, dir);
  } catch (err) {
    if (movedAside) await fsp.rename(old, dir).catch(() => undefined);
    await discardGt(fresh);
    throw fileWriteError(dir, err);
  }
  if (movedAside) await fsp.rm(old, { recursive: true, force: true });
}

/**
 * The inside swap: the old gt's sub-folders are moved into `dir/.axctl-old-*`, the new ones in,
 * and only then the old ones deleted; should a move fail, the old ones go back.
 */
async function moveContentsIn(fresh: FreshGt, dir: string): Promise<void> {
  const old = path.join(dir, `.axctl-old-${path.basename(fresh.path).slice(-8)}`);
  const movedOut: string[] = [];
  const movedIn: string[] = [];
  try {
    await fsp.mkdir(old);
    for (const name of await fsp.readdir(dir)) {
      if (name.startsWith('.axctl-')) continue;
      await fsp.rename(path.join(dir, name), path.join(old, name));
      movedOut.push(name);
    }
    for (const name of await fsp.readdir(fresh.path)) {
      await fsp.rename(path.join(fresh.path, name), path.join(dir, name));
      movedIn.push(name);
    }
  } catch (err) {
    for (const name of movedIn) await fsp.rm(path.join(dir, name), { recursive: true, force: true }).catch(() => undefined);
    for (const name of movedOut) await fsp.rename(path.join(old, name), path.join(dir, name)).catch(() => undefined);
    await fsp.rm(old, { recursive: true, force: true }).catch(() => undefined);
    await discardGt(fresh);
    throw fileWriteError(dir, err);
  }
  await fsp.rm(old, { recursive: true, force: true });
  await discardGt(fresh);
}
