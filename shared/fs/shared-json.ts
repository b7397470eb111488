/**
 * A JSON file that several axctl processes update at once (the build records of two builds
 * finishing together; the user's hash and model-I/O caches, written by a farm's parallel
 * verifies): each writer holds a lock file while it reads the file, applies its own change to
 * what is there now and writes it back atomically. Loading once and writing the whole file
 * back, as before, kept only the last writer's entries.
 */
import * as path from 'node:path';
import { makeFolder, readJsonIfExists, writeJsonAtomic } from './atomic';
import { withLockFile } from './lock-file';

/** The lock is held for a read and a write of a small file: milliseconds. */
const DEFAULT_LOCK_TIMEOUT_MS = 2000;

/**
 * Holds `<file>.lock` (waiting at most `timeoutMs`: LockTimeoutError) while `next` computes
 * the file's new content, then writes it atomically; returns it. Throws what the file system,
 * the lock or `next` throws.
 */
export async function rewriteJsonFile<T>(file: string, next: () => Promise<T>, timeoutMs = DEFAULT_LOCK_TIMEOUT_MS): Promise<T> {
  await makeFolder(path.dirname(file));
  return withLockFile(`${file}.lock`, { timeoutMs }, async () => {
    const content = await next();
    await writeJsonAtomic(file, content);
    return content;
  });
}

/** rewriteJsonFile with `change` applied to the file's current content (`undefined` when it is missing or not JSON). */
export function updateJsonFile<T>(file: string, change: (current: unknown) => T): Promise<T> {
  return rewriteJsonFile(file, async () => change(await readJsonIfExists(file, undefined).catch(() => undefined)));
}
