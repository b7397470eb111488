/** requireFile: what build, sim and diagnose say about a path that is not the file they need. */
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { requireFile } from '../../host/toolchain/files';
import { tempDirs } from '../temp-dirs';

const dirs = tempDirs('axctl-files-');
afterEach(dirs.cleanup);

describe('requireFile', () => {
  it('a folder is "a folder"; a device or a FIFO is "not a regular file", not "a folder"', async () => {
    const dir = dirs.make();
    await expect(requireFile(dir, 'build config (--config)')).rejects.toMatchObject({ code: 'FILE_IS_FOLDER', message: `${dir}: is a folder, the build config (--config) must be a file` });
    for (const device of ['/dev/null', '/dev/zero']) {
      await expect(requireFile(device, 'build config (--config)')).rejects.toMatchObject({
        code: 'FILE_NOT_REGULAR',
        exitCode: 2,
        message: `${device}: is not a regular file (a device, socket or pipe), the build config (--config) must be a file`,
      });
    }
    const fifo = path.join(dir, 'config.prototxt');
    execFileSync('mkfifo', [fifo]);
    await expect(requireFile(fifo, 'output config (--config)')).rejects.toMatchObject({ code: 'FILE_NOT_REGULAR' });
  });
});
