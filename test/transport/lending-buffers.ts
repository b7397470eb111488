/**
 * A ReceiveBuffers for tests that makes misuse show: every buffer it lends and nobody kept is
 * overwritten with garbage on settle(), as a reused slab would be, so a transport that keeps
 * (or delivers) bytes of a settled buffer hands on corrupted data.
 */
import type { ReceiveBuffers } from '../../shared/protocol/receive-buffers';

export class ScribblingBuffers implements ReceiveBuffers {
  /** Sizes asked for, in order. */
  readonly asked: number[] = [];
  lentCount = 0;
  settledCount = 0;
  private out: Uint8Array[] = [];
  private readonly kept = new Set<ArrayBufferLike>();

  /** `lend(bytes)` false: answer null (no memory to lend). */
  constructor(private readonly lend: (bytes: number) => boolean = () => true) {}

  take(bytes: number): Uint8Array | null {
    this.asked.push(bytes);
    if (!this.lend(bytes)) return null;
    const buffer = new Uint8Array(bytes);
    this.out.push(buffer);
    this.lentCount++;
    return buffer;
  }

  settle(): void {
    for (const buffer of this.out.splice(0)) {
      if (this.kept.has(buffer.buffer)) continue;
      buffer.fill(0xa5);
      this.settledCount++;
    }
  }

  /** A consumer adopts the lent buffer `view` lies in: settle() leaves it alone. */
  keep(view: Uint8Array): boolean {
    const lent = this.out.some((b) => b.buffer === view.buffer);
    if (lent) this.kept.add(view.buffer);
    return lent;
  }

  /** Buffers lent and not yet settled. */
  get outstanding(): number {
    return this.out.length;
  }
}
