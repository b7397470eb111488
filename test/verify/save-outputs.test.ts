/** verify --save-outputs DIR: the folder is checked before the run; a failed copy names the file. */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SAVED_OUTPUTS_LIST, moveOutputsInto, prepareOutputFolder } from '../../host/verify/save-outputs';
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

describe('a folder that holds files of someone else', () => {
  it('is refused before the run, naming the files, and they are left as they were', async () => {
    const dir = dirs.make();
    await fsp.writeFile(path.join(dir, 'out.bin'), 'my own');
    await expect(prepareOutputFolder(dir)).rejects.toMatchObject({
      code: 'SAVE_OUTPUTS_NOT_OURS',
      exitCode: 2,
      message: `${dir}: holds files --save-outputs did not write (out.bin); they could be replaced`,
    });
    expect(await fsp.readFile(path.join(dir, 'out.bin'), 'utf8')).toBe('my own');
  });

  it('a folder an earlier --save-outputs filled is used again, its files replaced', async () => {
    const from = dirs.make();
    const to = dirs.make();
    await fsp.writeFile(path.join(from, 'out.bin'), 'first');
    await moveOutputsInto(to, new Map([['out', path.join(from, 'out.bin')]]));
    expect((await fsp.readdir(to)).sort()).toEqual([SAVED_OUTPUTS_LIST, 'out.bin']);
    await prepareOutputFolder(to);
    await fsp.writeFile(path.join(from, 'out.bin'), 'second');
    await moveOutputsInto(to, new Map([['out', path.join(from, 'out.bin')]]));
    expect(await fsp.readFile(path.join(to, 'out.bin'), 'utf8')).toBe('second');
    // One more file of the user's beside them: refused again.
    await fsp.writeFile(path.join(to, 'notes.txt'), 'mine');
    await expect(prepareOutputFolder(to)).rejects.toMatchObject({ code: 'SAVE_OUTPUTS_NOT_OURS', message: expect.stringContaining('(notes.txt)') });
  });

  it('afterwards holds this run outputs only: an earlier run output of another name is removed', async () => {
    const from = dirs.make();
    const to = dirs.make();
    await fsp.writeFile(path.join(from, 'old.bin'), 'earlier model');
    await moveOutputsInto(to, new Map([['old', path.join(from, 'old.bin')]]));
    await fsp.writeFile(path.join(from, 'new.bin'), 'this model');
    await moveOutputsInto(to, new Map([['new', path.join(from, 'new.bin')]]));
    expect((await fsp.readdir(to)).sort()).toEqual([SAVED_OUTPUTS_LIST, 'new.bin']);
    expect(JSON.parse(await fsp.readFile(path.join(to, SAVED_OUTPUTS_LIST), 'utf8')).files).toEqual(['new.bin']);
  });

  it('a file put in the way during the run is not replaced either', async () => {
    const from = dirs.make();
    const to = dirs.make();
    await prepareOutputFolder(to);
    await fsp.writeFile(path.join(to, 'out.bin'), 'my own');
    await fsp.writeFile(path.join(from, 'out.bin'), 'board');
    await expect(moveOutputsInto(to, new Map([['out', path.join(from, 'out.bin')]]))).rejects.toMatchObject({ code: 'SAVE_OUTPUTS_NOT_OURS' });
    expect(await fsp.readFile(path.join(to, 'out.bin'), 'utf8')).toBe('my own');
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
    // Listed as an earlier run's output, so only the write itself can fail.
    await fsp.writeFile(path.join(to, SAVED_OUTPUTS_LIST), JSON.stringify({ files: ['out.bin'] }));
    await fsp.mkdir(path.join(to, 'out.bin'));
    await expect(moveOutputsInto(to, new Map([['out', path.join(from, 'out.bin')]]))).rejects.toMatchObject({
      code: 'FILE_IS_FOLDER',
      exitCode: 2,
      message: `${path.join(to, 'out.bin')}: cannot be written: it is a folder`,
    });
  });
});
