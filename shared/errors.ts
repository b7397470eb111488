/**
 * Typed errors with stable codes.
 *
 * Every error a user can cause is an AxError: it carries a stable `code` (documented in the
 * README, safe to match on in scripts), the CLI exit code it maps to, and a message that says
 * what is wrong and, in `hint`, what to do next. The CLI prints `axctl: <message>` (plus the
 * hint) and exits with `exitCode`; it never prints a stack trace for an AxError.
 *
 * Subsystems define their own codes with the classes below (e.g. `new BadFileError(
 * 'NPY_TRUNCATED', file, 'header is cut short')`); codes are UPPER_SNAKE and never reused.
 */
import { ERRNO_TEXT } from './errno-text';

/** CLI exit codes. Documented in the README; never renumber. */
export const ExitCode = {
  /** Success: within tolerance / verdict `match`. */
  OK: 0,
  /** The comparison ran and found a difference: outside tolerance / verdict `mismatch`. */
  MISMATCH: 1,
  /** Usage error or a bad local file (unreadable, malformed, wrong size). */
  USAGE: 2,
  /** The board did not get the intended inputs (verdict `input-error`). */
  INPUT_ERROR: 3,
  /** run_joint crashed, asserted, timed out or did not dump an output (verdict `run-failed`). */
  RUN_FAILED: 4,
  /** Cannot connect to or authenticate with the board / agent, or protocol mismatch. */
  CONNECT: 5,
} as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

export interface AxErrorOptions {
  /** One line telling the user what to do next. */
  hint?: string;
  cause?: unknown;
}

export class AxError extends Error {
  readonly code: string;
  readonly exitCode: ExitCodeValue;
  readonly hint?: string;

  constructor(code: string, message: string, exitCode: ExitCodeValue, options: AxErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.exitCode = exitCode;
    if (options.hint !== undefined) this.hint = options.hint;
  }

  /** `message` plus the hint, as the CLI prints it. */
  describe(): string {
    return this.hint ? `${this.message} (${this.hint})` : this.message;
  }
}

/** Bad command-line usage: unknown option values, missing arguments, bad combinations. */
export class UsageError extends AxError {
  constructor(code: string, message: string, options?: AxErrorOptions) {
    super(code, message, ExitCode.USAGE, options);
  }
}

/** A local file (or folder) that cannot be used. The message names the file first. */
export class BadFileError extends AxError {
  readonly file: string;
  constructor(code: string, file: string, problem: string, options?: AxErrorOptions) {
    super(code, `${file}: ${problem}`, ExitCode.USAGE, options);
    this.file = file;
  }
}

/** Cannot reach or authenticate with the peer, or it speaks an incompatible protocol. */
export class ConnectError extends AxError {
  constructor(code: string, message: string, options?: AxErrorOptions) {
    super(code, message, ExitCode.CONNECT, options);
  }
}

/** A run on the board failed (crash, assertion, timeout, missing output). */
export class RunFailedError extends AxError {
  constructor(code: string, message: string, options?: AxErrorOptions) {
    super(code, message, ExitCode.RUN_FAILED, options);
  }
}

/** The board did not get the inputs it was meant to (run_joint fell back to random data). */
export class InputError extends AxError {
  constructor(code: string, message: string, options?: AxErrorOptions) {
    super(code, message, ExitCode.INPUT_ERROR, options);
  }
}

export function isAxError(err: unknown): err is AxError {
  return err instanceof AxError;
}

/**
 * `text` cut to `max` characters for a message: values come from files and command lines,
 * and a 100 KB value must not make a 100 KB error line.
 */
export function shortenForMessage(text: string, max = 60): string {
  return text.length <= max ? text : `${text.slice(0, max)}... (${text.length} characters)`;
}

/** `value` in single quotes, cut like shortenForMessage (the note on its length after the quote). */
export function quoteForMessage(value: string, max = 60): string {
  return value.length <= max ? `'${value}'` : `'${value.slice(0, max)}...' (${value.length} characters)`;
}

