/** Progress: a bar only on a terminal, lines when asked for on a pipe, else silence. */
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createProgress, formatBytes, progressMode } from '../../host/deploy/progress';

describe('progress', () => {
  it('chooses by terminal and --progress', () => {
    expect(progressMode(undefined, { isTTY: true })).toBe('bar');
    expect(progressMode(undefined, { isTTY: false })).toBe('quiet');
    expect(progressMode(true, { isTTY: false })).toBe('lines');
    expect(progressMode(true, { isTTY: true })).toBe('bar');
    expect(progressMode(false, { isTTY: true })).toBe('quiet');
  });

  it('lines mode writes plain lines; quiet writes nothing', () => {
    const stream = new PassThrough();
    let out = '';
    stream.on('data', (d: Buffer) => (out += d.toString()));
    const lines = createProgress('lines', stream);
    lines.note('hashing m.joint');
    lines.startBytes('m.joint', 3 * 1024 * 1024);
    lines.updateBytes(3 * 1024 * 1024);
    lines.endBytes();
    expect(out).toMatch(/^axctl: hashing m\.joint\naxctl: uploading m\.joint \(3\.0 MiB\)\naxctl: uploaded 3\.0 MiB in \d+ ms\n$/);
    const quiet = new PassThrough();
    let nothing = '';
    quiet.on('data', (d: Buffer) => (nothing += d.toString()));
    const q = createProgress('quiet', quiet);
    q.note('x');
    q.startBytes('y', 1);
    q.endBytes();
    expect(nothing).toBe('');
  });

  it('formats sizes', () => {
    expect(formatBytes(976)).toBe('976 B');
    expect(formatBytes(3072)).toBe('3.0 KiB');
    expect(formatBytes(150 * 1024 * 1024)).toBe('150 MiB');
  });
});
