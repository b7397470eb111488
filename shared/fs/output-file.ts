/**
 * Writing a file whose path the user gave (a report): like `cmd > PATH` in a shell, not like a
 * blind rename. A regular file (or a new one) is replaced atomically; a symbolic link is
 * followed and the file it names is replaced, the link stays; a character device or FIFO is
 * written straight, and /dev/stdout, /dev/fd/N... into the descriptor this process holds:
 * a rename would put a regular file in place of /dev/null or the pipe a reader waits on.
 */
import { constants, promises as fsp, readdirSync, readlinkSync, write } from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { makeFolder, replaceViaTemp } from './atomic';

/** What a path is when nothing can be written to it as a file. */
export type UnwritableKind = 'folder' | 'socket' | 'block device';

/** `file` is a folder, a socket or a block device: no report belongs there. */
export class UnwritableKindError extends Error {
  constructor(
    readonly file: string,
    readonly kind: UnwritableKind,
  ) {
    super(`${file} is a ${kind}`);
    this.name = 'UnwritableKindError';
  }
}

/** How to write: atomically at `path` (links resolved), straight into `path`, or into our descriptor `fd`. */
export type OutputTarget = { how: 'replace'; path: string } | { how: 'straight'; path: string } | { how: 'descriptor'; fd: number };

/** Linux gives up after 40 links in a row (ELOOP); so do we. */
const MAX_LINKS = 40;

/**
 * The descriptor a path names in this process, if it is one of ours: /dev/stdout, /dev/stderr,
 * /dev/fd/N, /proc/self/fd/N (/proc/<other pid>/fd/N is another process's, an ordinary path).
 */
function ownDescriptor(file: string): number | undefined {
  const m = /^\/(?:dev\/(stdout|stderr|fd\/(\d+))|proc\/(self|thread-self|\d+)\/fd\/(\d+))$/.exec(path.resolve(file));
  if (!m) return undefined;
  if (m[1] === 'stdout') return 1;
  if (m[1] === 'stderr') return 2;
  if (m[2] !== undefined) return Number(m[2]);
  return m[3] === 'self' || m[3] === 'thread-self' || Number(m[3]) === process.pid ? Number(m[4]) : undefined;
}

/**
 * True for a descriptor Node opened for itself (epoll, eventfd, libuv's signal and wake-up
 * pipes): a /dev/fd/N the user never opened for axctl names one of these, and writing there
 * crashes the process or loses the report. Node's are anonymous inodes, or pipes and socket
 * pairs it holds both ends of; a pipe a shell hands over (`>(...)`) has one end here.
 */
function heldByNode(fd: number): boolean {
  if (fd <= 2) return false;
  const linkOf = (n: number | string): string | null => {
    try {
      return readlinkSync(`/proc/self/fd/${n}`);
    } catch {
      return null; // not open (EBADF comes at the write), or no /proc
    }
  };
  const link = linkOf(fd);
  if (link === null) return false;
  if (link.startsWith('anon_inode:')) return true;
  if (!link.startsWith('pipe:') && !link.startsWith('socket:')) return false;
  return readdirSync('/proc/self/fd').some((n) => Number(n) !== fd && linkOf(n) === link);
}

export async function resolveOutput(file: string): Promise<OutputTarget> {
  const fd = ownDescriptor(file);
  if (fd !== undefined) {
    if (heldByNode(fd)) throw Object.assign(new Error(`descriptor ${fd} is axctl's own`), { code: 'EBADF' });
    return { how: 'descriptor', fd };
  }
  const stats = await fsp.stat(file).catch((err: NodeJS.ErrnoException) => {
    // Missing (or a link to nowhere, which then names the file to make): a new file.
    if (err.code === 'ENOENT') return undefined;
    throw err;
  });
  if (stats?.isDirectory()) throw new UnwritableKindError(file, 'folder');
  if (stats?.isSocket()) throw new UnwritableKindError(file, 'socket');
  // Writing a report over a disk is never what was meant.
  if (stats?.isBlockDevice()) throw new UnwritableKindError(file, 'block device');
  if (stats && !stats.isFile()) return { how: 'straight', path: file };
  return { how: 'replace', path: await followLinks(file) };
}

/**
 * The path the chain of symbolic links at `file` ends on (it may not exist yet). Only the last
 * part matters: the temporary file goes beside it, so folders on the way may be links too.
 */
async function followLinks(file: string): Promise<string> {
  let current = file;
  for (let hops = 0; hops <= MAX_LINKS; hops++) {
    const stats = await fsp.lstat(current).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return undefined;
      throw err;
    });
    if (!stats?.isSymbolicLink()) return current;
    // Relative to the link's real folder: `..` in the target climbs from where the link really
    // is, not from the text of the path that led to it (as the kernel resolves it).
    current = path.resolve(await fsp.realpath(path.dirname(current)), await fsp.readlink(current));
  }
  throw Object.assign(new Error(`too many symbolic links at ${file}`), { code: 'ELOOP' });
}

/**
 * Writes `data` where resolveOutput said. Replaced: whole or not at all, missing folders made,
 * an existing file left as it was on failure. Straight: never created, so a path that vanished
 * in between is an error rather than a new half-file. A descriptor: at its own offset, after
 * what was printed on it before (stdout redirected to a file keeps the verdict), not closed.
 */
export async function writeOutput(target: OutputTarget, data: string): Promise<void> {
  if (target.how === 'replace') {
    await makeFolder(path.dirname(target.path));
    await replaceViaTemp(target.path, (tmp) => fsp.writeFile(tmp, data));
    return;
  }
  if (target.how === 'descriptor') return writeDescriptor(target.fd, Buffer.from(data));
  // A FIFO blocks here until a reader opens it, as `cmd > fifo` does.
  const handle = await fsp.open(target.path, constants.O_WRONLY | constants.O_NOCTTY);
  try {
    await handle.writeFile(data);
  } catch (err) {
    await handle.close().catch(() => undefined);
    throw err;
  }
  await handle.close();
}

const writeAt = promisify(write);

/**
 * Into an open descriptor, not by reopening its /proc path: Node gives a child's stdout as a
 * socket, which cannot be opened. Node may have made it non-blocking (EAGAIN when full): wait.
 */
async function writeDescriptor(fd: number, bytes: Buffer): Promise<void> {
  let done = 0;
  while (done < bytes.length) {
    try {
      done += (await writeAt(fd, bytes, done, bytes.length - done, null)).bytesWritten;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }
}
