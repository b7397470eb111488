/**
 * Time options are checked, upper bound included, before any network use: a --timeout above
 * the agent's one-day run limit used to connect first and then fail with the agent's
 * "timeoutMs must be a whole number from 1 to 86400000", and a --connect-timeout past Node's
 * timer limit (2^31-1 ms) printed a TimeoutOverflowWarning and gave up at once (exit 5).
 */
import { describe, expect, it } from 'vitest';
import { countOption, MAX_SECONDS, secondsOption, TIMER_MAX_SECONDS } from '../../host/cli-numbers';
import { axctlInTempDir } from './axctl-in-temp-dir';

describe('secondsOption and countOption', () => {
  it('turn seconds into milliseconds within bounds', () => {
    expect(secondsOption('timeout', 1.5)).toBe(1500);
    expect(secondsOption('timeout', undefined)).toBeUndefined();
    expect(secondsOption('timeout', MAX_SECONDS)).toBe(86_400_000);
    expect(secondsOption('timeout', TIMER_MAX_SECONDS, { max: TIMER_MAX_SECONDS })).toBeLessThanOrEqual(2 ** 31 - 1);
  });

  it('refuse what is below 1 ms, or above the limit, by the option name and in seconds', () => {
    // Timers count whole milliseconds: 0.0001 s would run as 1 ms and be reported as 0.001 s.
    expect(() => secondsOption('timeout', 0.0001)).toThrow(/^--timeout 0\.0001: expected a number of seconds from 0\.001 \(1 ms\) to 86400 \(a day\)$/);
    expect(secondsOption('timeout', 0.001)).toBe(1);
    expect(() => secondsOption('timeout', 0)).toThrow(/^--timeout 0: expected a number of seconds from 0\.001 \(1 ms\) to 86400 \(a day\)$/);
    expect(() => secondsOption('timeout', 86_400.5)).toThrow(/^--timeout 86400\.5: expected a number of seconds from 0\.001 \(1 ms\) to 86400 \(a day\)$/);
    expect(() => secondsOption('timeout', 1e20)).toThrow(/^--timeout 100000000000000000000: expected /);
    expect(() => secondsOption('timeout', 3e6, { max: TIMER_MAX_SECONDS })).toThrow(/to 2147483 \(about 25 days\)$/);
    expect(() => secondsOption('check-timeout', 1e9, { code: 'BAD_TIMEOUT' })).toThrow(expect.objectContaining({ code: 'BAD_TIMEOUT', exitCode: 2 }));
    expect(() => secondsOption('timeout', 1e9)).toThrow(expect.objectContaining({ code: 'BAD_NUMBER', exitCode: 2 }));
    // What yargs makes of `--timeout abc`: the message must not say "NaN".
    expect(() => secondsOption('timeout', NaN)).toThrow(/^--timeout is not a number: expected a number of seconds from 0\.001 \(1 ms\) to 86400 \(a day\)$/);
    // Each says what to give instead, the (what to do) of every error line.
    expect(() => secondsOption('timeout', NaN)).toThrow(expect.objectContaining({ hint: 'e.g. --timeout 30' }));
    expect(() => secondsOption('connect-timeout', -5)).toThrow(expect.objectContaining({ hint: 'e.g. --connect-timeout 30' }));
  });

  it('counts are whole numbers within bounds', () => {
    expect(() => countOption('repeat', NaN, 1, 10)).toThrow(/^--repeat is not a number: expected a whole number from 1 to 10$/);
    expect(countOption('repeat', 3, 1, 10)).toBe(3);
    expect(() => countOption('repeat', 0, 1, 10)).toThrow(/--repeat 0: expected a whole number from 1 to 10/);
    expect(() => countOption('repeat', 2.5, 1, 10)).toThrow(/whole number/);
    expect(() => countOption('repeat', 0, 1, 100)).toThrow(expect.objectContaining({ hint: 'e.g. --repeat 10' }));
    expect(() => countOption('repeat', 0, 1, 3)).toThrow(expect.objectContaining({ hint: 'e.g. --repeat 3' }));
  });
});

