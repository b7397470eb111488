/**
 * Temporary folders for a test file: `make()` a fresh one, `cleanup()` (in afterEach) removes
 * every folder made so far, so a test run leaves nothing in the system's temp folder.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export function tempDirs(prefix = 'axctl-test-'): { make: () => string; cleanup: () => void } {
  const made: string[] = [];
  return {
    make: () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
      made.push(dir);
      return dir;
    },
    cleanup: () => {
      for (const dir of made.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
