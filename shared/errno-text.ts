/**
 * What an errno means, in the words every message uses: one wording per errno for the host's
 * file-write errors (shared/errors.ts) and report files (host/report/report-file.ts), the
 * agent's start-up check of --store (agent/store-folder.ts) and the store problem a board
 * reports (BlobStore.writeProblem). Each caller frames the words ("cannot be written: ...",
 * "cannot be used as the store: ...") and gives its own hint. Errnos whose meaning depends on
 * the operation (ENOENT: what is missing? EEXIST: what is in the way?) are worded by the caller.
 */
export const ERRNO_TEXT = {
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EROFS: 'the filesystem is read-only',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  ENAMETOOLONG: 'the name is too long',
  ENOTDIR: 'a part of its path is a file, not a folder',
  EISDIR: 'it is a folder',
  ELOOP: 'too many symbolic links in its path',
} as const satisfies Record<string, string>;

/** The words for `err`'s errno; undefined when it has no errno or one not in ERRNO_TEXT. */
export function errnoText(err: unknown): string | undefined {
  const errno = (err as NodeJS.ErrnoException | undefined)?.code;
  return errno !== undefined && Object.hasOwn(ERRNO_TEXT, errno) ? ERRNO_TEXT[errno as keyof typeof ERRNO_TEXT] : undefined;
}
