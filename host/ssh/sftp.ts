/**
 * SFTP as promises, with what axctl needs on top: create folders, replace a file atomically
 * (write a temporary name, rename over the target), and move big files fast. SFTP answers one
 * request at a time per round trip, so transfers keep many requests in flight (like ssh2's
 * fastPut/fastGet) and may resume at an offset. Every request has a deadline; a failure is a
 * ConnectError naming the remote path.
 *
 * When the SFTP channel ends (the connection dropped, or the board's sftp-server quit), every
 * request still waiting and every later one fails at once with why: ssh2 files a request on an
 * ended channel and never answers it, which would otherwise cost each one its whole deadline.
 */
import { createHash, randomBytes, type Hash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import type { FileEntryWithStats, SFTPWrapper, Stats } from 'ssh2';
import { ConnectError, fileSystemError, fileWriteError } from '../../shared/errors';
import { sharedPacer } from '../../shared/young-collection';

export interface TransferOptions {
  /** Called as bytes are confirmed written: (bytes done including any resumed prefix, total). */
  onProgress?: (doneBytes: number, totalBytes: number) => void;
}

/** SFTP open flags (draft-ietf-secsh-filexfer-02): create a new file, failing if it exists. */
const OPEN_WRITE = 0x02;
const OPEN_CREATE = 0x08;
const OPEN_EXCLUSIVE = 0x20;
/** SFTP status codes (draft-ietf-secsh-filexfer-02). */
const EOF = 1;
export const NO_SUCH_FILE = 2;
const PERMISSION_DENIED = 3;
/** One request may wait this long for its answer; a dead link is also caught by SSH keepalive. */
const REQUEST_TIMEOUT_MS = 30_000;
const CHUNK_BYTES = 64 * 1024;
const IN_FLIGHT = 32;
/** Reads of the local file for put(): a block feeds 16 writes. */
const READ_BLOCK_BYTES = 16 * CHUNK_BYTES;

/**
 * IN_FLIGHT workers at once, each taking the next item and handling it until there is none.
 * After one failure the others stop: the transfer is lost anyway, and with a full disk or a
 * dead link each remaining request could only fail too. The first error is the one thrown.
 */
async function pipelined<T>(take: () => Promise<T | null> | T | null, handle: (item: T) => Promise<void>): Promise<void> {
  let failed = false;
  const worker = async () => {
    for (let item = await take(); item !== null && !failed; item = await take()) await handle(item);
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, () => worker().catch((err: unknown) => {
    failed = true;
    throw err;
  })));
}

export class SftpSession {
  /** Why the channel ended, once it has; every request fails with it from then on. */
  private endedWith: ConnectError | null = null;
  /** Rejecters of the requests waiting for an answer. */
  private readonly pending = new Set<(err: ConnectError) => void>();
  private protocolError: string | undefined;

  /**
   * `connectionLost`: why the SSH connection broke (null while it is up), so an SFTP channel
   * that ended with it reports the connection's error (SSH_DISCONNECTED), not a stalled request.
   */
  constructor(readonly raw: SFTPWrapper, private readonly label: string, private readonly connectionLost: () => ConnectError | null = () => null) {
    const ended = () => {
      this.endedWith ??= this.whyEnded();
      for (const reject of this.pending) reject(this.endedWith);
      this.pending.clear();
    };
    raw.once('end', ended);
    raw.once('close', ended);
    // A protocol error ends the channel too (ssh2 destroys it): said when the requests fail.
    raw.on('error', (err: Error) => (this.protocolError ??= err.message));
  }

  /** size and kind of `file`; null when it does not exist. */
  async stat(file: string): Promise<{ size: number; isFile: boolean; isDirectory: boolean } | null> {
    try {
      const st = await this.call<Stats>(`stat ${file}`, (cb) => this.raw.stat(file, cb));
      return { size: st.size, isFile: st.isFile(), isDirectory: st.isDirectory() };
    } catch (err) {
      if (statusOf(err) === NO_SUCH_FILE) return null;
      throw err;
    }
  }

  /**
   * The entries of `dir` (not . and ..): name, size, kind and mtime (seconds, the board's
   * clock). The kind is the entry's own (OpenSSH's sftp-server lstats): a symbolic link is
   * neither a file nor a folder.
   */
  async list(dir: string): Promise<{ name: string; size: number; isFile: boolean; isDirectory: boolean; mtime: number }[]> {
    const entries = await this.call<FileEntryWithStats[]>(`list ${dir}`, (cb) => this.raw.readdir(dir, cb));
    return entries
      .filter((e) => e.filename !== '.' && e.filename !== '..')
      .map((e) => ({ name: e.filename, size: e.attrs.size, isFile: e.attrs.isFile(), isDirectory: e.attrs.isDirectory(), mtime: e.attrs.mtime }));
  }

