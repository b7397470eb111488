/**
 * Options that need a value and got none. yargs quietly turns `--html` (nothing after it, or
 * another option) into '', `--timeout` into no option at all and `--timeout ''` into 0, and
 * `--json=foo` into false: a CI job asking for `--junit` would pass without a report. Every
 * command refuses these before it runs, with one line and exit 2 (OPTION_NEEDS_VALUE,
 * OPTION_TAKES_NO_VALUE).
 */
import { isDecimal } from '../shared/decimal';
import { UsageError } from '../shared/errors';
import { rememberTypedNumbers } from './cli-numbers';
import { joinDashedValues as joinShared } from '../shared/dashed-values';

/** What yargs declared for the command being run (yargs' getOptions()). */
export interface DeclaredOptionTypes {
  string: string[];
  number: string[];
  boolean: string[];
  key: Record<string, unknown>;
  alias: Record<string, string[]>;
}

/** A negative number as yargs-parser takes it for an option's value (`--timeout -5`). */
const NEGATIVE_NUMBER = /^-([0-9]+(\.[0-9]+)?|\.[0-9]+)$/;

/** Negative and '-.5'-like values joined to their option (shared/dashed-values.ts); yargs' `--no-x` switches take none. */
export function joinDashedValues(tokens: readonly string[]): string[] {
  return joinShared(tokens, (name) => !name.startsWith('no-'));
}

/**
 * Refuses an option that takes a value (string or number) given without one: nothing after
 * it, another option after it, or a blank value (`--junit ''`, `--timeout=`); and a switch
 * (boolean) given a value other than true or false (`--json=foo`). Looks at the command line
 * as typed, since the parsed values cannot tell `--timeout ''` from `--timeout 0`.
 */
export function refuseOptionsWithoutValue(args: Record<string, unknown>, tokens: readonly string[], declared: DeclaredOptionTypes): void {
  for (const { flag, key, inline, next } of declaredOptionTokens(tokens, declared, /^--([^=]+)(?:=([\s\S]*))?$/)) {
    if (declared.boolean.includes(key)) {
      if (inline !== undefined && !/^(true|false)$/.test(inline)) {
        throw new UsageError('OPTION_TAKES_NO_VALUE', `${flag} takes no value, got ${flag}=${inline}`, { hint: `write ${flag} alone, or --no-${key} to turn it off` });
      }
      continue;
    }
    if (!declared.string.includes(key) && !declared.number.includes(key)) continue;
    const value = inline ?? next;
    const noValue = value === undefined || value.trim() === '' || (inline === undefined && value.startsWith('-') && !NEGATIVE_NUMBER.test(value));
    if (noValue || hasBlankValue(args[key])) {
      throw new UsageError('OPTION_NEEDS_VALUE', `${flag} needs a value`, { hint: `see ${commandOf(args)} --help` });
    }
  }
}

/**
 * Refuses a number option not given a plain decimal number, with the value as typed
 * (BAD_NUMBER): yargs turns `--atol abc` into NaN, and the command's own check then said
 * "atol NaN is not a number >= 0", echoing what nobody typed; and it reads `--timeout 0x10`
 * as 16, `0b11` as 3, `0o7` as 7 and ' 5' as 5, which `axagent --baud` and serial URLs
 * refuse. Every number option of every command is checked here. The text typed for each is
 * remembered, so the option's own range check echoes it (1e400, not "Infinity").
 */
export function refuseNonNumbers(args: Record<string, unknown>, tokens: readonly string[], declared: DeclaredOptionTypes): void {
  const typedByKey = new Map<string, string>();
  // --name VALUE, --name=VALUE, and the one-letter -q VALUE.
  for (const { flag, key, inline, next } of declaredOptionTokens(tokens, declared, /^--?([^=-][^=]*)(?:=([\s\S]*))?$/)) {
    if (!declared.number.includes(key)) continue;
    const typed = inline ?? next ?? '';
    if (isDecimal(typed)) {
      typedByKey.set(key, typed);
      continue;
    }
    // What Number() makes of it, sign apart (Number('-0x10') is NaN): the decimal to suggest,
    // when there is one (not for Infinity, nor for '+-5').
    const trimmed = typed.trim();
    const unsigned = trimmed.replace(/^[+-]/, '');
    const asNumber = unsigned === '' || /^[+-]/.test(unsigned) ? NaN : (trimmed.startsWith('-') ? -1 : 1) * Number(unsigned);
    const suggestion = Number.isFinite(asNumber)
      ? `write it ${isDecimal(trimmed) ? 'without spaces' : 'in decimal'}, e.g. ${flag} ${asNumber}` // 0x10 and ' 5' are numbers to Number(), not to axctl
      : `give a number; see ${commandOf(args)} --help`;
    throw new UsageError('BAD_NUMBER', `${flag} ${JSON.stringify(typed)} is not ${Number.isFinite(asNumber) ? 'a decimal number' : 'a number'}`, { hint: suggestion });
  }
  rememberTypedNumbers(typedByKey);
}

/**
 * The declared options on the command line as typed, up to `--`: `pattern` matches an option
 * token, its group 1 the name and group 2 an inline `=value`; `next` is the token after it.
 */
function* declaredOptionTokens(tokens: readonly string[], declared: DeclaredOptionTypes, pattern: RegExp): Generator<{ flag: string; key: string; inline: string | undefined; next: string | undefined }> {
  const keyOf = declaredKeys(declared);
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!;
    if (token === '--') return;
    const m = pattern.exec(token);
    const key = m && keyOf.get(m[1]!);
    if (!m || !key) continue;
    yield { flag: token.startsWith('--') ? `--${m[1]}` : `-${m[1]}`, key, inline: m[2], next: tokens[i + 1] };
  }
}

/** `axctl COMMAND`, for hints pointing at the command's --help. */
function commandOf(args: Record<string, unknown>): string {
  return args._ instanceof Array && typeof args._[0] === 'string' ? `axctl ${args._[0]}` : 'axctl';
}

/** A string option's parsed value that is blank: `--input a.jpg ''` fills an array with ''. */
function hasBlankValue(value: unknown): boolean {
  const values = Array.isArray(value) ? value : [value];
  return values.some((v) => typeof v === 'string' && v.trim() === '');
}

/** `agent-prefix` → `agentPrefix`: the second name yargs gives every dashed option. */
export function camelCaseOf(kebab: string): string {
  return kebab.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** Every name an option can be typed as (kebab-case, camelCase, aliases) → its declared key. */
function declaredKeys(declared: DeclaredOptionTypes): Map<string, string> {
  const names = new Map<string, string>();
  for (const key of Object.keys(declared.key)) {
    names.set(key, key);
    names.set(camelCaseOf(key), key);
  }
  for (const [name, aliases] of Object.entries(declared.alias)) {
    const group = [name, ...aliases];
    const key = group.find((n) => n in declared.key);
    if (key) for (const n of group) names.set(n, key);
  }
  return names;
}
