/**
 * What axctl lint is given, or what a config points it at, that is no file to read whole:
 * a FIFO (a read waits for a writer forever), a device (/dev/zero never ends), a file of
 * many MB. Each is one error at once, naming the file; lint never hangs or runs out of memory.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { lintConfig } from '../../host/lint';
import { MAX_TEXT_FILE_BYTES } from '../../shared/fs/regular-file';
import { tempDirs } from '../temp-dirs';
import { CONFIGS } from './helpers';

const dirs = tempDirs('axctl-lint-files-');
const fifos: string[] = [];
afterEach(() => {
  // Lets a read stuck on a FIFO (the bug guarded against) finish, so the worker can exit.
  for (const fifo of fifos.splice(0)) {
    try {
      fs.closeSync(fs.openSync(fifo, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK));
    } catch {
      // nobody reading
    }
  }
  dirs.cleanup();
});

function fifoIn(dir: string, name: string): string {
  const fifo = path.join(dir, name);
  execFileSync('mkfifo', [fifo]);
  fifos.push(fifo);
  return fifo;
}

function within<T>(ms: number, promise: Promise<T>): Promise<T> {
  return Promise.race([promise, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`lint still running after ${ms} ms`)), ms))]);
}

describe('axctl lint refuses what is no config file', () => {
  it('a FIFO: FILE_NOT_REGULAR at once', async () => {
    const fifo = fifoIn(dirs.make(), 'f.prototxt');
    await expect(within(5000, lintConfig(fifo))).rejects.toMatchObject({ code: 'FILE_NOT_REGULAR', exitCode: 2, message: `${fifo}: is not a regular file (a device, socket or pipe)` });
  });

  it.each(['/dev/zero', '/dev/urandom'])('%s: FILE_NOT_REGULAR at once', async (device) => {
    await expect(within(5000, lintConfig(device))).rejects.toMatchObject({ code: 'FILE_NOT_REGULAR', exitCode: 2 });
  });

  it('a prototxt over 64 MiB: FILE_TOO_LARGE, without reading it', async () => {
    const file = path.join(dirs.make(), 'huge.prototxt');
    fs.writeFileSync(file, '');
    fs.truncateSync(file, MAX_TEXT_FILE_BYTES + 1); // sparse: no 64 MiB written
    await expect(within(5000, lintConfig(file))).rejects.toMatchObject({
      code: 'FILE_TOO_LARGE',
      exitCode: 2,
      message: `${file}: is ${MAX_TEXT_FILE_BYTES + 1} bytes, too large for a prototxt config (limit 64 MiB)`,
    });
  });

  it('a calibration dataset that is a FIFO is a finding, not a hang', async () => {
    const dir = dirs.make();
    fifoIn(dir, 'calib.tar');
    const config = path.join(dir, 'config.prototxt');
    fs.writeFileSync(config, fs.readFileSync(path.join(CONFIGS, 'clean-bgr.prototxt'), 'utf8').replaceAll('../dataset/calib.tar', 'calib.tar'));
    const findings = await within(5000, lintConfig(config));
    expect(findings.map((f) => f.message)).toContain(
      `calibration dataset calib.tar (${path.join(dir, 'calib.tar')}) is not a tar archive (it is a device, socket or pipe, not a regular file)`,
    );
  });
});
