/**
 * Which version of a file a stat saw. Size and mtime alone are not enough: `cp -p`, `rsync -a`,
 * `touch -r` and archives rewrite a file with its old mtime, and gt inputs never change size.
 * The kernel sets ctime on every change and nobody can set it back, and a file replaced by a
 * rename has a new inode (git's index compares the same).
 */
import type { Stats } from 'node:fs';

export interface FileVersion {
  size: number;
  mtimeMs: number;
  /** Changed by the kernel on every write, chmod or utimes; cannot be set back. */
  ctimeMs: number;
  /** A file replaced by a rename (editors, rsync, cp over a hard link...) has a new one. */
  ino: number;
}

export function fileVersion(st: Stats): FileVersion {
  return { size: st.size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs, ino: st.ino };
}

export function sameFileVersion(a: FileVersion, b: FileVersion): boolean {
  return a.size === b.size && a.mtimeMs === b.mtimeMs && a.ctimeMs === b.ctimeMs && a.ino === b.ino;
}
