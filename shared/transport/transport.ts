/**
 * The one transport interface: how host and agent logic move protocol messages, whatever
 * carries them (WebSocket, stdio, an SSH channel, a serial line). The logic receives a
 * Transport and never builds one; factories live at the edges (agent/main.ts,
 * host/client/connect.ts). test/transport/contract.ts holds the suite every implementation
 * must pass.
 *
 * CONTRACT
 *
 * Messages. A Transport is a reliable, ordered, message-oriented duplex: every `send(bytes)`
 * arrives as exactly one 'message' event with the same bytes, in order, or the transport
 * closes. It does not look inside messages. A line that loses or corrupts bytes (serial) must
 * repair that underneath (CRC, sequence numbers, retransmit) or close with an error; it never
 * delivers damaged or reordered messages. It should carry messages up to 16 MiB
 * (TRANSPORT_DEFAULTS.maxMessageBytes: a run's result with its logs can be that large),
 * fragmenting underneath if its own frames are small.
 *
 * send(message) → Promise<void>
 *   - Resolves when the message is queued below the high-water mark; while more than
 *     `highWaterMarkBytes` are queued and unwritten it stays pending until the queue drains
 *     (backpressure: `await send()` in a loop never piles up memory). Resolved means "will be
 *     written unless the transport closes first", not "the peer has it" (the protocol acks
 *     what matters).
 *   - Rejects with TransportError TRANSPORT_CLOSED when called after close()/destroy() or once
 *     the transport is closed; a send still pending (waiting for drain) when the transport
 *     closes rejects the same way.
 *   - Rejects with ProtocolError PROTO_FRAME_TOO_LARGE (without closing) when the message is
 *     larger than `maxMessageBytes`.
 *
 * 'message' (bytes). Messages that arrive before the first 'message' listener is attached are
 *   kept and delivered to it, so nothing is lost between construction and wiring.
 *
 * close() → Promise<void>. Orderly: no new sends; what is already queued is written (for at
 *   most `closeTimeoutMs`, then the link is cut), the link is shut, 'close' is emitted with
 *   reason 'local'. Idempotent: every call returns the same promise; after 'close' it resolves
 *   at once.
 *
 * destroy(error?). Abrupt: the link is cut now, queued bytes are dropped, pending sends
 *   reject, 'close' is emitted with reason 'error' (error given) or 'local'. Idempotent.
 *
 * 'close' ({ reason, error? }). Emitted exactly once, after which `state` is 'closed' and no
 *   'message' follows.
 *     local         close() or destroy() without an error
 *     remote        the peer closed (WebSocket close, stream end); error set if it was not
 *                   an orderly close (connection reset, socket error)
 *     idle-timeout  nothing at all arrived for `idleTimeoutMs` (TRANSPORT_IDLE_TIMEOUT)
 *     error         bad bytes from the peer (a ProtocolError) or destroy(error)
 *
 * Liveness. While open, a transport sends a ping when it has sent nothing for a third of
 *   `idleTimeoutMs` and answers the peer's pings, so a live but quiet peer is always heard
 *   from; a pulled cable (which stalls both sides silently) ends in 'idle-timeout'. Any
 *   received byte counts as life. 0 disables it (tests, links that detect loss themselves).
 */
import type { EventEmitter } from 'node:events';
import { ConnectError, type AxError, type AxErrorOptions } from '../errors';

export type TransportState = 'open' | 'closing' | 'closed';
export type CloseReason = 'local' | 'remote' | 'idle-timeout' | 'error';

export interface CloseInfo {
  reason: CloseReason;
  /** Why, when the close was not orderly (a TransportError, ProtocolError or the destroy() error). */
  error?: AxError;
}

export interface TransportEvents {
  message: [message: Uint8Array];
  close: [info: CloseInfo];
}

type Listener<E extends keyof TransportEvents> = (...args: TransportEvents[E]) => void;

export interface Transport extends Pick<EventEmitter, 'removeAllListeners' | 'listenerCount'> {
  /** 'websocket', 'stream', 'ssh', 'serial'... for messages and logs. */
  readonly kind: string;
  /** Who is on the other end, for messages: 'ws://10.0.0.2:7007', 'stdio', 'ssh://root@board'. */
  readonly peer: string;
  readonly state: TransportState;
  /**
   * Once closed, the 'close' event's info: a consumer that arrives after the event (a client
   * wired up while the link was already failing) still learns why. Undefined while open.
   */
  readonly closeInfo?: CloseInfo | undefined;
  /** Largest message send() accepts and the peer may send (the frame payload limit). */
  readonly maxMessageBytes: number;
  /**
   * Blob chunk size this link would rather carry, when smaller than the protocol's default:
   * a slow line (serial) wants small chunks, so a connection lost mid-upload costs little
   * when the upload resumes by offset. Undefined: no preference.
   */
  readonly preferredChunkBytes?: number;
  /**
   * The peer has proven itself (the handshake checked its proof): a limit this transport put
   * on the frames of an unproven peer (a frame refused from its header, before its bytes are
   * buffered) no longer applies. Absent where there is none (WebSocket: ws reads whole messages).
   */
  authenticated?(): void;

  send(message: Uint8Array): Promise<void>;
  close(): Promise<void>;
  destroy(error?: AxError): void;

  on<E extends keyof TransportEvents>(event: E, listener: Listener<E>): this;
  once<E extends keyof TransportEvents>(event: E, listener: Listener<E>): this;
  off<E extends keyof TransportEvents>(event: E, listener: Listener<E>): this;
}

/** Options every transport implementation takes (defaults: TRANSPORT_DEFAULTS). */
export interface TransportOptions {
  /** Frame payload limit in both directions. */
  maxMessageBytes?: number;
  /** Queued-but-unwritten bytes above which send() waits for the queue to drain. */
  highWaterMarkBytes?: number;
  /** Nothing received for this long: the peer is gone. 0 = never. */
  idleTimeoutMs?: number;
  /** close() waits this long for queued bytes to be written before cutting the link. */
  closeTimeoutMs?: number;
}

export const TRANSPORT_DEFAULTS: Required<TransportOptions> = {
  maxMessageBytes: 16 * 1024 * 1024,
  highWaterMarkBytes: 4 * 1024 * 1024,
  idleTimeoutMs: 30_000,
  closeTimeoutMs: 5_000,
};

export type TransportErrorCode =
  /** send() on a transport that is closed or closing, or one that closed while it waited. */
  | 'TRANSPORT_CLOSED'
  /** Nothing arrived for idleTimeoutMs: the peer, or the line to it, is dead. */
  | 'TRANSPORT_IDLE_TIMEOUT'
  /** The link broke (reset, socket error, abnormal WebSocket close). */
  | 'TRANSPORT_DISCONNECTED';

export class TransportError extends ConnectError {
  override readonly code: TransportErrorCode;

  constructor(code: TransportErrorCode, message: string, options?: AxErrorOptions) {
    super(code, message, options);
    this.code = code;
  }
}
