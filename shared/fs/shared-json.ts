/**
 * A JSON file that several axctl processes update at once (the user's hash and model-I/O
 * caches, written by a farm's parallel verifies): each writer re-reads the file under a lock,
 * applies its own change to what is there now and writes it back atomically. Loading once
 * and writing the whole file back, as before, kept only the last writer's entries.
 */
import * as path from 'node:path';
import { makeFolder, readJsonIfExists, writeJsonAtomic } from './atomic';
import { withLockFile } from './lock-file';

/** The lock is held for a read and a write of a small file: milliseconds. */
const LOCK_TIMEOUT_MS = 2000;

/**
 * Applies `change` to the file's current content (`undefined` when it is missing or not
 * JSON) and writes the result; returns it. Throws what the file system or the lock throws.
 */
export async function updateJsonFile<T>(file: string, change: (current: unknown) => T): Promise<T> {
  await makeFolder(path.dirname(file));
  return withLockFile(`${file}.lock`, { timeoutMs: LOCK_TIMEOUT_MS }, async () => {
    const current = await readJsonIfExists(file, undefined).catch(() => undefined);
    const next = change(current);
    await writeJsonAtomic(file, next);
    return next;
  });
}
