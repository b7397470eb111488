/**
 * yargs' own usage errors come out as axctl's one line with one hint: a bad --stage named
 * the option without dashes over two lines, bare `axctl` printed its hint twice, and
 * `axctl bogus` said only "Did you mean boards?". In English whatever the user's locale,
 * like the rest of axctl.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAxctl, type CliRun } from '../built';
import { tempDirs } from '../temp-dirs';

const dirs = tempDirs('axctl-cli-usage-');
let tmp: string;

beforeAll(() => {
  tmp = dirs.make();
});
afterAll(() => dirs.cleanup());

function axctl(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliRun> {
  return runAxctl(tmp, args, env);
}

describe('usage errors found by yargs', () => {
  it.each([
    ['no command', [], 'name a command', 'axctl'],
    ['an unknown command near a known one', ['bogus'], 'bogus is not a command; did you mean boards?', 'axctl'],
    ['an unknown command near none', ['zzzzqqq', '--json'], 'zzzzqqq is not a command', 'axctl'],
    ['a value not among the choices', ['compare', 'a.npy', 'b.npy', '--stage', 'foo'], '--stage "foo" is not one of board, compile', 'axctl compare'],
    ['a value not among the choices (subcommand)', ['agent', 'install', '--board', 'ssh://u@h', '--service', 'cron'], '--service "cron" is not one of auto, systemd, initd, none', 'axctl agent'],
    ['an extra word after a known command', ['verify', 'verify'], 'unknown argument: verify', 'axctl verify'],
    ['an unknown option: once, with its dashes (not also as yargs\' camel-case twin)', ['verify', '--model-path', 'm.joint'], 'unknown option: --model-path', 'axctl verify'],
    ['unknown options and a stray word', ['compare', 'a.npy', 'b.npy', 'c.npy', '--bogus', '-Z'], 'unknown arguments: --bogus, -Z, c.npy', 'axctl compare'],
    ['a missing argument', ['compare', 'a.npy'], 'axctl compare needs 2 arguments after it, got 1', 'axctl compare'],
    ['a missing subcommand', ['agent'], 'axctl agent needs 1 argument after it, got 0', 'axctl agent'],
  ])('%s: one line, one hint, exit 2', async (_name, args, message, help) => {
    const run = await axctl(args);
    // With --json the same error is on stdout too (code USAGE_ERROR).
    const json = { error: { code: 'USAGE_ERROR', message, hint: `see ${help} --help`, exitCode: 2 } };
    expect(run.stdout).toBe(args.includes('--json') ? `${JSON.stringify(json)}\n` : '');
    expect(run.stderr).toBe(`axctl: ${message} (see ${help} --help)\n`);
    expect(run.code).toBe(2);
  });

  it('are in English in any locale', async () => {
    const run = await axctl(['compare', 'a.npy', 'b.npy', '--stage', 'foo'], { LANG: 'de_DE.UTF-8', LC_ALL: 'de_DE.UTF-8' });
    expect(run.stderr).toBe('axctl: --stage "foo" is not one of board, compile (see axctl compare --help)\n');
  });
});
