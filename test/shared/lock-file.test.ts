/**
 * The lock file of shared read-modify-writes (build records, the user's caches): a stale lock
 * (its owner dead, or too old whoever made it, or empty) is taken over by one process only,
 * and a holder removes only its own lock.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { LockTimeoutError, withLockFile } from '../../shared/fs/lock-file';
import { tempDirs } from '../temp-dirs';

const dirs = tempDirs('axctl-lock-');
afterEach(() => {
  vi.restoreAllMocks();
  dirs.cleanup();
});

const old = (file: string) => fs.utimesSync(file, new Date(Date.now() - 60_000), new Date(Date.now() - 60_000));

describe('withLockFile', () => {
  it('takes over an empty lock (its owner died writing it) and one of another host, once they are old', async () => {
    const dir = dirs.make();
    const empty = path.join(dir, 'empty.lock');
    fs.writeFileSync(empty, '');
    old(empty);
    expect(await withLockFile(empty, { timeoutMs: 500 }, async () => 'ran')).toBe('ran');
    const remote = path.join(dir, 'remote.lock');
    fs.writeFileSync(remote, '4242\nanother-host\n');
    old(remote);
    expect(await withLockFile(remote, { timeoutMs: 500 }, async () => 'ran')).toBe('ran');
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it('waits for a fresh lock of another host, then gives up', async () => {
    const lock = path.join(dirs.make(), 'fresh.lock');
    fs.writeFileSync(lock, '4242\nanother-host\n');
    await expect(withLockFile(lock, { timeoutMs: 200 }, async () => 'ran')).rejects.toBeInstanceOf(LockTimeoutError);
    expect(fs.existsSync(lock)).toBe(true);
  });

  it('lets one holder in at a time when two take over the same stale lock', async () => {
    const lock = path.join(dirs.make(), 'race.lock');
    fs.writeFileSync(lock, `999999\n${os.hostname()}\n`); // a killed axctl's lock
    // The first takeover is slow to remove the lock: the second arrives meanwhile.
    const unlink = fs.promises.unlink.bind(fs.promises);
    let calls = 0;
    vi.spyOn(fs.promises, 'unlink').mockImplementation(async (file) => {
      if (++calls === 1) await new Promise((r) => setTimeout(r, 100));
      return unlink(file);
    });
    let inside = 0;
    let most = 0;
    const work = async () => {
      most = Math.max(most, ++inside);
      await new Promise((r) => setTimeout(r, 300));
      inside--;
    };
    const a = withLockFile(lock, { timeoutMs: 3000 }, work);
    await new Promise((r) => setTimeout(r, 20));
    await Promise.all([a, withLockFile(lock, { timeoutMs: 3000 }, work)]);
    expect(most).toBe(1);
    expect(fs.existsSync(lock)).toBe(false);
  });

  it('never removes a live lock made after it judged the old one stale', async () => {
    const lock = path.join(dirs.make(), 'replaced.lock');
    fs.writeFileSync(lock, '');
    old(lock);
    // Between this process's look and its takeover, the stale lock is replaced by a live one
    // with the same (empty) text: only its inode tells them apart.
    const readFile = fs.promises.readFile.bind(fs.promises);
    let replaced = false;
    vi.spyOn(fs.promises, 'readFile').mockImplementation((async (file: fs.PathLike, ...rest: unknown[]) => {
      const text = await (readFile as (...a: unknown[]) => Promise<string>)(file, ...rest);
      if (!replaced && file === lock) {
        replaced = true;
        fs.rmSync(lock);
        fs.writeFileSync(lock, '');
      }
      return text;
    }) as typeof fs.promises.readFile);
    await expect(withLockFile(lock, { timeoutMs: 200 }, async () => 'ran')).rejects.toBeInstanceOf(LockTimeoutError);
    expect(fs.existsSync(lock)).toBe(true);
  });

  it('a stale lock it may not remove is an error at once, not a wait without end', async () => {
    const lock = path.join(dirs.make(), 'stuck.lock');
    fs.writeFileSync(lock, '');
    old(lock);
    vi.spyOn(fs.promises, 'unlink').mockRejectedValue(Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES' }));
    await expect(withLockFile(lock, { timeoutMs: 500 }, async () => 'ran')).rejects.toMatchObject({ code: 'EACCES' });
  });

  it('does not remove a lock that is no longer its own', async () => {
    const lock = path.join(dirs.make(), 'taken.lock');
    await withLockFile(lock, { timeoutMs: 500 }, async () => {
      fs.writeFileSync(lock, '4242\nanother-host\ntheirs\n'); // taken over as stale meanwhile
    });
    expect(fs.readFileSync(lock, 'utf8')).toBe('4242\nanother-host\ntheirs\n');
  });
});