  /**
   * `rm -rf dir` over SFTP: its entries removed (folders' contents first, the rest at once; a
   * symbolic link is removed, never followed), then the folder. A few round trips for a run
   * folder, where a command through the board's login shell costs its startup files.
   */
  async removeTree(dir: string): Promise<void> {
    const entries = await this.list(dir);
    await Promise.all(entries.map((e) => (e.isDirectory ? this.removeTree(`${dir}/${e.name}`) : this.unlink(`${dir}/${e.name}`))));
    await this.call(`remove folder ${dir}`, (cb) => this.raw.rmdir(dir, cb));
  }

  realpath(file: string): Promise<string> {
    return this.call<string>(`resolve ${file}`, (cb) => this.raw.realpath(file, cb));
  }

  /** `mkdir -p`; the folders it makes get `mode` (folders already there keep theirs). */
  async mkdirp(dir: string, mode = 0o755): Promise<void> {
    const st = await this.stat(dir);
    if (st?.isDirectory) return;
    if (st) throw this.failure(`create folder ${dir}`, new Error('a file of that name is in the way'));
    const parent = path.posix.dirname(dir);
    if (parent !== dir) await this.mkdirp(parent, mode);
    try {
      await this.call(`create folder ${dir}`, (cb) => this.raw.mkdir(dir, { mode }, cb));
    } catch (err) {
      if (!(await this.stat(dir))?.isDirectory) throw err; // someone else made it meanwhile: fine
    }
  }

  chmod(file: string, mode: number): Promise<void> {
    return this.call(`chmod ${file}`, (cb) => this.raw.chmod(file, mode, cb));
  }

  /** Sets `file`'s access and modification times to `seconds` (since the epoch, the board's clock). */
  touch(file: string, seconds: number): Promise<void> {
    return this.call(`set the time of ${file}`, (cb) => this.raw.utimes(file, seconds, seconds, cb));
  }

  /** Removes `file`; a missing file is not an error. */
  async unlink(file: string): Promise<void> {
    try {
      await this.call(`remove ${file}`, (cb) => this.raw.unlink(file, cb));
    } catch (err) {
      if (statusOf(err) !== NO_SUCH_FILE) throw err;
    }
  }

  /** Renames `from` over `to`, replacing it (posix-rename@openssh.com when offered). */
  async rename(from: string, to: string): Promise<void> {
    try {
      await this.call(`rename ${from} to ${to}`, (cb) => this.raw.ext_openssh_rename(from, to, cb));
    } catch (err) {
      // ssh2: "Server does not support this extended request" (no posix-rename@openssh.com).
      if (!/not support/i.test((err as Error).message)) throw err;
      // Plain SFTP rename refuses to replace: remove the target first (not atomic, but rare).
      await this.unlink(to);
      await this.call(`rename ${from} to ${to}`, (cb) => this.raw.rename(from, to, cb));
    }
  }

  /** A small file's text; null when it does not exist. */
  async readText(file: string): Promise<string | null> {
    try {
      const data = await this.call<Buffer>(`read ${file}`, (cb) => this.raw.readFile(file, cb));
      return data.toString('utf8');
    } catch (err) {
      if (statusOf(err) === NO_SUCH_FILE) return null;
      throw err;
    }
  }

  /** Writes a small file through a temporary name, so a reader never sees half of it. */
  async writeTextAtomic(file: string, text: string): Promise<void> {
    const tmp = tempNameFor(file);
    try {
      await this.call(`write ${tmp}`, (cb) => this.raw.writeFile(tmp, text, cb));
      await this.rename(tmp, file);
    } catch (err) {
      await this.unlink(tmp).catch(() => undefined);
      throw err;
    }
  }

  /** Copies a local file to `remote` via a temporary name beside it, then renames it into place. */
  async uploadAtomic(local: string, remote: string, opts: TransferOptions & { mode?: number } = {}): Promise<void> {
    const tmp = tempNameFor(remote);
    try {
      await this.put(local, tmp, { ...opts, start: 0 });
      if (opts.mode !== undefined) await this.chmod(tmp, opts.mode);
      await this.rename(tmp, remote);
    } catch (err) {
      await this.unlink(tmp).catch(() => undefined);
      throw err;
    }
  }

