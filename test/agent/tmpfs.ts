/**
 * A small tmpfs mounted on a test folder, to give the agent's store a disk that fills up or is
 * read-only. Needs root and the right to mount (CI runs as root, and also makes network
 * namespaces there); where that is missing the tests fail saying so rather than skip, so a
 * green run always means the disk-full and read-only paths were exercised.
 */
import { execFileSync } from 'node:child_process';
import { promises as fsp } from 'node:fs';

export async function mountTmpfs(dir: string, options: string): Promise<() => void> {
  if (process.getuid?.() !== 0) throw new Error('this test mounts a tmpfs: run the tests as root (as .ci/run does)');
  await fsp.mkdir(dir, { recursive: true });
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', dir], { stdio: 'pipe' });
  } catch (err) {
    throw new Error(`this test mounts a tmpfs and could not (${(err as Error).message.trim()}): run the tests as root with the right to mount`);
  }
  return () => execFileSync('umount', ['-l', dir], { stdio: 'ignore' });
}

