/** verify --save-outputs DIR: the folder is checked before the run; a failed copy names the file. */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { moveOutputsInto, prepareOutputFolder } from '../../host/verify/save-outputs';
import { tempDirs } from '../temp-dirs';

const dirs = tempDirs('axctl-save-');
afterEach(dirs.cleanup);

describe('prepareOutputFolder', () => {
  it('makes a missing folder (and its parents) and accepts an existing one', async () => {
    const dir = path.join(dirs.make(), 'a', 'b');
    await prepareOutputFolder(dir);
    expect((await fsp.stat(dir)).isDirectory()).toBe(true);
    await prepareOutputFolder(dir);
  });

  it('refuses a file, a link to nowhere and a path through a file, naming them (exit 2)', async () => {
    const dir = dirs.make();
    const file = path.join(dir, 'model.joint');
    await fsp.writeFile(file, 'x');
    await expect(prepareOutputFolder(file)).rejects.toMatchObject({ code: 'FILE_NOT_FOLDER', exitCode: 2, message: `${file}: is a file, --save-outputs needs a folder` });
    const link = path.join(dir, 'out');
    await fsp.symlink('/nonexistent/out', link);
    await expect(prepareOutputFolder(link)).rejects.toMatchObject({ code: 'FILE_NOT_FOUND', exitCode: 2, message: `${link}: is a symbolic link to /nonexistent/out, which does not exist` });
    const through = path.join(file, 'out');
    await expect(prepareOutputFolder(through)).rejects.toMatchObject({ code: 'FILE_NOT_FOLDER', exitCode: 2, message: `${through}: cannot be written: a part of its path is a file, not a folder` });
  });
});

describe('moveOutputsInto', () => {
  it('moves each output in as <name>.bin', async () => {
    const from = dirs.make();
    const to = dirs.make();
    await fsp.writeFile(path.join(from, 'head_cls.bin'), 'abc');
    await moveOutputsInto(to, new Map([['head/cls', path.join(from, 'head_cls.bin')]]));
    expect(await fsp.readFile(path.join(to, 'head_cls.bin'), 'utf8')).toBe('abc');
  });

  it('a write that fails says "cannot be written" naming the target, not "cannot be read"', async () => {
    const from = dirs.make();
    const to = dirs.make();
    await fsp.writeFile(path.join(from, 'out.bin'), 'abc');
    await fsp.mkdir(path.join(to, 'out.bin'));
    await expect(moveOutputsInto(to, new Map([['out', path.join(from, 'out.bin')]]))).rejects.toMatchObject({
      code: 'FILE_IS_FOLDER',
      exitCode: 2,
      message: `${path.join(to, 'out.bin')}: cannot be written: it is a folder`,
    });
  });
});
