/** shared/errors.ts helpers: values cut for messages, and write failures in a write's words. */
import { describe, expect, it } from 'vitest';
import { fileWriteError, quoteForMessage, shortenForMessage } from '../../shared/errors';

describe('values in messages', () => {
  it('are cut to a sane length', () => {
    expect(quoteForMessage('<f4')).toBe("'<f4'");
    expect(quoteForMessage('['.repeat(100_000))).toBe(`'${'['.repeat(60)}...' (100000 characters)`);
    expect(shortenForMessage('9'.repeat(5000), 10)).toBe('9999999999... (5000 characters)');
  });
});

describe('fileWriteError', () => {
  it.each([
    ['ENOSPC', 'FILE_WRITE_FAILED', 'cannot be written: no space left on the device'],
    ['EROFS', 'FILE_WRITE_FAILED', 'cannot be written: the filesystem is read-only'],
    ['EACCES', 'FILE_NO_ACCESS', 'cannot be written: permission denied'],
    ['ENOENT', 'FILE_NOT_FOUND', 'cannot be written: its folder does not exist'],
    ['EIO', 'FILE_WRITE_FAILED', 'cannot be written: EIO: i/o error, write'],
  ])('an %s write is %s: "%s", with a hint', (errno, code, problem) => {
    const cause = Object.assign(new Error(`${errno}: i/o error, write`), { code: errno });
    const err = fileWriteError('out/a.bin', cause);
    expect(err).toMatchObject({ code, exitCode: 2, message: `out/a.bin: ${problem}` });
    expect(err.hint).toBeTruthy();
    expect(err.message).not.toMatch(/cannot be read/);
  });
});

