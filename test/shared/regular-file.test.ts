/**
 * Reading local files whole and writing them: a FIFO, a device, a folder, a link to nowhere or
 * a file far too large is a BadFileError naming the file (exit 2), never a hang or a crash;
 * a failed write says "cannot be written" and why.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, constants, mkdirSync, openSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AxError, fileWriteError } from '../../shared/errors';
import { makeFolder, makeFolderSync, readJsonIfExists, writeFileAtomic } from '../../shared/fs/atomic';
import { readTextFile, statRegularFile } from '../../shared/fs/regular-file';
import { readInventoryFile } from '../../host/boards/inventory';
import { loadRunJointLog } from '../../host/compare/open-side';
import { loadVerifyReport } from '../../host/diagnose/board';
import { readBuildLogScores } from '../../host/diagnose/layers';
import { readState } from '../../host/state/axctl-state';
import { readBuildRecords } from '../../host/toolchain/build-records';
import { readTokenFile } from '../../shared/protocol/token';
import { tempDirs } from '../temp-dirs';

const dirs = tempDirs('axctl-files-');
const fifos: string[] = [];
afterEach(() => {
  // A reader stuck on a FIFO (the bug these tests guard against) gets its end of file here.
  for (const fifo of fifos.splice(0)) {
    try {
      closeSync(openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK));
    } catch {
      // no reader waiting
    }
  }
  dirs.cleanup();
});

function makeFifo(dir: string, name = 'config.prototxt'): string {
  const fifo = path.join(dir, name);
  execFileSync('mkfifo', [fifo]);
  fifos.push(fifo);
  return fifo;
}

/** `promise`, or a failure after `ms`: a test of a hang must not hang itself. */
function within<T>(ms: number, promise: Promise<T>): Promise<T> {
  return Promise.race([promise, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`still waiting after ${ms} ms`)), ms))]);
}

async function failure(promise: Promise<unknown>): Promise<AxError> {
  const err = await within(5000, promise).then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(AxError);
  return err as AxError;
}

describe('readTextFile', () => {
  it('reads a regular file whole', async () => {
    const file = path.join(dirs.make(), 'a.txt');
    writeFileSync(file, 'héllo\n'.repeat(50_000));
    expect(await readTextFile(file, { what: 'a log' })).toBe('héllo\n'.repeat(50_000));
  });

  it('refuses a FIFO at once instead of waiting for a writer forever', async () => {
    const fifo = makeFifo(dirs.make());
    const err = await failure(readTextFile(fifo, { what: 'a prototxt config' }));
    expect(err).toMatchObject({ code: 'FILE_NOT_REGULAR', exitCode: 2, message: `${fifo}: is not a regular file (a device, socket or pipe)` });
    expect(err.hint).toBeTruthy();
  });

  it.each(['/dev/zero', '/dev/urandom', '/dev/null'])('refuses %s (a device) without reading it', async (device) => {
    expect(await failure(readTextFile(device, { what: 'a prototxt config' }))).toMatchObject({ code: 'FILE_NOT_REGULAR', message: expect.stringMatching(/^\/dev\/\w+: is not a regular file/) });
  });

  it('refuses a folder, a missing file and a link to nowhere, naming them', async () => {
    const dir = dirs.make();
    expect(await failure(readTextFile(dir, { what: 'a log' }))).toMatchObject({ code: 'FILE_IS_FOLDER', message: `${dir}: is a folder, a file was expected` });
    expect(await failure(readTextFile(path.join(dir, 'nope'), { what: 'a log' }))).toMatchObject({ code: 'FILE_NOT_FOUND' });
    const link = path.join(dir, 'link');
    symlinkSync('/nonexistent/target', link);
    expect(await failure(readTextFile(link, { what: 'a log' }))).toMatchObject({
      code: 'FILE_NOT_FOUND',
      message: `${link}: is a symbolic link to /nonexistent/target, which does not exist`,
    });
  });

  it('refuses a file over the limit without reading it', async () => {
    const file = path.join(dirs.make(), 'big.prototxt');
    writeFileSync(file, 'x'.repeat(4097));
    const err = await failure(readTextFile(file, { what: 'a prototxt config', maxBytes: 4096 }));
    expect(err).toMatchObject({ code: 'FILE_TOO_LARGE', exitCode: 2, message: `${file}: is 4097 bytes, too large for a prototxt config (limit 4 KiB)` });
    expect(err.hint).toBeTruthy();
    writeFileSync(file, 'x'.repeat(4096));
    expect((await readTextFile(file, { what: 'a prototxt config', maxBytes: 4096 })).length).toBe(4096);
  });
});

