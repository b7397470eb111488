/**
 * fsync of one partial upload, kept off the acknowledgement path.
 *
 * A batch is acknowledged once it is written (in the page cache), not once it is fsync'd: on
 * a disk whose fsync is slow, waiting for it before every acknowledgement halved the upload
 * (bench, a VM with ~2 ms fsyncs: ratio to a TCP copy 0.58 → ~1.0). What a power cut can
 * cost instead: bytes acknowledged but not yet on disk. On restart the upload resumes from
 * the partial's length as the filesystem kept it, and the final sha256 check refuses a
 * partial whose kept bytes differ (HASH_MISMATCH: the host sends it again from 0), so a
 * corrupt blob is still never stored. The finished blob is fsync'd before it is renamed in.
 *
 * Meanwhile an fsync starts every SYNC_EVERY_BYTES written, one at a time, so dirty pages on a
 * board with little memory stay bounded and the final fsync has little left to do. A failed
 * background fsync (EIO, or ENOSPC where the filesystem allocates at writeback) is kept and
 * thrown by the next write or by `flush()`: a write error is never lost.
 */

/** Written bytes after which a background fsync starts (when none is running). */
export const SYNC_EVERY_BYTES = 8 * 1024 * 1024;

export class BackgroundSync {
  private unsynced = 0;
  private running: Promise<void> | null = null;
  private failure: { err: unknown } | null = null;

  /** `sync` makes every byte written to the file so far durable (an fsync). */
  constructor(private readonly sync: () => Promise<void>, private readonly everyBytes = SYNC_EVERY_BYTES) {}

  /** `bytes` more were written: starts an fsync once enough are waiting and none runs. */
  written(bytes: number): void {
    this.unsynced += bytes;
    if (this.unsynced >= this.everyBytes && !this.running) this.start();
  }

  /** Throws the failure of a background fsync, if one failed. */
  check(): void {
    if (this.failure) throw this.failure.err;
  }

  /** Every byte written so far is on disk: waits for a running fsync, then runs one more. */
  async flush(): Promise<void> {
    if (this.running) await this.running;
    this.check();
    // Always one more: bytes of a partial rebuilt after a restart were never counted here.
    this.start();
    await this.running;
    this.check();
  }

  private start(): void {
    this.unsynced = 0;
    const running: Promise<void> = this.sync()
      .then(
        () => undefined,
        (err: unknown) => {
          this.failure ??= { err };
        },
      )
      .then(() => {
        if (this.running === running) this.running = null;
      });
    this.running = running;
  }
}
