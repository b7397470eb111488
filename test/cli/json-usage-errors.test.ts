/**
 * With --json, a usage error found before the command runs (a repeated option, one without
 * its value, an unknown one) also comes as `{"error": ...}` on stdout, as errors a command
 * throws do: it used to print nothing there, so a script reading the JSON got an empty
 * document. Every such error says what to do: BAD_NUMBER had a null hint.
 */
import { describe, expect, it } from 'vitest';
import { axctlInTempDir } from './axctl-in-temp-dir';

interface JsonError {
  code: string;
  message: string;
  hint: string | null;
  exitCode: number;
}

/** Nothing listens on port 1: a command that got as far as connecting would exit 5. */
const VERIFY = ['verify', '--board', 'ws://127.0.0.1:1', '--model', 'm.joint', '--gt', 'gt'];

describe('usage errors with --json (compiled CLI)', () => {
  const axctl = axctlInTempDir('axctl-cli-json-usage-');

  it.each([
    ['verify, an option twice', ['verify', '--json', '--board', 'a', '--board', 'b'], 'OPTION_REPEATED'],
    ['verify, --timeout= empty', [...VERIFY, '--json', '--timeout='], 'OPTION_NEEDS_VALUE'],
    ['verify, an unknown option', [...VERIFY, '--json', '--bogus'], 'USAGE_ERROR'],
    ['verify, --json=true then an unknown option', [...VERIFY, '--json=true', '--bogus'], 'USAGE_ERROR'],
    ['verify, --json and a bad --json=foo', [...VERIFY, '--json', '--json=foo'], 'OPTION_TAKES_NO_VALUE'],
    ['verify, a negative --timeout', [...VERIFY, '--json', '--timeout', '-5'], 'BAD_NUMBER'],
    ['verify, --repeat 0', [...VERIFY, '--json', '--repeat', '0'], 'BAD_NUMBER'],
    ['deploy, an option twice', ['deploy', '--json', '--board', 'x', '--board', 'y'], 'OPTION_REPEATED'],
    ['an unknown command', ['bogus', '--json'], 'USAGE_ERROR'],
  ])('%s: the line on stderr, the same error as JSON on stdout, exit 2', async (_name, args, code) => {
    const run = await axctl(...args);
    const { error } = JSON.parse(run.stdout) as { error: JsonError };
    expect(error.code).toBe(code);
    expect(error.exitCode).toBe(2);
    expect(error.hint).toMatch(/\S/);
    expect(run.stderr).toBe(`axctl: ${error.message} (${error.hint})\n`);
    expect(run.code).toBe(2);
  });

  it.each([
    ['--json=foo alone: the switch is the error, no request for JSON', [...VERIFY, '--json=foo'], 'takes no value'],
    ['--json then --no-json', [...VERIFY, '--json', '--no-json', '--board', 'b'], 'more than once'],
    ['--json=false', [...VERIFY, '--json=false', '--bogus'], 'unknown option: --bogus'],
    ['--json only after --, a word', ['compare', '--', '--json'], 'needs 2 arguments'],
  ])('%s: the line on stderr only', async (_name, args, words) => {
    const run = await axctl(...args);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain(words);
    expect(run.stderr.split('\n')).toHaveLength(2);
    expect(run.code).toBe(2);
  });
});