/** Node's errno errors (ENOENT, EACCES...) turned into a BadFileError naming the file. */
export function fileSystemError(file: string, err: unknown): AxError {
  if (isAxError(err)) return err;
  const errno = (err as NodeJS.ErrnoException | undefined)?.code;
  switch (errno) {
    case 'ENOENT':
      return new BadFileError('FILE_NOT_FOUND', file, 'no such file or folder', { hint: 'check the path' });
    case 'EACCES':
    case 'EPERM':
      return new BadFileError('FILE_NO_ACCESS', file, 'permission denied', { hint: 'check its permissions' });
    case 'EISDIR':
      return new BadFileError('FILE_IS_FOLDER', file, 'is a folder, a file was expected', { hint: 'name a file inside it' });
    case 'ENOTDIR':
      return new BadFileError('FILE_NOT_FOLDER', file, 'is not a folder', { hint: 'name a folder' });
    default:
      return new BadFileError('FILE_UNREADABLE', file, `cannot be read (${(err as Error)?.message ?? String(err)})`, { cause: err });
  }
}

/** Why a write failed and what to do, by errno; the message says "cannot be written: <why>". */
const WRITE_PROBLEMS: Record<string, { code: string; problem: string; hint: string }> = {
  ENOENT: { code: 'FILE_NOT_FOUND', problem: 'its folder does not exist', hint: 'check the path' },
  EACCES: { code: 'FILE_NO_ACCESS', problem: ERRNO_TEXT.EACCES, hint: 'choose a folder you can write to' },
  EPERM: { code: 'FILE_NO_ACCESS', problem: ERRNO_TEXT.EPERM, hint: 'choose a folder you can write to' },
  EISDIR: { code: 'FILE_IS_FOLDER', problem: ERRNO_TEXT.EISDIR, hint: 'name a file, or remove the folder in the way' },
  // mkdir of a folder on the path where a file is: EEXIST (recursive mkdir) or ENOTDIR.
  EEXIST: { code: 'FILE_NOT_FOLDER', problem: ERRNO_TEXT.ENOTDIR, hint: 'check the path, or move the file in the way' },
  ENOTDIR: { code: 'FILE_NOT_FOLDER', problem: ERRNO_TEXT.ENOTDIR, hint: 'check the path, or move the file in the way' },
  EROFS: { code: 'FILE_WRITE_FAILED', problem: ERRNO_TEXT.EROFS, hint: 'write elsewhere' },
  ENOSPC: { code: 'FILE_WRITE_FAILED', problem: ERRNO_TEXT.ENOSPC, hint: 'free some space or write elsewhere' },
  EDQUOT: { code: 'FILE_WRITE_FAILED', problem: ERRNO_TEXT.EDQUOT, hint: 'free some space or write elsewhere' },
  ENAMETOOLONG: { code: 'FILE_WRITE_FAILED', problem: ERRNO_TEXT.ENAMETOOLONG, hint: 'choose a shorter path' },
};

/** The reason and hint of a failed write, for callers that word the message themselves. */
export function writeProblem(err: unknown): { problem: string; hint: string } {
  const errno = (err as NodeJS.ErrnoException | undefined)?.code ?? '';
  const known = WRITE_PROBLEMS[errno];
  return known ?? { problem: (err as Error)?.message ?? String(err), hint: 'check free space and the permissions of its folder' };
}

/** Node's errno errors of a write turned into a BadFileError naming the file: "cannot be written: <why>". */
export function fileWriteError(file: string, err: unknown): AxError {
  if (isAxError(err)) return err;
  const errno = (err as NodeJS.ErrnoException | undefined)?.code ?? '';
  const { problem, hint } = writeProblem(err);
  return new BadFileError(WRITE_PROBLEMS[errno]?.code ?? 'FILE_WRITE_FAILED', file, `cannot be written: ${problem}`, { hint, cause: err });
}
