/** The built axctl run in a folder of its own, made before a file's (or a describe's) tests and removed after them. */
import { afterAll, beforeAll } from 'vitest';
import { runAxctl, type CliRun } from '../built';
import { tempDirs } from '../temp-dirs';

export function axctlInTempDir(prefix: string): (...args: string[]) => Promise<CliRun> {
  const dirs = tempDirs(prefix);
  let dir = '';
  beforeAll(() => {
    dir = dirs.make();
  });
  afterAll(() => dirs.cleanup());
  return (...args) => runAxctl(dir, args);
}
