/**
 * Paces output at the line rate. The link hands the OS a frame only when the line will have
 * sent everything before it within `aheadMs` (two frame times): a few milliseconds of queue
 * instead of a whole window sitting in kernel and adapter buffers, where a resend or an
 * acknowledgement would wait behind it. A rate of 0 turns pacing off.
 */
export class LinePacer {
  /** When the line will have sent everything handed over so far. */
  private lineFreeAt = 0;
  private readonly bytesPerMs: number;
  readonly aheadMs: number;

  constructor(baud: number, bitsPerByte: number, largestFrameBytes: number) {
    this.bytesPerMs = baud / bitsPerByte / 1000;
    this.aheadMs = baud ? (2 * largestFrameBytes) / this.bytesPerMs : 0;
  }

  /** Time on the line of the largest frame (0 when unpaced): the unit of the link's timers. */
  get frameMs(): number {
    return this.aheadMs / 2;
  }

  /** Milliseconds until the next frame may go (0: now). */
  waitMs(now: number): number {
    return this.bytesPerMs ? Math.max(0, this.lineFreeAt - this.aheadMs - now) : 0;
  }

  sent(bytes: number, now: number): void {
    if (this.bytesPerMs) this.lineFreeAt = Math.max(this.lineFreeAt, now) + bytes / this.bytesPerMs;
  }

  /** A reopened port starts empty. */
  reset(now: number): void {
    this.lineFreeAt = now;
  }
}
