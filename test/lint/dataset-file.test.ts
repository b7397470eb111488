/** inspectDatasetFile: tar recognition by content and file counting by header hopping. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inspectDatasetFile } from '../../host/lint';
import { isTarHeader } from '../../host/lint/dataset-file';
import { makeTar } from './helpers';

let dir: string;
beforeAll(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'axctl-dataset-')); });
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const at = (name: string) => path.join(dir, name);

/** A V7 header (no ustar magic) for a file of `size` bytes, with a correct checksum. */
function v7Header(name: string, size: number): Buffer {
  const h = Buffer.alloc(512);
  h.write(name, 0, 'latin1');
  h.write('0000644\0', 100, 'latin1');
  h.write(`${size.toString(8).padStart(11, '0')}\0`, 124, 'latin1');
  h.write('0', 156, 'latin1');
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  return h;
}

describe('inspectDatasetFile', () => {
  it('counts the regular files of a tar, not its folders', async () => {
    const src = fs.mkdtempSync(path.join(os.tmpdir(), 'axctl-tarsrc-'));
    fs.mkdirSync(path.join(src, 'images'));
    for (let i = 0; i < 5; i++) fs.writeFileSync(path.join(src, 'images', `${i}.jpg`), 'x'.repeat(700 * i));
    const tar = await import('tar');
    tar.c({ sync: true, file: at('nested.tar'), cwd: src }, ['images']);
    fs.rmSync(src, { recursive: true, force: true });
    expect(await inspectDatasetFile(at('nested.tar'))).toEqual({ kind: 'tar', compressed: false, files: 5 });
  });

  it('recognises a gzip-compressed tar without counting it', async () => {
    makeTar(at('c.tar.gz'), 3, { gzip: true });
    expect(await inspectDatasetFile(at('c.tar.gz'))).toEqual({ kind: 'tar', compressed: true, files: null });
  });

  it('accepts an old V7 archive by its checksum and rejects a corrupted one', async () => {
    const body = Buffer.alloc(512, 0x41);
    fs.writeFileSync(at('v7.tar'), Buffer.concat([v7Header('a.jpg', 512), body, Buffer.alloc(1024)]));
    expect(await inspectDatasetFile(at('v7.tar'))).toEqual({ kind: 'tar', compressed: false, files: 1 });
    const bad = v7Header('a.jpg', 512);
    bad[0] ^= 1;
    expect(isTarHeader(bad)).toBe(false);
  });

  it('names what a non-tar file looks like', async () => {
    fs.writeFileSync(at('img.jpg'), Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 0]));
    fs.writeFileSync(at('data.gz'), gzipSync(Buffer.from('just text, no tar inside')));
    fs.writeFileSync(at('empty.tar'), '');
    expect(await inspectDatasetFile(at('img.jpg'))).toEqual({ kind: 'not-tar', looksLike: 'a JPEG image' });
    expect(await inspectDatasetFile(at('data.gz'))).toEqual({ kind: 'not-tar', looksLike: 'a gzip file that does not contain a tar archive' });
    expect(await inspectDatasetFile(at('empty.tar'))).toEqual({ kind: 'not-tar', looksLike: 'an empty file' });
  });

  it('tells a missing path from a folder', async () => {
    expect(await inspectDatasetFile(at('nope.tar'))).toEqual({ kind: 'missing' });
    expect(await inspectDatasetFile(dir)).toEqual({ kind: 'folder' });
  });
});
