/**
 * Errors of the wire protocol: a peer that sends bytes which are not our frames, a frame that
 * fails its checks, a message that is not valid at this point of the conversation. All are
 * ConnectErrors (exit 5): the connection cannot be trusted any more and is closed.
 */
import { ConnectError, type AxErrorOptions } from '../errors';

export type ProtocolErrorCode =
  /** The bytes do not start with the frame magic: the peer is not an axagent/axctl. */
  | 'PROTO_BAD_MAGIC'
  /** Frame format version this side does not speak. */
  | 'PROTO_BAD_VERSION'
  /** Unknown frame type byte. */
  | 'PROTO_BAD_FRAME_TYPE'
  /** CRC32 of the frame does not match: bytes were corrupted on the way. */
  | 'PROTO_BAD_CRC'
  /** A frame (or a message to send) is larger than the limit. */
  | 'PROTO_FRAME_TOO_LARGE'
  /** The stream ended in the middle of a frame, or a whole-frame buffer was short. */
  | 'PROTO_TRUNCATED'
  /** Bytes after the frame in a buffer meant to hold exactly one frame. */
  | 'PROTO_TRAILING_BYTES'
  /** The payload is not a valid Envelope. */
  | 'PROTO_BAD_MESSAGE'
  /** A valid message that is not allowed now (e.g. a second hello, a chunk for no upload). */
  | 'PROTO_UNEXPECTED'
  /** A request id that is already in flight on this connection. */
  | 'PROTO_DUPLICATE_ID'
  /** The host sent more un-acknowledged upload data than the agent's window allows. */
  | 'PROTO_WINDOW_EXCEEDED'
  /** A peer sent more than a handshake's worth of bytes before authenticating (listen-limits.ts). */
  | 'PROTO_PREAUTH_TOO_LARGE'
  /** A message other than an upload chunk over MAX_REQUEST_BYTES (request-limits.ts). */
  | 'PROTO_MESSAGE_TOO_LARGE';

export class ProtocolError extends ConnectError {
  override readonly code: ProtocolErrorCode;

  constructor(code: ProtocolErrorCode, message: string, options?: AxErrorOptions) {
    super(code, message, options);
    this.code = code;
  }
}
