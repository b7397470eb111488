/**
 * Numbers from the command line (time limits in seconds, whole-number counts), checked by
 * the command before any file or network work, so a bad one is refused at once by the
 * option's own name, with its bounds, exit 2 (BAD_NUMBER, or the command's documented code).
 */
import { UsageError } from '../shared/errors';
import { RUN_LIMITS } from '../shared/run/request';

/**
 * The longest time option: a day, the longest run the agent accepts (RUN_LIMITS). Connecting,
 * pinging or checking a board never needs longer, and it keeps clear of Node's timer limit
 * (2^31-1 ms, ~24.8 days: a longer timer fires at once, with a TimeoutOverflowWarning), also
 * where a transport adds its own margin to the time given.
 */
export const MAX_SECONDS = RUN_LIMITS.maxTimeoutMs / 1000;

/** The longest a local process (pulsar) can be given: Node's timer limit, in whole seconds. */
export const TIMER_MAX_SECONDS = Math.floor((2 ** 31 - 1) / 1000);

export interface SecondsBounds {
  /** Largest accepted value in seconds [default: MAX_SECONDS]. */
  max?: number;
  /** Error code, for commands that documented their own [default: BAD_NUMBER]. */
  code?: string;
}

/**
 * The shortest time option: timers count whole milliseconds, so 0.0001 s would become 1 ms
 * and be reported as "within 0.001 s", a limit nobody asked for. Refused instead.
 */
export const MIN_SECONDS = 0.001;

/**
 * Number options as typed on the command line, by option name (set by the CLI before a command
 * runs): yargs hands commands numbers, and `--timeout 1e400` was echoed as "Infinity",
 * `--timeout -0` as "0" and `--connect-timeout 1e20` as "100000000000000000000".
 */
let typedNumbers = new Map<string, string>();

/** Records the number options' text as typed (cli-option-values.ts, once per command line). */
export function rememberTypedNumbers(typed: ReadonlyMap<string, string>): void {
  typedNumbers = new Map(typed);
}

/**
 * What to show for option `name`'s `value` in a message: the text typed for it when that is
 * what gave the value, else the value itself (a default, or a caller outside the CLI).
 */
export function asTyped(name: string, value: number): string {
  const typed = typedNumbers.get(name);
  return typed !== undefined && Number(typed) === value ? typed : String(value);
}

/** Seconds from an option to milliseconds; a UsageError unless from MIN_SECONDS to `max`. */
export function secondsOption(name: string, value: number | undefined, { max = MAX_SECONDS, code = 'BAD_NUMBER' }: SecondsBounds = {}): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < MIN_SECONDS || value > max) {
    const expected = `a number of seconds from ${MIN_SECONDS} (1 ms) to ${max} (${inDays(max)})`;
    // yargs turns a word into NaN: say what was expected rather than echo "NaN".
    throw new UsageError(code, Number.isNaN(value) ? `--${name} is not a number: expected ${expected}` : `--${name} ${asTyped(name, value)}: expected ${expected}`, {
      hint: `e.g. --${name} ${Math.min(30, max)}`,
    });
  }
  return Math.round(value * 1000);
}

/** A whole number option within [min, max]; UsageError BAD_NUMBER otherwise. */
export function countOption(name: string, value: number | undefined, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    const expected = `expected a whole number from ${min} to ${max}`;
    throw new UsageError('BAD_NUMBER', Number.isNaN(value) ? `--${name} is not a number: ${expected}` : `--${name} ${asTyped(name, value)}: ${expected}`, {
      hint: `e.g. --${name} ${Math.min(max, Math.max(min, 10))}`,
    });
  }
  return value;
}

/** 86400 → "a day", 2147483 → "about 25 days". */
function inDays(seconds: number): string {
  const days = seconds / 86_400;
  if (days === 1) return 'a day';
  return `${Number.isInteger(days) ? '' : 'about '}${Math.round(days)} days`;
}
