/**
 * BackgroundSync: an upload's fsyncs run off the acknowledgement path, one at a time, and a
 * failed one is never lost (the next write or the final flush throws it).
 */
import { describe, expect, it } from 'vitest';
import { BackgroundSync } from '../../agent/store/background-sync';

/** A sync function whose calls finish only when the test says so. */
function controlledSync() {
  const pending: { resolve: () => void; reject: (err: unknown) => void }[] = [];
  const sync = () =>
    new Promise<void>((resolve, reject) => {
      pending.push({ resolve, reject });
    });
  return { sync, pending };
}

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('BackgroundSync', () => {
  it('starts an fsync only once enough bytes were written, and never two at once', async () => {
    const { sync, pending } = controlledSync();
    const background = new BackgroundSync(sync, 100);
    background.written(60);
    expect(pending).toHaveLength(0);
    background.written(40);
    expect(pending).toHaveLength(1);
    background.written(500); // one is running: no second
    expect(pending).toHaveLength(1);
    pending[0]!.resolve();
    await turn();
    background.written(1); // 501 waiting since the last start: the next one starts
    expect(pending).toHaveLength(2);
  });

  it('flush waits for the running fsync, then runs one more that covers the rest', async () => {
    const { sync, pending } = controlledSync();
    const background = new BackgroundSync(sync, 100);
    background.written(150);
    let flushed = false;
    const flushing = background.flush().then(() => {
      flushed = true;
    });
    await turn();
    expect(pending).toHaveLength(1);
    pending[0]!.resolve();
    await turn();
    expect(pending).toHaveLength(2);
    expect(flushed).toBe(false);
    pending[1]!.resolve();
    await flushing;
    expect(flushed).toBe(true);
  });

  it('flush syncs even when nothing was counted (a partial rebuilt after a restart)', async () => {
    let calls = 0;
    const background = new BackgroundSync(async () => {
      calls++;
    }, 100);
    await background.flush();
    expect(calls).toBe(1);
  });

  it('keeps a failed background fsync for the next write and for flush', async () => {
    const { sync, pending } = controlledSync();
    const background = new BackgroundSync(sync, 10);
    background.written(10);
    expect(() => background.check()).not.toThrow();
    const eio = Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO' });
    pending[0]!.reject(eio);
    await turn();
    expect(() => background.check()).toThrow(eio);
    await expect(background.flush()).rejects.toBe(eio);
  });

  it('flush throws the failure of its own fsync', async () => {
    const enospc = Object.assign(new Error('ENOSPC: no space left on device, fsync'), { code: 'ENOSPC' });
    const background = new BackgroundSync(() => Promise.reject(enospc), 100);
    await expect(background.flush()).rejects.toBe(enospc);
  });
});
