/**
 * A small tmpfs mounted on a test folder, to give the agent's store a disk that fills up or is
 * read-only. Needs root (and the right to mount): null where that is not possible, and the
 * tests that need it skip.
 */
import { execFileSync } from 'node:child_process';
import { promises as fsp } from 'node:fs';

export async function mountTmpfs(dir: string, options: string): Promise<(() => void) | null> {
  if (process.getuid?.() !== 0) return null;
  await fsp.mkdir(dir, { recursive: true });
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', dir], { stdio: 'ignore' });
  } catch {
    return null;
  }
  return () => execFileSync('umount', ['-l', dir], { stdio: 'ignore' });
}

/** Whether this process may mount a tmpfs (decided once, for skipIf). */
export const canMount = (() => {
  if (process.getuid?.() !== 0) return false;
  try {
    execFileSync('sh', ['-c', 'd=$(mktemp -d) && mount -t tmpfs -o size=1m tmpfs "$d" && umount "$d"; r=$?; rmdir "$d"; exit $r'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
