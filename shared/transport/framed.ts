/**
 * What every frame-based transport shares: the Transport contract (transport.ts) implemented
 * once — send queue and backpressure, ping/pong liveness, orderly and abrupt close, the inbox
 * that holds messages until someone listens. A subclass only moves frame bytes over its link
 * (a WebSocket, a byte stream, a serial line) and reports what the link does.
 *
 * Subclass duties:
 *   writeLink(parts, done)  write the frame pieces in order; call done(err?) once written
 *   endLink()               flush and shut the link in an orderly way, then call linkClosed()
 *   destroyLink()           cut the link now (no further callbacks needed)
 *   bytesArrived()          on every received byte slice (liveness)
 *   frameArrived(frame)     for every decoded frame
 *   linkClosed(error?)      when the link is gone, for whatever reason
 *   fail(error)             when the peer sent something unacceptable (a ProtocolError)
 *   settleReceived()        after the 'message' handling of frames assembled in lent memory
 *                           (receiveBuffers, ../protocol/receive-buffers.ts); decodeArrived does it itself
 */
import { EventEmitter } from 'node:events';
import type { AxError } from '../errors';
import { ProtocolError } from '../protocol/errors';
import { FrameType, encodeFrameParts, releaseFrame, type Frame, type FrameDecoder } from '../protocol/frame';
import type { ReceiveBuffers } from '../protocol/receive-buffers';
import {
  TRANSPORT_DEFAULTS,
  TransportError,
  type CloseInfo,
  type CloseReason,
  type Transport,
  type TransportOptions,
  type TransportState,
} from './transport';

interface Waiter {
  resolve: () => void;
  reject: (err: Error) => void;
}

export abstract class FramedTransport extends EventEmitter implements Transport {
  abstract readonly kind: string;
  readonly peer: string;
  readonly maxMessageBytes: number;
  protected readonly options: Required<TransportOptions>;
  private currentState: TransportState = 'open';
  private queuedBytes = 0;
  private drainWaiters: Waiter[] = [];
  private whenFlushed: (() => void) | null = null;
  /** Messages received before anyone listened; null once a 'message' listener exists. */
  private inbox: Uint8Array[] | null = [];
  // Monotonic (performance.now): a board without a real-time clock jumps decades ahead at its
  // first NTP sync, and a wall clock would then call every connection idle at once.
  private lastReceivedAt = performance.now();
  private lastSentAt = performance.now();
  private heartbeat: NodeJS.Timeout | null = null;
  private closeTimer: NodeJS.Timeout | null = null;
  private closePromise: Promise<void> | null = null;
  private resolveClose: (() => void) | null = null;
  private finalInfo: CloseInfo | undefined;

  protected constructor(peer: string, options: TransportOptions = {}) {
    super();
    this.peer = peer;
    this.options = { ...TRANSPORT_DEFAULTS, ...stripUndefined(options) };
    this.maxMessageBytes = this.options.maxMessageBytes;
    this.on('newListener', (event: string) => {
      if (event === 'message' && this.inbox) queueMicrotask(() => this.flushInbox());
    });
    this.startHeartbeat();
  }

  get state(): TransportState {
    return this.currentState;
  }

  get closeInfo(): CloseInfo | undefined {
    return this.finalInfo;
  }

  send(message: Uint8Array): Promise<void> {
    if (this.currentState !== 'open') return Promise.reject(this.closedError());
    if (message.length > this.maxMessageBytes) {
      return Promise.reject(new ProtocolError('PROTO_FRAME_TOO_LARGE', `a message of ${message.length} bytes is over the limit of ${this.maxMessageBytes} bytes for ${this.peer}`));
    }
    this.writeFrame(FrameType.Message, message);
    if (this.queuedBytes <= this.options.highWaterMarkBytes) return Promise.resolve();
    return new Promise((resolve, reject) => this.drainWaiters.push({ resolve, reject }));
  }

  close(): Promise<void> {
    if (this.closePromise) return this.closePromise;
    if (this.currentState === 'closed') return Promise.resolve();
    this.currentState = 'closing';
    this.stopHeartbeat();
    this.closePromise = new Promise((resolve) => {
      this.resolveClose = resolve;
    });
    this.closeTimer = setTimeout(() => {
      this.destroyLink();
      this.finish('local');
    }, this.options.closeTimeoutMs);
    const shut = () => {
      if (this.currentState === 'closing') this.endLink();
    };
    if (this.queuedBytes === 0) shut();
    else this.whenFlushed = shut;
    return this.closePromise;
  }

  destroy(error?: AxError): void {
    if (this.currentState === 'closed') return;
    this.destroyLink();
    this.finish(error ? 'error' : 'local', error);
  }

  /**
   * True when writeLink's callback means the parts' bytes are no longer read (sent, or copied
   * on), so a pooled frame can be reused. A link that keeps sent bytes for retransmission
   * (serial) must leave this false.
   */
  protected readonly recyclesFrames: boolean = false;

  /**
   * Memory lent for assembling large incoming frames (../protocol/receive-buffers.ts), by a consumer that
   * is done with a message's bytes when its handler returns; null: fresh memory. A payload in
   * lent memory is valid only until settleReceived().
   */
  protected receiveBuffers: ReceiveBuffers | null = null;

