/**
 * What every CLI command shares: turning errors into one line and an exit code.
 * A command handler returns its exit code; thrown AxErrors become `axctl: message (hint)`
 * on stderr with their documented exit code. Nothing a user did wrong prints a stack trace.
 */
import { ExitCode, UsageError, isAxError } from '../shared/errors';

/** Exit code for a bug in axctl itself (not documented as a user outcome). */
export const INTERNAL_ERROR_EXIT = 70;

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

/** Wraps a handler so its result or error sets process.exitCode. */
export function action<A>(fn: (argv: A) => Promise<number | void> | number | void): (argv: A) => Promise<void> {
  return async (argv: A) => {
    try {
      const code = await fn(argv);
      process.exitCode = code ?? ExitCode.OK;
    } catch (err) {
      process.exitCode = reportError(err);
    }
  };
}

/** A yargs instance as far as refuseRepeatedSingleOptions needs it. */
export interface DeclaredOptions {
  getOptions(): { array: string[] };
}

/**
 * yargs turns `--board a --board b` into an array for every option, so a command expecting one
 * string would get two and fail somewhere later, or use one silently. Options declared with
 * `array: true` (--input, --via, ...) may repeat; any other option given twice is a usage error.
 */
export function refuseRepeatedSingleOptions(argv: Record<string, unknown>, yargs: DeclaredOptions): void {
  const repeatable = new Set(yargs.getOptions().array);
  for (const [key, value] of Object.entries(argv)) {
    if (key === '_' || key === '$0' || !Array.isArray(value)) continue;
    const flag = key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
    if (repeatable.has(key) || repeatable.has(flag)) continue;
    throw new UsageError('OPTION_REPEATED', `--${flag} was given more than once`, { hint: `give --${flag} once` });
  }
}
