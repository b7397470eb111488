import { createHash } from 'node:crypto';
import { existsSync, readFileSync, renameSync, statSync, utimesSync, writeFileSync, type Stats } from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDirs } from '../temp-dirs';
import { HashCache } from '../../host/deploy/hash-cache';

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

const dirs = tempDirs('axctl-hash-');
afterEach(dirs.cleanup);
const tempDir = dirs.make;

/**
 * Lets the kernel's file-time clock move on: it ticks coarsely (a few ms), and a rewrite in the
 * same tick as the first write would get the same ctime.
 */
const passClockTick = () => new Promise((resolve) => setTimeout(resolve, 20));

/**
 * A file holding `content` and a cache file whose entry for it is `entryOf(its stat)`: an
 * entry as some release, or some moment, would have written it.
 */
function fileWithEntry(content: string, entryOf: (st: Stats) => object) {
  const dir = tempDir();
  const file = path.join(dir, 'model.joint');
  const cacheFile = path.join(dir, 'hashes.json');
  writeFileSync(file, content);
  writeFileSync(cacheFile, JSON.stringify({ [file]: entryOf(statSync(file)) }));
  return { file, cacheFile };
}

/** Past the cache's racily-clean window (50 ms after a file's last change). */
const passRacyWindow = () => new Promise((resolve) => setTimeout(resolve, 80));

