/**
 * Paths that must be regular files, and reading a text file whole. A FIFO blocks a read until
 * some writer comes (forever, usually), /dev/zero and /dev/urandom never end, and a file of
 * hundreds of MB is no config, log or record a person wrote (a 70 MB prototxt took 42 s and
 * 590 MB to lint): each is refused with a message naming the file instead.
 *
 * The calls are synchronous behind async signatures: these are small local files (tokens,
 * records, caches, gt folder listings), and each asynchronous file-system call hands off to
 * libuv's thread pool and back, ~0.1–0.7 ms on a busy 2-core machine against microseconds for
 * the system call itself. A verify makes a few dozen of them before and after the board run.
 */
import * as fs from 'node:fs';
import { constants, type Stats } from 'node:fs';
import { BadFileError, fileSystemError, type AxError } from '../errors';

/** Text kinds are read whole; anything larger is not a log or config a person wrote. */
export const MAX_TEXT_FILE_BYTES = 64 * 1024 * 1024;

/** FILE_IS_FOLDER for a folder, FILE_NOT_REGULAR for a device, socket or pipe. */
export function notRegularFileError(file: string, stats: Stats): BadFileError {
  if (stats.isDirectory()) return new BadFileError('FILE_IS_FOLDER', file, 'is a folder, a file was expected', { hint: 'name a file inside it' });
  return new BadFileError('FILE_NOT_REGULAR', file, 'is not a regular file (a device, socket or pipe)', { hint: 'name a regular file' });
}

/**
 * fileSystemError, but a symlink to nowhere says so: `ls` lists it, so "no such file" would
 * look wrong to whoever reads the message.
 */
export async function statError(file: string, err: unknown): Promise<AxError> {
  if ((err as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') {
    let target: string | undefined;
    try {
      target = fs.readlinkSync(file);
    } catch {
      target = undefined;
    }
    if (target !== undefined) {
      return new BadFileError('FILE_NOT_FOUND', file, `is a symbolic link to ${target}, which does not exist`, {
        hint: 'fix the link or put the file in its place',
      });
    }
  }
  return fileSystemError(file, err);
}

/** The stats of `path` (after following symlinks), with errors that name it. */
export async function statPath(file: string): Promise<Stats> {
  try {
    return fs.statSync(file);
  } catch (err) {
    throw await statError(file, err);
  }
}

/** The stats of `file`, which must be a regular file (after following symlinks). */
export async function statRegularFile(file: string): Promise<Stats> {
  const stats = await statPath(file);
  if (!stats.isFile()) throw notRegularFileError(file, stats);
  return stats;
}

export interface ReadTextOptions {
  /** What the file is meant to be, for the too-large message: 'a prototxt config'. */
  what: string;
  /** Default MAX_TEXT_FILE_BYTES. */
  maxBytes?: number;
  /** Given the open file's stats (a caller that needs its mode need not stat it again). */
  onStats?: (stats: Stats) => void;
}

/**
 * The whole of a regular file as UTF-8. Opened without blocking (a FIFO swapped in after a
 * stat would otherwise hang the open) and checked on the open handle; read up to the limit
 * only, so a file that grows while read cannot outrun it either.
 */
export async function readTextFile(file: string, options: ReadTextOptions): Promise<string> {
  const maxBytes = options.maxBytes ?? MAX_TEXT_FILE_BYTES;
  let fd: number;
  try {
    fd = fs.openSync(file, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch (err) {
    // A socket cannot be opened at all (ENXIO): say what it is, not what open() said.
    if ((err as NodeJS.ErrnoException).code === 'ENXIO') await statRegularFile(file);
    throw await statError(file, err);
  }
  try {
    const stats = fs.fstatSync(fd);
    if (!stats.isFile()) throw notRegularFileError(file, stats);
    if (stats.size > maxBytes) throw tooLarge(file, `${stats.size} bytes`, maxBytes, options.what);
    options.onStats?.(stats);
    // One byte more than the size, to see the end; more as the file grows while it is read.
    let buffer = Buffer.allocUnsafe(Math.min(Math.max(stats.size + 1, 64 * 1024), maxBytes + 1));
    let length = 0;
    for (;;) {
      if (length === buffer.length) {
        if (length > maxBytes) throw tooLarge(file, `over ${maxBytes} bytes`, maxBytes, options.what);
        const bigger = Buffer.allocUnsafe(Math.min(buffer.length * 2, maxBytes + 1));
        buffer.copy(bigger, 0, 0, length);
        buffer = bigger;
      }
      const bytesRead = fs.readSync(fd, buffer, length, buffer.length - length, length);
      if (bytesRead === 0) break;
      length += bytesRead;
    }
    return buffer.toString('utf8', 0, length);
  } catch (err) {
    throw fileSystemError(file, err);
  } finally {
    try { fs.closeSync(fd); } catch { /* closing a read-only file loses nothing */ }
  }
}

function tooLarge(file: string, size: string, maxBytes: number, what: string): BadFileError {
  return new BadFileError('FILE_TOO_LARGE', file, `is ${size}, too large for ${what} (limit ${formatLimit(maxBytes)})`, {
    hint: 'name the right file, or cut out the part that matters',
  });
}

function formatLimit(bytes: number): string {
  return bytes % (1024 * 1024) === 0 ? `${bytes / (1024 * 1024)} MiB` : bytes % 1024 === 0 ? `${bytes / 1024} KiB` : `${bytes} bytes`;
}
