/**
 * yargs makes an array of any option given twice. The CLI refuses that for every option not
 * declared repeatable, before the command runs, with one line and exit 2; repeatable options
 * (--input, --via, --layer) still take several values.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAxctl, type CliRun } from '../built';

let tmp: string;

beforeAll(() => {
  tmp = mkdtempSync(path.join(tmpdir(), 'axctl-cli-repeat-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function axctl(...args: string[]): Promise<CliRun> {
  return runAxctl(tmp, args);
}

describe('an option given twice', () => {
  it.each([
    ['sim', ['sim', '--pulsar', 'a', '--pulsar', 'b', '--onnx', 'm.onnx', '--joint', 'm.joint', '--config', 'c', '--input', 'i', '--output-gt', 'gt'], 'pulsar'],
    ['build', ['build', '--onnx', 'a.onnx', '--onnx', 'b.onnx', '--config', 'c', '--output', 'o', '--output-config', 'oc'], 'onnx'],
    ['verify', ['verify', '--board', 'ws://127.0.0.1:1', '--board', 'ws://127.0.0.1:2'], 'board'],
    ['deploy (kebab-case option)', ['deploy', '--token-file', 'a', '--token-file', 'b', '--board', 'ws://127.0.0.1:1', '--model', 'm', '--gt', 'g'], 'token-file'],
    ['diagnose', ['diagnose', '--joint', 'a', '--joint', 'b'], 'joint'],
  ])('is refused by %s with one line and exit 2', async (_name, args, option) => {
    const run = await axctl(...args);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe(`axctl: --${option} was given more than once (give --${option} once)\n`);
  });

  it('is accepted for an option declared repeatable (--via), which reaches the command', async () => {
    // Two jump hosts are fine; the command then fails for its own reason (no gt folder here).
    const run = await axctl('verify', '--via', 'ssh://a', '--via', 'ssh://b', '--board', 'ws://127.0.0.1:1', '--model', 'm.joint', '--gt', 'gt');
    expect(run.stderr).not.toMatch(/more than once/);
    expect(run.stderr).toMatch(/^axctl: .*gt.*no such file/);
    expect(run.code).toBe(2);
  });
});