  /**
   * Writes the local file into `remote` from byte `start` on (what is before it is kept: a
   * resumed upload), truncating nothing. Returns the number of bytes sent. `hash`, when given,
   * is fed the bytes sent, in order (the local file is read in order; writes overlap).
   * `remote` must not exist when `start` is 0 (it is created exclusively: a file someone else
   * writes is never truncated), unless `existing` says it is ours to write into. `signal`
   * stops the transfer (rejecting with its reason).
   */
  async put(local: string, remote: string, opts: TransferOptions & { start: number; existing?: boolean; mode?: number; hash?: Hash; signal?: AbortSignal }): Promise<number> {
    let fd: fsp.FileHandle;
    try {
      fd = await fsp.open(local, 'r');
    } catch (err) {
      throw fileSystemError(local, err);
    }
    try {
      const size = (await fd.stat()).size;
      const flags = opts.start > 0 || opts.existing ? 'r+' : OPEN_WRITE | OPEN_CREATE | OPEN_EXCLUSIVE;
      const handle = await this.call<Buffer>(`open ${remote} for writing`, (cb) => this.raw.open(remote, flags, { mode: opts.mode ?? 0o644 }, cb));
      let next = opts.start;
      let done = opts.start;
      const pacer = sharedPacer();
      let reading: Promise<unknown> = Promise.resolve();
      // The file is read a block at a time, in order (so the hash sees the bytes in order), and
      // each write sends a slice of it: one trip to the thread pool per 16 writes, not per write.
      let block = Buffer.alloc(0);
      let blockStart = next;
      const readNext = (): Promise<{ position: number; buffer: Buffer } | null> => {
        const chunk = reading.then(async () => {
          if (next >= size) return null;
          if (next >= blockStart + block.length) {
            const length = Math.min(READ_BLOCK_BYTES, size - next);
            block = Buffer.allocUnsafe(length);
            blockStart = next;
            const { bytesRead } = await fd.read(block, 0, length, next);
            if (bytesRead !== length) throw fileSystemError(local, new Error(`changed while it was being sent (read ${bytesRead} of ${length} bytes at ${next})`));
            opts.hash?.update(block);
          }
          const position = next;
          const length = Math.min(CHUNK_BYTES, size - position, blockStart + block.length - position);
          next += length;
          return { position, buffer: block.subarray(position - blockStart, position - blockStart + length) };
        });
        reading = chunk.catch(() => undefined);
        return chunk;
      };
      try {
        await pipelined(readNext, async ({ position, buffer }) => {
          opts.signal?.throwIfAborted();
          await this.call(`write ${remote}`, (cb) => this.raw.write(handle, buffer, 0, buffer.length, position, cb));
          pacer.moved(buffer.length); // ssh2's packets are fresh buffers (shared/young-collection.ts)
          done += buffer.length;
          opts.onProgress?.(done, size);
        });
      } catch (err) {
        // The first error is the one to report: the handle is closed without waiting, and a
        // close that fails (or stalls on the same dead link) must not replace it.
        this.closeQuietly(remote, handle);
        throw err;
      }
      await this.call(`close ${remote}`, (cb) => this.raw.close(handle, cb));
      return size - opts.start;
    } finally {
      await fd.close();
    }
  }

  /**
   * Copies `remote` (of `size` bytes) to the local file `local` (created or replaced) and
   * returns its sha256 in hex.
   */
  async get(remote: string, local: string, size: number, opts: TransferOptions = {}): Promise<string> {
    const handle = await this.call<Buffer>(`open ${remote}`, (cb) => this.raw.open(remote, 'r', cb));
    let fd: fsp.FileHandle;
    try {
      fd = await fsp.open(local, 'w');
    } catch (err) {
      this.closeQuietly(remote, handle);
      throw fileSystemError(local, err);
    }
    try {
      let next = 0;
      let done = 0;
      const nextRange = () => {
        if (next >= size) return null;
        const position = next;
        const length = Math.min(CHUNK_BYTES, size - position);
        next += length;
        return { position, length };
      };
      await pipelined(nextRange, async ({ position, length }) => {
        const buffer = Buffer.allocUnsafe(length);
        for (let got = 0; got < length; ) {
          const n = await this.call<number>(`read ${remote}`, (cb) => this.raw.read(handle, buffer, got, length - got, position + got, cb));
          // The board's answer (end of file), so it carries SFTP's EOF status like the board's other answers.
          if (n === 0) throw this.failure(`read ${remote}`, Object.assign(new Error(`it ended at ${position + got} bytes, ${size} were expected`), { code: EOF }));
          got += n;
        }
        // A full or broken local disk is the user's to fix (exit 2), not a link problem.
        await fd.write(buffer, 0, length, position).catch((err: unknown) => {
          throw fileWriteError(local, err);
        });
        done += length;
        opts.onProgress?.(done, size);
      });
    } catch (err) {
      await fd.close();
      this.closeQuietly(remote, handle); // as in put(): the first error is the one reported
      throw err;
    }
    await fd.close();
    // A read-only handle: whether closing it succeeds changes nothing about what was read.
    await this.call(`close ${remote}`, (cb) => this.raw.close(handle, cb)).catch(() => undefined);
    return sha256OfFile(local).catch((err: unknown) => {
      throw fileSystemError(local, err);
    });
  }

