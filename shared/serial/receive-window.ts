/**
 * The receiving half of the selective-repeat window: holds frames that arrived ahead of a
 * gap, hands bytes upward strictly in order and exactly once, and describes what it holds
 * (ack, SACK, echo) for the next frame going back.
 *
 * A consumer that cannot keep up pauses delivery; frames then stay held (SACKed, so the
 * sender does not resend them) but are not acknowledged, so the sender's window closes: that
 * is the flow control, with memory bounded by the window.
 */
import type { AckInfo } from './frame';

const SEQ_MASK = 0xffff;

interface HeldFrame {
  payload: Uint8Array;
  fin: boolean;
}

export type Arrival = 'new' | 'duplicate' | 'outside';

export class ReceiveWindow {
  private next = 0;
  private readonly slots: (HeldFrame | undefined)[];
  private echo = SEQ_MASK;
  private finDelivered = false;

  constructor(private readonly window: number) {
    this.slots = new Array<HeldFrame | undefined>(window).fill(undefined);
  }

  get ended(): boolean {
    return this.finDelivered;
  }

  /** Stores a DATA frame. Every arrival, even a duplicate, moves the echo forward. */
  accept(seq: number, tx: number, payload: Uint8Array, fin: boolean): Arrival {
    this.echo = tx;
    const offset = (seq - this.next) & SEQ_MASK;
    if (offset >= this.window) return offset >= 0x8000 ? 'duplicate' : 'outside';
    if (this.slots[offset] || this.finDelivered) return 'duplicate';
    this.slots[offset] = { payload, fin };
    return 'new';
  }

  /** A gap precedes something held: the sender should hear about it now. */
  get hasGap(): boolean {
    return this.slots[0] === undefined && this.slots.some((s) => s !== undefined);
  }

  /**
   * Hands in-order payloads to `deliver` until it returns false (consumer full) or a gap.
   * Calls `onFin` once, after the last byte, when the FIN is reached.
   */
  deliver(deliver: (payload: Uint8Array) => boolean, onFin: () => void): boolean {
    let moved = false;
    while (this.slots[0]) {
      const frame = this.slots.shift()!;
      this.slots.push(undefined);
      this.next = (this.next + 1) & SEQ_MASK;
      moved = true;
      const more = frame.payload.length === 0 || deliver(frame.payload);
      if (frame.fin) {
        this.finDelivered = true;
        this.slots.fill(undefined);
        onFin();
        break;
      }
      if (!more) break;
    }
    return moved;
  }

  ackInfo(): AckInfo {
    let sack = 0;
    for (let i = 0; i < this.slots.length && i < 32; i++) if (this.slots[i]) sack |= 1 << i;
    return { next: this.next, sack: sack >>> 0, echo: this.echo };
  }
}
