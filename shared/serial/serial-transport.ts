/**
 * The Transport (shared/transport/transport.ts) over a serial line: protocol frames (the
 * same codec as every byte-stream transport) ride on the reliable link (link.ts), which the
 * line driver (line-driver.ts) wires to the port.
 *
 * How the contract maps onto a serial line:
 * - send() backpressure: a frame counts as written once the link's queue is below its
 *   high-water mark, so at most highWaterMarkBytes + the link's 64 KiB wait in memory.
 * - close(): the link sends a FIN after the last byte; the peer answers with its own FIN;
 *   'close' (local) follows. The peer's transport closes with reason 'remote'.
 * - destroy(): the link sends a RESET; the peer closes with 'remote' and SERIAL_PEER_RESET.
 * - Liveness: a pulled cable is a pause, not an end. The link probes and resumes when the
 *   cable is back; only after idleTimeoutMs of silence does the transport close with
 *   'idle-timeout' (the link itself gives up a little later, so the contract's reason wins).
 *   Link-level traffic (acks, keepalives) counts as life.
 */
import type { AxError } from '../errors';
import { FrameDecoder } from '../protocol/frame';
import { FramedTransport } from '../transport/framed';
import type { TransportOptions } from '../transport/transport';
import type { LineDriver } from './line-driver';
import type { ReliableLink } from './link';

/** A quarter MiB is 2.8 s of a 921600-baud line (the default 1 MiB chunk costs 11 s). */
export const SERIAL_CHUNK_BYTES = 256 * 1024;
/** What a chunk may take on a slow line: the host's request timer and the agent's transfer timer (60 s) wait for whole chunks. */
const CHUNK_SECONDS = 10;

/**
 * The upload/download chunk for a line of `baud` (0: unpaced, an in-memory pipe): a quarter
 * MiB, or what the line carries in CHUNK_SECONDS when that is less (at 38400 baud a quarter
 * MiB takes 68 s, longer than either side waits for progress), in whole 4 KiB.
 */
export function serialChunkBytes(baud: number, bitsPerByte = 10): number {
  if (baud <= 0) return SERIAL_CHUNK_BYTES;
  const fits = Math.floor(((baud / bitsPerByte) * CHUNK_SECONDS) / 4096) * 4096;
  return Math.max(4096, Math.min(SERIAL_CHUNK_BYTES, fits));
}

export interface SerialTransportOptions extends TransportOptions {
  /** Largest message the peer may send until authenticated() (as StreamTransportOptions). */
  unauthenticatedMaxMessageBytes?: number;
}

export class SerialTransport extends FramedTransport {
  readonly kind = 'serial';
  readonly preferredChunkBytes: number;
  private readonly decoder: FrameDecoder;
  private waitingForDrain: (() => void)[] = [];
  /** We cut the link ourselves: its 'close' is no news to report. */
  private cutting = false;

  constructor(private readonly link: ReliableLink, private readonly driver: LineDriver, peer: string, options: SerialTransportOptions = {}) {
    const { unauthenticatedMaxMessageBytes, ...transportOptions } = options;
    super(peer, transportOptions);
    this.preferredChunkBytes = serialChunkBytes(link.options.baud, link.options.bitsPerByte);
    this.decoder = new FrameDecoder({
      maxPayloadBytes: this.maxMessageBytes,
      ...(unauthenticatedMaxMessageBytes !== undefined && { unauthenticatedMaxPayloadBytes: unauthenticatedMaxMessageBytes }),
    });
    link.on('heard', () => this.bytesArrived());
    link.on('data', (chunk: Uint8Array) => this.onData(chunk));
    link.on('drain', () => {
      const waiting = this.waitingForDrain;
      this.waitingForDrain = [];
      for (const done of waiting) done();
    });
    link.on('end', () => this.linkClosed());
    link.on('close', (error?: AxError) => {
      if (!this.cutting) this.linkClosed(error);
    });
  }

  /** The peer has authenticated (its session says so): unauthenticatedMaxMessageBytes no longer applies. */
  authenticated(): void {
    this.decoder.authenticated();
  }

  /** Resolves once the port is released after the link closed (for reopening the same path). */
  get released(): Promise<void> {
    return this.driver.done;
  }

  /** Link counters: resends, bad frames, round trip, port reopenings (for logs and the bench). */
  get linkStats(): ReliableLink['stats'] & { reopens: number } {
    return { ...this.link.stats, reopens: this.driver.reopens };
  }

  /**
   * Calls `listener(false)` when the line goes quiet (cable pulled: the link keeps probing)
   * and `listener(true)` when the peer is heard again, e.g. to tell the user what is going on.
   */
  onLineChange(listener: (up: boolean) => void): void {
    this.link.on('down', () => listener(false));
    this.link.on('up', () => listener(true));
  }

  protected writeLink(parts: Uint8Array[], done: (err?: Error | null) => void): void {
    if (!this.link.writable) return done(new Error('the serial link is closed'));
    let below = true;
    for (const part of parts) if (part.length > 0) below = this.link.write(part);
    if (below) done();
    else this.waitingForDrain.push(() => done());
  }

  protected endLink(): void {
    this.link.end();
  }

  protected destroyLink(): void {
    this.cutting = true;
    this.link.destroy();
  }

  private onData(chunk: Uint8Array): void {
    if (this.state === 'closed') return;
    this.decodeArrived(this.decoder, chunk);
  }
}
