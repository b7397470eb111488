/**
 * The sending half of the selective-repeat window: the queue of bytes not yet framed, the
 * frames sent and not yet delivered on the other side, and which of them must go again.
 *
 * Loss is detected without timeouts wherever possible: the peer echoes the transmission
 * number (tx) of the last DATA frame it got, and a serial line never reorders, so any frame
 * whose latest copy went out before that one and which the peer neither delivered nor holds
 * (SACK) was lost. The retransmission timer (owned by the link) only covers a lost tail and
 * a dead line.
 */
import type { AckInfo } from './frame';

const SEQ_MASK = 0xffff;

interface Outstanding {
  seq: number;
  payload: Uint8Array;
  fin: boolean;
  /** Transmission index of the latest copy, and when it went out. */
  lastTx: number;
  lastSentAt: number;
  /** The peer holds it (SACK) but has not delivered it yet. */
  held: boolean;
  resend: boolean;
}

export interface OutgoingData {
  seq: number;
  tx: number;
  payload: Uint8Array;
  fin: boolean;
  resent: boolean;
}

export interface AckOutcome {
  /** Frames newly delivered or newly held by the peer: the line is moving. */
  progress: boolean;
  /** Round-trip time of the echoed transmission, when it is still known. */
  rttSample?: number;
  /** Frames just found lost and queued to go again. */
  lost: number;
}

export class SendWindow {
  private readonly chunks: Uint8Array[] = [];
  private chunkOffset = 0;
  private queued = 0;
  private finWanted = false;
  private finFramed = false;
  private readonly outstanding: Outstanding[] = [];
  private base = 0;
  private txIndex = -1;
  private lastEcho = -1;

  constructor(private maxPayload: number, private window: number) {}

  /** Bytes accepted from above and not yet framed. */
  get queuedBytes(): number {
    return this.queued;
  }

  get inFlight(): number {
    return this.outstanding.length;
  }

  /** Everything queued has been framed and delivered, FIN included if one was asked for. */
  get idle(): boolean {
    return this.queued === 0 && this.outstanding.length === 0 && this.finWanted === this.finFramed;
  }

  get finDelivered(): boolean {
    return this.finFramed && this.outstanding.length === 0;
  }

  /** Only the (empty) FIN is unacknowledged: every data byte has been delivered. */
  get onlyFinOutstanding(): boolean {
    return this.finFramed && this.outstanding.length === 1 && this.outstanding[0]!.fin;
  }

  /** Applies the limits agreed in the handshake (the smaller of both sides'). */
  limit(maxPayload: number, window: number): void {
    this.maxPayload = maxPayload;
    this.window = window;
  }

  enqueue(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    this.chunks.push(bytes);
    this.queued += bytes.length;
  }

  /** Ends the stream: a FIN goes after the last queued byte. */
  finish(): void {
    this.finWanted = true;
  }

  /** Something is waiting to go: a resend, or new data the window has room for. */
  hasOutput(): boolean {
    return this.outstanding.some((f) => f.resend) || this.canFrameNew();
  }

  /** Every outstanding frame is held by a peer that delivers nothing: only a probe helps. */
  get stalledOnHeld(): boolean {
    return this.outstanding.length > 0 && this.outstanding.every((f) => f.held);
  }

  /** The next DATA frame to transmit, resends first; undefined when nothing may go. */
  takeNext(now: number): OutgoingData | undefined {
    let frame = this.outstanding.find((f) => f.resend);
    const resent = frame !== undefined;
    if (!frame) {
      if (!this.canFrameNew()) return undefined;
      // The FIN travels alone, empty, so "only the FIN is outstanding" means all data arrived.
      const fin = this.queued === 0;
      const payload = this.take(Math.min(this.maxPayload, this.queued));
      if (fin) this.finFramed = true;
      frame = { seq: (this.base + this.outstanding.length) & SEQ_MASK, payload, fin, lastTx: 0, lastSentAt: 0, held: false, resend: false };
      this.outstanding.push(frame);
    }
    frame.resend = false;
    frame.lastTx = ++this.txIndex;
    frame.lastSentAt = now;
    return { seq: frame.seq, tx: frame.lastTx & SEQ_MASK, payload: frame.payload, fin: frame.fin, resent };
  }

  /** Applies the peer's acknowledgement fields. */
  onAck(ack: AckInfo, now: number): AckOutcome {
    const outcome: AckOutcome = { progress: false, lost: 0 };
    const delivered = (ack.next - this.base) & SEQ_MASK;
    if (delivered > this.outstanding.length) return outcome; // stale or from another session
    const echoed = this.resolveEcho(ack.echo);
    // Sample before releasing frames: the echoed copy is usually among those just acknowledged.
    const copy = echoed === undefined ? undefined : this.outstanding.find((f) => f.lastTx === echoed);
    if (copy) outcome.rttSample = now - copy.lastSentAt;
    if (delivered > 0) {
      this.outstanding.splice(0, delivered);
      this.base = ack.next;
      outcome.progress = true;
    }
    for (let i = 0; i < this.outstanding.length && i < 32; i++) {
      const frame = this.outstanding[i]!;
      if (!frame.held && (ack.sack >>> i) & 1) {
        frame.held = true;
        frame.resend = false;
        outcome.progress = true;
      }
    }
    if (echoed === undefined) return outcome;
    for (const frame of this.outstanding) {
      if (!frame.held && !frame.resend && frame.lastTx < echoed) {
        frame.resend = true;
        outcome.lost++;
      }
    }
    return outcome;
  }

  /** The retransmission timer fired: resend the oldest frame the peer lacks. */
  resendOldest(): boolean {
    const frame = this.outstanding.find((f) => !f.held);
    if (!frame) return false;
    frame.resend = true;
    return true;
  }

  /** After an outage: everything the peer lacks goes again. */
  resendAll(): void {
    for (const frame of this.outstanding) if (!frame.held) frame.resend = true;
  }

  private canFrameNew(): boolean {
    if (this.outstanding.length >= this.window || this.finFramed) return false;
    return this.queued > 0 || this.finWanted;
  }

  /** The echoed tag as a full transmission index, if it is newer than the last one seen. */
  private resolveEcho(tag: number): number | undefined {
    const full = this.txIndex - ((this.txIndex - tag) & SEQ_MASK);
    if (full <= this.lastEcho || full < 0) return undefined;
    this.lastEcho = full;
    return full;
  }

  private take(n: number): Uint8Array {
    const out = new Uint8Array(n);
    let filled = 0;
    while (filled < n) {
      const chunk = this.chunks[0]!;
      const part = Math.min(n - filled, chunk.length - this.chunkOffset);
      out.set(chunk.subarray(this.chunkOffset, this.chunkOffset + part), filled);
      filled += part;
      this.chunkOffset += part;
      if (this.chunkOffset === chunk.length) {
        this.chunks.shift();
        this.chunkOffset = 0;
      }
    }
    this.queued -= n;
    return out;
  }
}