  end(): void {
    this.raw.end();
  }

  /** Closes `handle` without waiting for the answer, on a path that already failed. */
  private closeQuietly(remote: string, handle: Buffer): void {
    this.call(`close ${remote}`, (cb) => this.raw.close(handle, cb)).catch(() => undefined);
  }

  /**
   * One SFTP request with a deadline; its error becomes a ConnectError naming what was tried.
   * On an ended channel it fails at once (see the class comment).
   */
  private call<T = void>(what: string, start: (cb: (err: Error | undefined | null, value: T) => void) => void): Promise<T> {
    if (this.endedWith) return Promise.reject(this.endedWith);
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => settle(new ConnectError('SSH_SFTP_TIMEOUT', `${this.label}: no SFTP answer to "${what}" within ${REQUEST_TIMEOUT_MS / 1000} s`, {
        hint: 'the board or the link to it stalled; connect again',
      })), REQUEST_TIMEOUT_MS);
      const settle = (err: ConnectError | null, value?: T) => {
        if (!this.pending.delete(settle)) return; // settled already
        clearTimeout(timer);
        if (err) reject(err);
        else resolve(value as T);
      };
      this.pending.add(settle);
      try {
        start((err, value) => {
          if (err) settle(this.failure(what, err));
          else settle(null, value);
        });
      } catch (err) {
        // ssh2 refuses some requests at once by throwing (an extension the server lacks): settle
        // now, or the timer would keep the process alive for REQUEST_TIMEOUT_MS.
        settle(this.failure(what, err as Error));
      }
    });
  }

  /** The error of an ended channel: the connection's loss when it broke with it. */
  private whyEnded(): ConnectError {
    return this.connectionLost() ?? new ConnectError('SSH_SFTP_ENDED', `${this.label}: the SFTP session ended${this.protocolError ? ` (${this.protocolError})` : ''}`, {
      hint: "the board's SFTP server stopped or the connection is closing; connect again",
    });
  }

  private failure(what: string, err: Error): ConnectError {
    // ssh2's answer to every request still waiting when the channel ends (its cleanupRequests):
    // not a problem with the path or the disk, but the channel (or the connection) going away.
    if (err.message === 'No response from server') return (this.endedWith ??= this.whyEnded());
    const status = statusOf(err);
    const hint = status === PERMISSION_DENIED
      ? 'check the permissions of that path on the board'
      : status === NO_SUCH_FILE
        ? 'check that the path exists on the board'
        : status === EOF
          ? 'the file on the board changed while it was read; run again'
          : 'check free space on the board (df -h) and that the path is writable';
    const error = new ConnectError('SSH_SFTP_FAILED', `${this.label}: cannot ${what} (${err.message})`, { hint, cause: err });
    (error as ConnectError & { sftpStatus?: number }).sftpStatus = status;
    return error;
  }
}

/** The SFTP status behind an error (ours or ssh2's); undefined when there is none. */
export function statusOf(err: unknown): number | undefined {
  const own = (err as { sftpStatus?: number } | undefined)?.sftpStatus;
  if (own !== undefined) return own;
  const code = (err as { code?: unknown } | undefined)?.code;
  return typeof code === 'number' ? code : undefined;
}

export function tempNameFor(file: string): string {
  return path.posix.join(path.posix.dirname(file), `.${path.posix.basename(file)}.${randomBytes(6).toString('hex')}.part`);
}

export async function sha256OfFile(file: string): Promise<string> {
  const hash = createHash('sha256');
  const fd = await fsp.open(file, 'r');
  try {
    for await (const chunk of fd.createReadStream()) hash.update(chunk as Buffer);
  } finally {
    await fd.close().catch(() => undefined);
  }
  return hash.digest('hex');
}
