/**
 * stdout or stderr that cannot be written. A reader that stops early (a closed pipe, EPIPE)
 * is no error: the rest of the output is dropped and the command exits with its own code.
 * Any other write error (here /dev/full: ENOSPC) is one line on stderr and exit 2, never
 * Node's "Unhandled 'error' event" stack trace with exit 1 (which reads as "mismatch").
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeNpy } from '../../shared/tensor';
import { CLI } from '../built';
import { tempDirs } from '../temp-dirs';

const dirs = tempDirs('axctl-cli-output-');
let tmp: string;

beforeAll(async () => {
  tmp = dirs.make();
  await writeNpy(path.join(tmp, 'a.npy'), 'float32', [4], Float32Array.from([1, 2, 3, 4]));
  await writeNpy(path.join(tmp, 'b.npy'), 'float32', [4], Float32Array.from([1, 2, 3, 5]));
});
afterAll(() => dirs.cleanup());

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * axctl with stdout (and stderr) as asked: 'full' is /dev/full, 'closed' a pipe whose reading
 * end is closed before axctl writes, 'pipe' a pipe that is read.
 */
function axctl(args: string[], out: 'full' | 'closed' | 'pipe', err: 'full' | 'pipe' = 'pipe'): Promise<Run> {
  const full = openSync('/dev/full', 'w');
  const child = spawn(process.execPath, [CLI, ...args], {
    cwd: tmp,
    env: { ...process.env, NO_COLOR: '1' },
    stdio: ['ignore', out === 'full' ? full : 'pipe', err === 'full' ? full : 'pipe'],
  });
  closeSync(full);
  let stdout = '';
  let stderr = '';
  if (out === 'closed') child.stdout!.destroy();
  else child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr })));
}

const NO_ROOM = 'axctl: cannot write the output: no space left on device (ENOSPC) (check where stdout and stderr go: a full disk, a closed terminal, a file that cannot grow)\n';

describe('stdout that cannot be written', () => {
  it.each([
    ['compare (text)', ['compare', 'a.npy', 'a.npy']],
    ['compare --json', ['compare', 'a.npy', 'b.npy', '--json']],
    ['inspect', ['inspect', 'a.npy']],
    ['--help', ['--help']],
    ['--version', ['--version']],
  ])('%s to a full disk: one line, exit 2', async (_name, args) => {
    const run = await axctl(args, 'full');
    expect(run.stderr).toBe(NO_ROOM);
    expect(run.code).toBe(2);
  });

  it('stderr to a full disk: exit 2 (nothing left to print on)', async () => {
    const run = await axctl(['compare', 'a.npy', 'missing.npy'], 'pipe', 'full');
    expect(run.code).toBe(2);
  });

  it.each([
    ['a match', ['compare', 'a.npy', 'a.npy'], 0],
    ['a mismatch', ['compare', 'a.npy', 'b.npy'], 1],
    ['inspect', ['inspect', 'a.npy'], 0],
  ])('closed early by its reader (| head): %s ends quietly with its own exit code', async (_name, args, code) => {
    const run = await axctl(args, 'closed');
    expect(run.stderr).toBe('');
    expect(run.code).toBe(code);
  });
});