  protected abstract writeLink(parts: Uint8Array[], done: (err?: Error | null) => void): void;
  protected abstract endLink(): void;
  protected abstract destroyLink(): void;

  protected bytesArrived(): void {
    this.lastReceivedAt = performance.now();
  }

  /** Bytes of a byte stream, through its frame decoder; bytes that are no frame fail the link. */
  protected decodeArrived(decoder: FrameDecoder, chunk: Uint8Array): void {
    try {
      let frames: Frame[];
      try {
        frames = decoder.push(chunk);
      } catch (err) {
        this.fail(err as ProtocolError);
        return;
      }
      for (const frame of frames) this.frameArrived(frame);
    } finally {
      // A frame is assembled only once all of it has arrived, so every one taken in lent
      // memory by this push has been handled by now.
      this.settleReceived();
    }
  }

  /** The frames assembled in lent memory have been handled: what nobody kept is given back. */
  protected settleReceived(): void {
    this.receiveBuffers?.settle();
  }

  protected frameArrived(frame: Frame): void {
    if (this.currentState === 'closed') return;
    if (frame.type === FrameType.Ping) {
      if (this.currentState === 'open') this.writeFrame(FrameType.Pong);
    } else if (frame.type === FrameType.Message) {
      // The inbox keeps a message past this call, so never in lent memory (settled after it).
      if (this.inbox) this.inbox.push(this.receiveBuffers ? new Uint8Array(frame.payload) : frame.payload);
      else this.emit('message', frame.payload);
    }
  }

  /** The link is gone. After our own close() that is the end of it; otherwise the peer left. */
  protected linkClosed(error?: AxError): void {
    if (this.currentState === 'closing') this.finish('local');
    else this.finish('remote', error);
  }

  /** The peer sent something unacceptable: cut the link and report it. */
  protected fail(error: AxError): void {
    this.destroy(error);
  }

  private writeFrame(type: FrameType, payload?: Uint8Array): void {
    const parts = encodeFrameParts(type, payload);
    const bytes = parts.reduce((sum, part) => sum + part.length, 0);
    this.queuedBytes += bytes;
    this.lastSentAt = performance.now();
    this.writeLink(parts, (err) => {
      this.queuedBytes -= bytes;
      if (this.recyclesFrames) releaseFrame(parts);
      if (err) {
        if (this.currentState !== 'closed') {
          this.destroyLink();
          this.linkClosed(new TransportError('TRANSPORT_DISCONNECTED', `${this.peer}: ${err.message}`, { cause: err }));
        }
        return;
      }
      if (this.queuedBytes <= this.options.highWaterMarkBytes && this.drainWaiters.length > 0) {
        const waiters = this.drainWaiters;
        this.drainWaiters = [];
        for (const w of waiters) w.resolve();
      }
      if (this.queuedBytes === 0 && this.whenFlushed) {
        const then = this.whenFlushed;
        this.whenFlushed = null;
        then();
      }
    });
  }

  private flushInbox(): void {
    const box = this.inbox;
    if (!box || this.listenerCount('message') === 0) return;
    while (box.length > 0 && this.currentState !== 'closed') this.emit('message', box.shift()!);
    this.inbox = null;
  }

  private startHeartbeat(): void {
    const idle = this.options.idleTimeoutMs;
    if (!idle) return;
    const pingAfter = Math.max(1, Math.floor(idle / 3));
    this.heartbeat = setInterval(() => {
      const now = performance.now();
      if (now - this.lastReceivedAt >= idle) {
        this.destroyLink();
        this.finish('idle-timeout', new TransportError('TRANSPORT_IDLE_TIMEOUT', `nothing heard from ${this.peer} for ${formatMs(idle)}: the peer or the line to it is gone`, {
          hint: 'check the cable/network and that the agent is still running',
        }));
      } else if (now - this.lastSentAt >= pingAfter) {
        this.writeFrame(FrameType.Ping);
      }
    }, Math.max(1, Math.floor(idle / 6)));
    this.heartbeat.unref();
  }

  private stopHeartbeat(): void {
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = null;
  }

  private closedError(cause?: AxError): TransportError {
    return new TransportError('TRANSPORT_CLOSED', `the connection to ${this.peer} is closed`, cause ? { cause } : undefined);
  }

  private finish(reason: CloseReason, error?: AxError): void {
    if (this.currentState === 'closed') return;
    this.currentState = 'closed';
    this.stopHeartbeat();
    if (this.closeTimer) clearTimeout(this.closeTimer);
    this.inbox = null;
    this.whenFlushed = null;
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const w of waiters) w.reject(this.closedError(error));
    this.resolveClose?.();
    const info: CloseInfo = error ? { reason, error } : { reason };
    this.finalInfo = info;
    process.nextTick(() => this.emit('close', info));
  }
}

function stripUndefined<T extends object>(options: T): Partial<T> {
  return Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function formatMs(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(ms % 1000 ? 1 : 0)} s` : `${ms} ms`;
}
