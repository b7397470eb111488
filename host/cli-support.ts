/**
 * What every CLI command shares: turning errors into one line and an exit code.
 * A command handler returns its exit code; thrown AxErrors become `axctl: message (hint)`
 * on stderr with their documented exit code. Nothing a user did wrong prints a stack trace.
 */
import { writeSync } from 'node:fs';
import { AxError, ExitCode, UsageError, isAxError } from '../shared/errors';
import { INTERRUPTED_EXIT } from './deploy/interrupt';

/** Exit code for a bug in axctl itself (not documented as a user outcome). */
export const INTERNAL_ERROR_EXIT = 70;

/** How long an interrupted command's leftovers may keep the process alive. */
const INTERRUPTED_LINGER_MS = 1000;

export function reportError(err: unknown, stream: NodeJS.WritableStream = process.stderr): number {
  if (isAxError(err)) {
    stream.write(`axctl: ${err.describe()}\n`);
    if (process.env.AXCTL_DEBUG && err.stack) stream.write(`${err.stack}\n`);
    return err.exitCode;
  }
  const message = err instanceof Error ? err.message : String(err);
  stream.write(`axctl: internal error: ${message} (set AXCTL_DEBUG=1 for details and please report it)\n`);
  if (process.env.AXCTL_DEBUG && err instanceof Error && err.stack) stream.write(`${err.stack}\n`);
  return INTERNAL_ERROR_EXIT;
}

/**
 * The one stderr line of verify (and of diagnose's board step, which runs verify) when the
 * verdict could not be noted in the folder's deploy record (VerifyOutcome.notRecorded): a
 * warning, not an error: the verdict is the job, the record only remembers it.
 */
export function warnNotRecorded(notRecorded: string | undefined, stream: NodeJS.WritableStream = process.stderr): void {
  if (notRecorded) stream.write(`axctl: warning: ${notRecorded}\n`);
}

/**
 * Wraps a handler so its result or error sets process.exitCode. With --json, an error that
 * ends the command before it printed anything is also printed on stdout as
 * `{"error": {"code", "message", "hint", "exitCode"}}`, so a script reading the JSON gets it.
 */
export function action<A>(fn: (argv: A) => Promise<number | void> | number | void): (argv: A) => Promise<void> {
  return async (argv: A) => {
    const printedBefore = stdoutWrites;
    try {
      const code = await fn(argv);
      process.exitCode = code ?? ExitCode.OK;
      // A CI job cancelled (SIGTERM) or timed out must still leave valid JSON behind.
      if (code === INTERRUPTED_EXIT && (argv as { json?: unknown }).json === true && stdoutWrites === printedBefore) {
        process.stdout.write(`${JSON.stringify({ error: INTERRUPTED_JSON })}\n`);
      }
      // Interrupted: the command stopped in order (run cancelled, what it had written kept).
      // Whatever is still open and not given up by the abort (a library's socket still
      // closing, a timer we missed) must not keep axctl alive until its own timeout.
      if (code === INTERRUPTED_EXIT) setTimeout(() => process.exit(INTERRUPTED_EXIT), INTERRUPTED_LINGER_MS).unref();
    } catch (err) {
      process.exitCode = reportError(err);
      if ((argv as { json?: unknown }).json === true && stdoutWrites === printedBefore) printJsonError(err);
    }
  };
}

/**
 * A usage error found before any command runs (yargs' fail(), the option checks): one line
 * on stderr, with --json also the JSON error on stdout as action() prints it, then exit.
 */
export function exitOnUsageError(err: unknown, tokens: readonly string[]): never {
  const code = reportError(err);
  if (jsonRequested(tokens)) printJsonError(err);
  process.exit(code);
}

/**
 * The command line asks for JSON: its last word on it before `--` is `--json` or
 * `--json=true`. yargs has not parsed it yet (or gave up), so the words are read; `--json=foo`
 * is no request but the error itself (OPTION_TAKES_NO_VALUE).
 */
export function jsonRequested(tokens: readonly string[]): boolean {
  let wanted = false;
  for (const token of tokens) {
    if (token === '--') break;
    if (token === '--json' || token === '--json=true') wanted = true;
    else if (token === '--no-json' || token === '--json=false') wanted = false;
  }
  return wanted;
}

/** What --json prints for a command stopped by Ctrl-C, SIGTERM or SIGHUP before its result. */
const INTERRUPTED_JSON = {
  code: 'INTERRUPTED',
  message: 'interrupted (Ctrl-C, SIGTERM or SIGHUP) before it finished; what it had started (a run on the board, pulsar) was stopped',
  hint: 'run it again',
  exitCode: INTERRUPTED_EXIT,
};