describe('HashCache', () => {
  it('does not believe an entry whose stat was taken in the same clock tick as the file changed (racily clean), and believes the next one', async () => {
    // The file could have changed again after that stat without its version changing: the
    // planted hash stands for those unseen bytes, and must not be answered.
    const { file, cacheFile } = fileWithEntry('first', (st) => ({ size: st.size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs, ino: st.ino, statAtMs: st.ctimeMs + 1, hash: sha('planted') }));
    const racy = new HashCache(cacheFile);
    expect((await racy.digest(file)).hash).toBe(sha('first'));
    await racy.save();
    // Hashed again past the window, the new entry is believed from then on.
    await passRacyWindow();
    const again = new HashCache(cacheFile);
    expect((await again.digest(file)).hash).toBe(sha('first'));
    await again.save();
    const entry = JSON.parse(readFileSync(cacheFile, 'utf8'))[file];
    expect(entry.statAtMs - Math.max(entry.mtimeMs, entry.ctimeMs)).toBeGreaterThanOrEqual(50);
    writeFileSync(cacheFile, JSON.stringify({ [file]: { ...entry, hash: sha('planted') } }));
    expect((await new HashCache(cacheFile).digest(file)).hash).toBe(sha('planted'));
  });

  it('believes an entry of an older release without the stat time, as before', async () => {
    const { file, cacheFile } = fileWithEntry('first', (st) => ({ size: st.size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs, ino: st.ino, hash: sha('planted') }));
    expect((await new HashCache(cacheFile).digest(file)).hash).toBe(sha('planted'));
  });

  it('hashes, persists, and answers from the cache while the file is untouched', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'model.joint');
    const cacheFile = path.join(dir, 'cache', 'hashes.json');
    writeFileSync(file, 'first');
    await passRacyWindow();
    const a = new HashCache(cacheFile);
    expect((await a.digest(file)).hash).toBe(sha('first'));
    await a.save();
    expect(existsSync(cacheFile)).toBe(true);

    // An entry that matches the file's stat is believed without reading the file: planting a
    // made-up hash under the same key shows the answer comes from the cache.
    const planted = sha('planted');
    const entry = JSON.parse(readFileSync(cacheFile, 'utf8'))[file];
    writeFileSync(cacheFile, JSON.stringify({ [file]: { ...entry, hash: planted } }));
    expect((await new HashCache(cacheFile).digest(file)).hash).toBe(planted);
  });

  it('hashes again a file rewritten with the same size and its mtime put back (cp -p, rsync -a, touch -r)', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'input.bin');
    const cacheFile = path.join(dir, 'hashes.json');
    writeFileSync(file, 'first');
    const fixed = new Date('2026-01-01T00:00:00Z');
    utimesSync(file, fixed, fixed);
    const a = new HashCache(cacheFile);
    expect((await a.digest(file)).hash).toBe(sha('first'));
    await a.save();

    await passClockTick();
    writeFileSync(file, 'FIRST');
    utimesSync(file, fixed, fixed);
    expect(statSync(file).mtimeMs).toBe(fixed.getTime());
    expect((await new HashCache(cacheFile).digest(file)).hash).toBe(sha('FIRST'));
  });

  it('hashes again a file replaced by a rename with the same size and mtime', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'model.joint');
    const cacheFile = path.join(dir, 'hashes.json');
    const fixed = new Date('2026-01-01T00:00:00Z');
    writeFileSync(file, 'first');
    utimesSync(file, fixed, fixed);
    const a = new HashCache(cacheFile);
    expect((await a.digest(file)).hash).toBe(sha('first'));
    await a.save();

    const next = path.join(dir, 'model.joint.tmp');
    writeFileSync(next, 'FIRST');
    utimesSync(next, fixed, fixed);
    renameSync(next, file);
    expect((await new HashCache(cacheFile).digest(file)).hash).toBe(sha('FIRST'));
  });

  it('treats an entry written before ctime and inode were recorded as a miss', async () => {
    const { file, cacheFile } = fileWithEntry('x', (st) => ({ size: st.size, mtimeMs: st.mtimeMs, hash: sha('stale') }));
    const st = statSync(file);
    const cache = new HashCache(cacheFile);
    expect((await cache.digest(file)).hash).toBe(sha('x'));
    await cache.save();
    expect(JSON.parse(readFileSync(cacheFile, 'utf8'))[file]).toMatchObject({ hash: sha('x'), ctimeMs: st.ctimeMs, ino: st.ino });
  });

  it('names the file when it is missing or a folder', async () => {
    const dir = tempDir();
    const cache = new HashCache(path.join(dir, 'c.json'));
    await expect(cache.digest(path.join(dir, 'nope'))).rejects.toMatchObject({ code: 'FILE_NOT_FOUND' });
    await expect(cache.digest(dir)).rejects.toMatchObject({ code: 'FILE_IS_FOLDER' });
  });

  it('says a device is not a regular file (not "a folder")', async () => {
    const cache = new HashCache(path.join(tempDir(), 'c.json'));
    await expect(cache.digest('/dev/null')).rejects.toMatchObject({ code: 'FILE_NOT_REGULAR', exitCode: 2, message: '/dev/null: is not a regular file (a device, socket or pipe)' });
  });

  it('rebuilds a corrupt cache instead of failing', async () => {
    const dir = tempDir();
    const cacheFile = path.join(dir, 'c.json');
    writeFileSync(cacheFile, '{not json');
    writeFileSync(path.join(dir, 'f'), 'x');
    expect((await new HashCache(cacheFile).digest(path.join(dir, 'f'))).hash).toBe(sha('x'));
  });

  it.each([
    ['null', () => 'null'],
    ['an array', () => '[]'],
    ['a number', () => '5'],
    ['a string', () => '"x"'],
    ['an entry that is null', (f: string) => JSON.stringify({ [f]: null })],
    ['an entry whose hash is a number', (f: string) => JSON.stringify({ [f]: { size: 1, mtimeMs: statSync(f).mtimeMs, hash: 5 } })],
    ['an entry that is a list', (f: string) => JSON.stringify({ [f]: [1, 2] })],
  ])('rebuilds a cache holding JSON of the wrong shape (%s), silently', async (_what, content) => {
    const dir = tempDir();
    const cacheFile = path.join(dir, 'c.json');
    const file = path.join(dir, 'f');
    writeFileSync(file, 'x');
    writeFileSync(cacheFile, content(file));
    const cache = new HashCache(cacheFile);
    expect(await cache.digest(file)).toMatchObject({ hash: sha('x'), size: 1 });
    await cache.save();
    expect(JSON.parse(readFileSync(cacheFile, 'utf8'))[file]).toMatchObject({ hash: sha('x'), size: 1 });
  });
});