describe('every reader of a whole text file', () => {
  it.each([
    ['axctl compare --log', (f: string) => loadRunJointLog(f)],
    ['diagnose --build-log', (f: string) => readBuildLogScores(f)],
    ['diagnose --verify-report', (f: string) => loadVerifyReport(f)],
    ['the board inventory', (f: string) => readInventoryFile(f)],
    ['a token file', (f: string) => readTokenFile(f)],
    ['.axctl/builds.json', (f: string) => readBuildRecords(f)],
  ])('%s refuses a FIFO at once', async (_what, read) => {
    const fifo = makeFifo(dirs.make(), 'file');
    expect(await failure(read(fifo))).toMatchObject({ code: 'FILE_NOT_REGULAR', exitCode: 2, message: `${fifo}: is not a regular file (a device, socket or pipe)` });
  });

  it('.axctl/state.json refuses a FIFO at once', async () => {
    const dir = dirs.make();
    mkdirSync(path.join(dir, '.axctl'));
    makeFifo(path.join(dir, '.axctl'), 'state.json');
    // The user named no such file: it is said to be a damaged record, not "name a regular file".
    expect(await failure(readState(dir))).toMatchObject({ code: 'STATE_CORRUPT', message: expect.stringMatching(/state\.json: is a device, socket or pipe, not the file holding the deploy record$/) });
  });
});

describe('statRegularFile', () => {
  it('says a device or a FIFO is not a regular file (not "a folder")', async () => {
    expect(await failure(statRegularFile('/dev/null'))).toMatchObject({ code: 'FILE_NOT_REGULAR', message: '/dev/null: is not a regular file (a device, socket or pipe)' });
    expect(await failure(statRegularFile(makeFifo(dirs.make(), 'data.bin')))).toMatchObject({ code: 'FILE_NOT_REGULAR' });
  });
});

describe('readJsonIfExists', () => {
  it('is the fallback for a missing file and refuses a FIFO instead of hanging', async () => {
    const dir = dirs.make();
    expect(await readJsonIfExists(path.join(dir, 'nope.json'), 'fallback')).toBe('fallback');
    expect(await failure(readJsonIfExists(makeFifo(dir, 'hashes.json'), {}))).toMatchObject({ code: 'FILE_NOT_REGULAR' });
  });
});

describe('writes', () => {
  it('a file in the way of a folder is "a part of its path is a file", not an errno', async () => {
    const dir = dirs.make();
    writeFileSync(path.join(dir, '.axctl'), '');
    const target = path.join(dir, '.axctl', 'state.json');
    const err = await writeFileAtomic(target, '{}').then(() => undefined, (e: unknown) => fileWriteError(target, e));
    expect(err).toMatchObject({ code: 'FILE_NOT_FOLDER', exitCode: 2, message: `${target}: cannot be written: a part of its path is a file, not a folder` });
  });

  it('makeFolder makes every missing folder and reports the step that failed', async () => {
    const dir = dirs.make();
    await makeFolder(path.join(dir, 'a', 'b', 'c'));
    await makeFolder(path.join(dir, 'a', 'b', 'c'));
    mkdirSync(path.join(dir, 'x'));
    writeFileSync(path.join(dir, 'x', 'file'), '');
    await expect(makeFolder(path.join(dir, 'x', 'file', 'sub'))).rejects.toMatchObject({ code: expect.stringMatching(/^(ENOTDIR|EEXIST)$/) });
    await expect(makeFolder(path.join(dir, 'x', 'file'))).rejects.toMatchObject({ code: 'EEXIST' });
    symlinkSync(path.join(dir, 'nowhere'), path.join(dir, 'dangling'));
    await expect(makeFolder(path.join(dir, 'dangling'))).rejects.toMatchObject({ code: 'ENOENT' });
    makeFolderSync(path.join(dir, 's', 't'));
    expect(statSync(path.join(dir, 's', 't')).isDirectory()).toBe(true);
  });

  it('makeFolder fails, not loops, where the kernel refuses a folder with ENOENT (under /proc; Node 20 recursive mkdir never returns there)', async () => {
    await expect(makeFolder('/proc/axctl-no-such/sub')).rejects.toMatchObject({ code: 'ENOENT' });
    expect(() => makeFolderSync('/proc/axctl-no-such')).toThrow(/ENOENT/);
    // Through the callers: a report file under /proc is refused with an error, not a hang.
    await expect(writeFileAtomic('/proc/axctl-no-such/report.xml', 'x')).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