/** --json's answer to a signal that came before the command could handle it (interruptBeforeCommand). */
export function printInterruptedJson(): void {
  // Not after the command's own answer: stdout holds one JSON document.
  if (stdoutWrites === 0 && jsonRequested(process.argv.slice(2))) process.stdout.write(`${JSON.stringify({ error: INTERRUPTED_JSON })}\n`);
}

function printJsonError(err: unknown): void {
  process.stdout.write(`${JSON.stringify({ error: errorJson(err) })}\n`);
}

/** An error as --json prints it. */
export function errorJson(err: unknown): { code: string; message: string; hint: string | null; exitCode: number } {
  if (isAxError(err)) return { code: err.code, message: err.message, hint: err.hint ?? null, exitCode: err.exitCode };
  return { code: 'INTERNAL', message: err instanceof Error ? err.message : String(err), hint: 'set AXCTL_DEBUG=1 for details and please report it', exitCode: INTERNAL_ERROR_EXIT };
}

/** Writes to stdout so far (counted by handleOutputErrors): whether a command printed anything. */
let stdoutWrites = 0;

/**
 * stdout or stderr failing would otherwise reach the user as Node's "Unhandled 'error' event"
 * stack trace and exit 1, which scripts read as "mismatch". Installed once, for every command.
 * - EPIPE: the reader stopped early (`axctl verify | head -1`). Not an error: the stream is
 *   destroyed, so the rest of its output is dropped, and the command finishes (reports, the
 *   .axctl/ record) and exits with its own code, the verdict a pipeline with pipefail sees.
 * - Anything else (a full disk, an I/O error): the output is lost, so one line on stderr
 *   (if it still can be written) and exit 2 at once; a verdict nobody could read is no verdict.
 * It also counts stdout's writes, so action() knows whether a command printed anything.
 */
export function handleOutputErrors(): void {
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((...args: Parameters<typeof process.stdout.write>) => {
    stdoutWrites++;
    return write(...args);
  }) as typeof process.stdout.write;
  let reported = false;
  const fail = (err: NodeJS.ErrnoException): void => {
    if (reported || err.code === 'EPIPE') return;
    reported = true;
    try {
      writeSync(2, `axctl: ${outputWriteError(err).describe()}\n`);
    } catch {
      // stderr is the stream that failed: the exit code is all that is left to say it.
    }
    process.exitCode = ExitCode.USAGE;
  };
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') return;
      fail(err);
      process.exit(ExitCode.USAGE);
    });
  }
  // yargs ends --help and --version with process.exit(0) in the same tick as the write, before
  // the stream emits its error: look at what the streams recorded on the way out.
  process.on('exit', () => {
    for (const stream of [process.stdout, process.stderr]) {
      const err = (stream as { errored?: NodeJS.ErrnoException | null }).errored;
      if (err) fail(err);
    }
  });
}

/** `ENOSPC: no space left on device, write` → OUTPUT_WRITE_FAILED `... no space left on device (ENOSPC)`. */
export function outputWriteError(err: NodeJS.ErrnoException): AxError {
  const m = /^([A-Z0-9_]+): (.*?)(?:, write)?$/.exec(err.message);
  const reason = m ? `${m[2]} (${m[1]})` : err.message;
  return new UsageError('OUTPUT_WRITE_FAILED', `cannot write the output: ${reason}`, {
    hint: 'check where stdout and stderr go: a full disk, a closed terminal, a file that cannot grow',
  });
}

/**
 * yargs turns `--board a --board b` into an array for every option, so a command expecting one
 * string would get two and fail somewhere later, or use one silently. Options declared with
 * `array: true` (--input, --via, ...) may repeat; any other option given twice is a usage error.
 */
/** `declared`: what yargs declared for the command being run (its getOptions()). */
export function refuseRepeatedSingleOptions(argv: Record<string, unknown>, declared: { array: string[] }): void {
  const repeatable = new Set(declared.array);
  for (const [key, value] of Object.entries(argv)) {
    if (key === '_' || key === '$0' || !Array.isArray(value)) continue;
    const flag = key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
    if (repeatable.has(key) || repeatable.has(flag)) continue;
    throw new UsageError('OPTION_REPEATED', `--${flag} was given more than once`, { hint: `give --${flag} once` });
  }
}
