/**
 * An option that takes a value, given without one, is refused by every command before it
 * runs, with one line and exit 2: yargs alone made `--junit` an empty string (no report, exit
 * 0), dropped `--atol`, and read `--timeout ''` as 0. A switch given a value (`--json=foo`)
 * is refused too, and a value that starts with '-' and a digit (`--shape -1,10`) is the
 * option's value, judged by the option's own check.
 */
import { describe, expect, it } from 'vitest';
import { axctlInTempDir } from './axctl-in-temp-dir';

const axctl = axctlInTempDir('axctl-cli-values-');

/** Nothing listens on port 1: a command that got as far as connecting would exit 5. */
const VERIFY = ['verify', '--board', 'ws://127.0.0.1:1', '--model', 'm.joint', '--gt', 'gt'];
const DEPLOY = ['deploy', '--board', 'ws://127.0.0.1:1', '--model', 'm.joint', '--gt', 'gt'];
const COMPARE = ['compare', 'a.npy', 'b.npy'];

describe('an option without its value', () => {
  it.each([
    ['verify --html (last)', [...VERIFY, '--html'], 'html', 'verify'],
    ['verify --junit before another option', ['verify', '--junit', '--board', 'ws://127.0.0.1:1'], 'junit', 'verify'],
    ["verify --junit ''", [...VERIFY, '--junit', ''], 'junit', 'verify'],
    ['verify --junit=', [...VERIFY, '--junit='], 'junit', 'verify'],
    ['verify --save-outputs', [...VERIFY, '--save-outputs'], 'save-outputs', 'verify'],
    ['verify --timeout', [...VERIFY, '--timeout'], 'timeout', 'verify'],
    ["verify --timeout '' (was read as 0)", [...VERIFY, '--timeout', '', '--json'], 'timeout', 'verify'],
    ['verify --timeout=', [...VERIFY, '--timeout='], 'timeout', 'verify'],
    ['verify --repeat', [...VERIFY, '--repeat', '--warmup', '1'], 'repeat', 'verify'],
    ['verify --warmup', [...VERIFY, '--warmup'], 'warmup', 'verify'],
    ['verify --connect-timeout', [...VERIFY, '--connect-timeout'], 'connect-timeout', 'verify'],
    ["verify --via ''", [...VERIFY, '--via', 'ssh://a', '--via', ''], 'via', 'verify'],
    ['deploy --token-file', [...DEPLOY, '--token-file'], 'token-file', 'deploy'],
    ['diagnose --html', ['diagnose', '--config', 'c.prototxt', '--html'], 'html', 'diagnose'],
    ['compare --atol', [...COMPARE, '--atol'], 'atol', 'compare'],
    ['compare --q', [...COMPARE, '--q'], 'q', 'compare'],
    ['compare --shape', [...COMPARE, '--shape'], 'shape', 'compare'],
    ['boards --timeout', ['boards', '--timeout'], 'timeout', 'boards'],
    ['agent install --port', ['agent', 'install', '--board', 'ssh://u@127.0.0.1:1', '--port'], 'port', 'agent'],
  ])('%s: one line, exit 2', async (_name, args, option, command) => {
    const run = await axctl(...args);
    // With --json the same error is on stdout too.
    const json = { error: { code: 'OPTION_NEEDS_VALUE', message: `--${option} needs a value`, hint: `see axctl ${command} --help`, exitCode: 2 } };
    expect(run.stdout).toBe(args.includes('--json') ? `${JSON.stringify(json)}\n` : '');
    expect(run.stderr).toBe(`axctl: --${option} needs a value (see axctl ${command} --help)\n`);
    expect(run.code).toBe(2);
  });

  it('a switch given a value is refused (--json=foo used to print text)', async () => {
    const run = await axctl(...VERIFY, '--json=foo');
    expect(run.stderr).toBe('axctl: --json takes no value, got --json=foo (write --json alone, or --no-json to turn it off)\n');
    expect(run.code).toBe(2);
  });

  it('a value is still a value: a negative number reaches the option check, --json=false is a switch', async () => {
    const run = await axctl(...VERIFY, '--timeout', '-5', '--json=false');
    expect(run.stderr).toMatch(/^axctl: --timeout -5: expected /);
    expect(run.code).toBe(2);
  });

  it.each([
    ['compare --atol abc', [...COMPARE, '--atol', 'abc'], 'axctl: --atol "abc" is not a number (give a number; see axctl compare --help)\n'],
    ['compare -q=y', [...COMPARE, '-q=y'], 'axctl: -q "y" is not a number (give a number; see axctl compare --help)\n'],
    ['agent install --port http', ['agent', 'install', '--board', 'ssh://u@127.0.0.1:1', '--port', 'http'], 'axctl: --port "http" is not a number (give a number; see axctl agent --help)\n'],
    ['verify --timeout abc', [...VERIFY, '--timeout', 'abc'], 'axctl: --timeout "abc" is not a number (give a number; see axctl verify --help)\n'],
  ])('%s: BAD_NUMBER with the value as typed, not NaN (exit 2)', async (_name, args, expected) => {
    const run = await axctl(...args);
    expect(run.stderr).toBe(expected);
    expect(run.code).toBe(2);
  });

  it.each([
    ['--shape -1,10', ['--shape', '-1,10'], "axctl: --shape '-1,10' is not a list of whole numbers (write it like 1,3,224,224)\n"],
    ['--atol -1e-5', ['--atol', '-1e-5'], /^axctl: atol -1e-5 is not a number >= 0/],
  ])('%s is the option\'s value (not "Unknown argument: 1"), and its check says what is wrong', async (_name, args, expected) => {
    const run = await axctl(...COMPARE, ...args);
    if (typeof expected === 'string') expect(run.stderr).toBe(expected);
    else expect(run.stderr).toMatch(expected);
    expect(run.code).toBe(2);
  });

  it.each([
    ['verify --timeout 0x10 (ran for 16 s)', [...VERIFY, '--timeout', '0x10'], 'axctl: --timeout "0x10" is not a decimal number (write it in decimal, e.g. --timeout 16)\n'],
    ['verify --repeat 0x5', [...VERIFY, '--repeat', '0x5'], 'axctl: --repeat "0x5" is not a decimal number (write it in decimal, e.g. --repeat 5)\n'],
    ['verify --timeout=0b11', [...VERIFY, '--timeout=0b11'], 'axctl: --timeout "0b11" is not a decimal number (write it in decimal, e.g. --timeout 3)\n'],
    ['verify --warmup 0o7', [...VERIFY, '--warmup', '0o7'], 'axctl: --warmup "0o7" is not a decimal number (write it in decimal, e.g. --warmup 7)\n'],
    ["verify --timeout ' 5'", [...VERIFY, '--timeout', ' 5'], 'axctl: --timeout " 5" is not a decimal number (write it without spaces, e.g. --timeout 5)\n'],
    ['verify --timeout -0x10', [...VERIFY, '--timeout', '-0x10'], 'axctl: --timeout "-0x10" is not a decimal number (write it in decimal, e.g. --timeout -16)\n'],
    ['compare --atol 0x10', [...COMPARE, '--atol', '0x10'], 'axctl: --atol "0x10" is not a decimal number (write it in decimal, e.g. --atol 16)\n'],
    ['compare -q 0x100', [...COMPARE, '-q', '0x100'], 'axctl: -q "0x100" is not a decimal number (write it in decimal, e.g. -q 256)\n'],
    ['agent install --port 0x1b5f', ['agent', 'install', '--board', 'ssh://u@127.0.0.1:1', '--port', '0x1b5f'], 'axctl: --port "0x1b5f" is not a decimal number (write it in decimal, e.g. --port 7007)\n'],
    // No suggestion that is itself refused: Infinity, a second sign, spaces around hex.
    ['verify --timeout Infinity', [...VERIFY, '--timeout', 'Infinity'], 'axctl: --timeout "Infinity" is not a number (give a number; see axctl verify --help)\n'],
    ['compare --atol=+-5', [...COMPARE, '--atol=+-5'], 'axctl: --atol "+-5" is not a number (give a number; see axctl compare --help)\n'],
    ["compare --atol ' 0x10'", [...COMPARE, '--atol', ' 0x10'], 'axctl: --atol " 0x10" is not a decimal number (write it in decimal, e.g. --atol 16)\n'],
  ])('%s: refused as not decimal, as axagent --baud is (BAD_NUMBER, exit 2)', async (_name, args, expected) => {
    const run = await axctl(...args);
    expect(run.stderr).toBe(expected);
    expect(run.code).toBe(2);
  });

  it('decimal numbers with a fraction, an exponent or leading zeros still pass (to the missing gt folder)', async () => {
    const run = await axctl(...VERIFY, '--timeout', '1.5e1', '--repeat', '1e0', '--warmup', '007', '--connect-timeout', '.5');
    expect(run.stderr).toMatch(/^axctl: .*gt: no such file or folder/);
    expect(run.code).toBe(2);
  });

  it.each([
    ['--port 70000', ['--port', '70000'], 'axctl: --port 70000: expected a port number from 1 to 65535 (e.g. --port 7007, the default)\n'],
    ['--port 0', ['--port', '0'], 'axctl: --port 0: expected a port number from 1 to 65535 (e.g. --port 7007, the default)\n'],
    ['--port 7e5 (echoed as typed, not 700000)', ['--port', '7e5'], 'axctl: --port 7e5: expected a port number from 1 to 65535 (e.g. --port 7007, the default)\n'],
  ])('agent install %s: BAD_PORT says what to give (exit 2)', async (_name, args, expected) => {
    const run = await axctl('agent', 'install', '--board', 'ssh://u@127.0.0.1:1', ...args);
    expect(run.stderr).toBe(expected);
    expect(run.code).toBe(2);
  });
});
