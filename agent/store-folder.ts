/**
 * The --store folder, checked at start-up before anything uses it: created if missing, a
 * folder, writable. A bad --store (a file, a path under a file, a read-only filesystem, a
 * folder the agent's user cannot write) then stops the agent at once with one line and exit 2,
 * instead of a stack trace, or an agent that listens and fails every upload and run. Here, not
 * in agent/store/: a relaying agent checks it too, and must not load the serving code.
 */
import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { errnoText } from '../shared/errno-text';
import { UsageError } from '../shared/errors';
import { makeFolder } from '../shared/fs/atomic';

/** --store itself is a file: mkdir -p says EEXIST, or stat finds no folder there. */
const NOT_A_FOLDER = 'it is a file, not a folder';

export async function checkStoreFolder(storeDir: string): Promise<void> {
  const dir = path.resolve(storeDir);
  const refuse = (problem: string, err?: unknown) =>
    // The store's own code (agent/store/errors.ts), as a UsageError: the same code and exit 2.
    new UsageError('STORE_IO_ERROR', `--store ${dir}: cannot be used as the store: ${problem}`, {
      hint: 'give --store a folder the agent\'s user can write to, on a writable filesystem; a missing one is created',
      cause: err,
    });
  const problemOf = (err: unknown) => ((err as NodeJS.ErrnoException).code === 'EEXIST' ? NOT_A_FOLDER : errnoText(err) ?? (err as Error).message);
  try {
    // Private to the agent's user (models are often confidential); an existing folder keeps its mode.
    await makeFolder(dir, 0o700);
  } catch (err) {
    // Node's recursive mkdir reports ENOENT for a folder it could not create on a read-only
    // filesystem; a plain mkdir of the last step tells the real cause.
    const real = (err as NodeJS.ErrnoException).code === 'ENOENT' ? await fsp.mkdir(dir).then(() => err, (again: unknown) => again) : err;
    throw refuse(problemOf(real), real);
  }
  // mkdir -p accepts a symbolic link to a file only to fail later: look at what is there.
  const stat = await fsp.stat(dir).catch((err: unknown) => {
    throw refuse(problemOf(err), err);
  });
  if (!stat.isDirectory()) throw refuse(NOT_A_FOLDER);
  // Permission bits do not tell (root, ACLs, a read-only mount): create and remove a file.
  const probe = path.join(dir, `.axagent-write-check-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    await (await fsp.open(probe, 'wx')).close();
  } catch (err) {
    throw refuse(`cannot create a file in it (${problemOf(err)})`, err);
  }
  await fsp.rm(probe, { force: true }).catch((err: unknown) => {
    throw refuse(`cannot remove a file in it (${problemOf(err)})`, err);
  });
}