describe('every command with a time option (compiled CLI)', () => {
  const axctl = axctlInTempDir('axctl-cli-time-');

  // Nothing listens on port 1: a command that got as far as connecting would exit 5.
  const board = ['--board', 'ws://127.0.0.1:1', '--model', 'm.joint', '--gt', 'gt'];
  const day = 'expected a number of seconds from 0.001 (1 ms) to 86400 (a day)';
  const timer = 'expected a number of seconds from 0.001 (1 ms) to 2147483 (about 25 days)';
  it.each([
    ['verify --connect-timeout 3000000', ['verify', ...board, '--connect-timeout', '3000000'], `--connect-timeout 3000000: ${day}`],
    ['verify --connect-timeout 1e20', ['verify', ...board, '--connect-timeout', '1e20'], `--connect-timeout 1e20: ${day}`],
    ['verify --timeout 100000', ['verify', ...board, '--timeout', '100000'], `--timeout 100000: ${day}`],
    ['verify --timeout 86400.5', ['verify', ...board, '--timeout', '86400.5'], `--timeout 86400.5: ${day}`],
    ['verify --timeout 0.0001', ['verify', ...board, '--timeout', '0.0001'], `--timeout 0.0001: ${day}`],
    ['deploy --connect-timeout 1e20', ['deploy', ...board, '--connect-timeout', '1e20'], `--connect-timeout 1e20: ${day}`],
    ['diagnose --connect-timeout 1e20', ['diagnose', ...board, '--connect-timeout', '1e20'], `--connect-timeout 1e20: ${day}`],
    ["diagnose --timeout 3000000 (pulsar's)", ['diagnose', '--config', 'c.prototxt', '--timeout', '3000000'], `--timeout 3000000: ${timer}`],
    ['build --timeout 3000000', ['build', '--onnx', 'a.onnx', '--config', 'c', '--output', 'o', '--output-config', 'oc', '--timeout', '3000000'], `--timeout 3000000: ${timer}`],
    ['verify --timeout 1e400 (was echoed as Infinity)', ['verify', ...board, '--timeout', '1e400'], `--timeout 1e400: ${day}`],
    ['verify --timeout -0 (was echoed as 0)', ['verify', ...board, '--timeout', '-0'], `--timeout -0: ${day}`],
    ['verify --connect-timeout 0.00001e0', ['verify', ...board, '--connect-timeout', '0.00001e0'], `--connect-timeout 0.00001e0: ${day}`],
    ['boards --timeout 1e20', ['boards', '--timeout', '1e20'], `--timeout 1e20: ${day}`],
    ['agent status --connect-timeout 1e9', ['agent', 'status', '--board', 'ssh://u@127.0.0.1:1', '--connect-timeout', '1e9'], `--connect-timeout 1e9: ${day}`],
    ['agent status --check-timeout 1e9', ['agent', 'status', '--board', 'ssh://u@127.0.0.1:1', '--check-timeout', '1e9'], `--check-timeout 1e9: ${day}`],
  ])('%s: refused before connecting, one line, exit 2', async (_name, args, message) => {
    const run = await axctl(...args);
    expect(run.stderr).toBe(`axctl: ${message} (e.g. ${args[args.length - 2]} 30)\n`);
    expect(run.code).toBe(2);
  });
});

describe('number options are echoed as typed (compiled CLI)', () => {
  const axctl = axctlInTempDir('axctl-cli-typed-');
  it.each([
    ['compare --atol 1e400 (was "atol Infinity")', ['--atol', '1e400'], 'axctl: atol 1e400 is not a number >= 0 (give atol as a number >= 0, e.g. 1e-5)\n'],
    ['compare --min-cos 2e0', ['--min-cos', '2e0'], 'axctl: min-cos 2e0 is not a number between -1 and 1 (give min-cos as a number between -1 and 1, e.g. 0.98)\n'],
    ['compare -q=1e999 (was Q=Infinity)', ['-q=1e999'], /^axctl: quantization value Q=1e999 must be a finite number above 0 /],
  ])('%s', async (_name, args, expected) => {
    const run = await axctl('compare', 'a.npy', 'b.npy', ...args);
    if (typeof expected === 'string') expect(run.stderr).toBe(expected);
    else expect(run.stderr).toMatch(expected);
    expect(run.code).toBe(2);
  });

  it('sim --min-cos 1e400 (was "cosine threshold Infinity")', async () => {
    const run = await axctl('sim', '--onnx', 'a.onnx', '--joint', 'm.joint', '--config', 'c', '--input', 'i.bin', '--output-gt', 'gt', '--min-cos', '1e400');
    expect(run.stderr).toBe('axctl: --min-cos 1e400: the cosine threshold must be between -1 and 1 (the guide uses 0.98)\n');
    expect(run.code).toBe(2);
  });

  it('a count: verify --repeat 1e400 (was "Infinity")', async () => {
    const run = await axctl('verify', '--board', 'ws://127.0.0.1:1', '--model', 'm.joint', '--gt', 'gt', '--repeat', '1e400');
    expect(run.stderr).toBe('axctl: --repeat 1e400: expected a whole number from 1 to 100000 (e.g. --repeat 10)\n');
    expect(run.code).toBe(2);
  });
});
