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
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { BadFileError, fileSystemError } from '../../shared/errors';
import { makeFolder } from '../../shared/fs/atomic';

const GT_SUBFOLDERS = ['input', 'joint', 'onnx', 'output'];

/** What in `dir` pulsar run would not have written, or null when it is all gt. */
async function foreignEntry(dir: string): Promise<string | null> {
  for (const entry of await fsp.readdir(dir, { withFileTypes: true })) {
    const sub = path.join(dir, entry.name);
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
 * set aside, beside `dir`. The old ones are removed at once (a live run removes its own just
 * after renaming it, so removing it too changes nothing); a fresh one only once a day old, as
 * another sim may be writing it (a sim of a large model can take hours).
 */
const LEFTOVER_FRESH_MS = 24 * 60 * 60 * 1000;

async function sweepLeftovers(dir: string): Promise<void> {
  const parent = path.dirname(dir);
  const prefix = `.${path.basename(dir)}.axctl-`;
  for (const name of await fsp.readdir(parent).catch(() => [] as string[])) {
    if (!name.startsWith(prefix)) continue;
    const leftover = path.join(parent, name);
    const kind = name.slice(prefix.length);
    const old = kind.startsWith('old-');
    if (!old && !kind.startsWith('new-')) continue;
    const stat = await fsp.lstat(leftover).catch(() => undefined);
    if (!stat?.isDirectory()) continue;
    if (old || Date.now() - stat.mtimeMs > LEFTOVER_FRESH_MS) await fsp.rm(leftover, { recursive: true, force: true }).catch(() => undefined);
  }
}

/** A new empty folder beside `dir` for pulsar to write the gt into (same file system, so the swap is a rename). */
export async function makeGtBeside(dir: string): Promise<string> {
  const parent = path.dirname(dir);
  try {
    await makeFolder(parent);
    await sweepLeftovers(dir);
    return await fsp.mkdtemp(path.join(parent, `.${path.basename(dir)}.axctl-new-`));
  } catch (err) {
    throw fileSystemError(parent, err);
  }
}

/** Removes a folder made by makeGtBeside (the run failed or was stopped). */
export async function discardGt(fresh: string): Promise<void> {
  await fsp.rm(fresh, { recursive: true, force: true });
}

/**
 * Puts `fresh` in place of `dir`: the old gt is renamed aside, the new one renamed in, then
 * the old one deleted. Should the second rename fail, the old gt goes back.
 */
export async function swapInGt(fresh: string, dir: string): Promise<void> {
  const old = `${path.join(path.dirname(dir), `.${path.basename(dir)}.axctl-old-`)}${path.basename(fresh).slice(-6)}`;
  let movedAside = false;
  try {
    await fsp.rename(dir, old);
    movedAside = true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      await discardGt(fresh);
      throw fileSystemError(dir, err);
    }
  }
  try {
    await fsp.rename(fresh, dir);
  } catch (err) {
    if (movedAside) await fsp.rename(old, dir).catch(() => undefined);
    await discardGt(fresh);
    throw fileSystemError(dir, err);
  }
  if (movedAside) await fsp.rm(old, { recursive: true, force: true });
}
