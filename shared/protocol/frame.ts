/**
 * The frame codec: bytes in, frames out, and back. Pure: no sockets, no timers.
 *
 *   offset  size  field
 *   0       2     magic 'A' 'X' (0x41 0x58)
 *   2       1     frame format version (1)
 *   3       1     type: 0 message (payload = one Envelope), 1 ping, 2 pong (empty payloads)
 *   4       4     payload length, unsigned big-endian
 *   8       n     payload
 *   8+n     4     CRC-32 of bytes 2 .. 8+n (version, type, length, payload), big-endian
 *
 * Over a byte stream (stdio, an SSH channel, TCP) the length delimits messages and the magic
 * tells a frame from a shell's "command not found". Over WebSocket each binary message holds
 * exactly one frame. A decoder that met a bad frame stays failed: a byte stream cannot be
 * trusted to resynchronise, so the connection ends.
 */
import { LEND_FROM_BYTES, type ReceiveBuffers } from './receive-buffers';
import { crc32 } from './crc32';
import { ProtocolError } from './errors';

export const FRAME_MAGIC_0 = 0x41;
export const FRAME_MAGIC_1 = 0x58;
export const FRAME_VERSION = 1;
export const FRAME_HEADER_BYTES = 8;
export const FRAME_TRAILER_BYTES = 4;
export const FRAME_OVERHEAD_BYTES = FRAME_HEADER_BYTES + FRAME_TRAILER_BYTES;
/** Default payload limit: an upload chunk plus its envelope fits many times over. */
export const DEFAULT_MAX_PAYLOAD_BYTES = 16 * 1024 * 1024;

export const FrameType = { Message: 0, Ping: 1, Pong: 2 } as const;
export type FrameType = (typeof FrameType)[keyof typeof FrameType];

export interface Frame {
  type: FrameType;
  /**
   * A view into bytes the decoder was given, or a fresh copy, or a view into memory lent by
   * the decoder's receiveBuffers (valid until their settle()); never reused by the decoder.
   */
  payload: Uint8Array;
}

export interface FrameDecoderOptions {
  maxPayloadBytes?: number;
  /**
   * Until authenticated(): frames of a larger payload are refused from their header with
   * PROTO_PREAUTH_TOO_LARGE, before a byte of them is buffered. A peer that has not proven it
   * knows the token sends a handshake of a few hundred bytes, not megabytes. Default: no such limit.
   */
  unauthenticatedMaxPayloadBytes?: number;
  /**
   * Where a frame of LEND_FROM_BYTES or more that spans several pushed chunks is assembled,
   * when it lends memory (shared/protocol/receive-buffers.ts): its payload is then valid until
   * the caller settles them. Default: fresh memory.
   */
  receiveBuffers?: ReceiveBuffers;
}

/** Payloads allocated by allocFramePayload: the bytes around them are the frame's own. */
const WITH_FRAME_ROOM = new WeakSet<Uint8Array>();

/**
 * A payload buffer of `size` bytes with room before and after it for the frame's header and
 * trailer, so encodeFrameParts frames it in place: one buffer, no copy (the bulk messages,
 * shared/protocol/chunk-encoding.ts).
 */
export function allocFramePayload(size: number): Uint8Array {
  const total = FRAME_OVERHEAD_BYTES + size;
  const pooled = total <= POOLED_FRAME_BYTES;
  const memory = pooled ? (freeFrames.pop() ?? newPooledFrame()) : unzeroed(total);
  const payload = new Uint8Array(memory, FRAME_HEADER_BYTES, size);
  WITH_FRAME_ROOM.add(payload);
  return payload;
}

/**
 * Frames for chunk-sized payloads come from a small free list: a transport that is done with
 * a frame (its bytes are in the kernel or copied on) gives it back (releaseFrame), so an
 * upload reuses a few buffers instead of making 1 MiB of garbage per chunk, which the
 * garbage collector then has to sweep.
 */
const POOLED_FRAME_BYTES = 1024 * 1024 + 4096;
const MAX_FREE_FRAMES = 4;
const freeFrames: ArrayBuffer[] = [];
const poolFrames = new WeakSet<ArrayBuffer>();

/** Memory of its own (not a slice of Node's pool), left unzeroed: every byte is written. */
function unzeroed(bytes: number): ArrayBuffer {
  return Buffer.allocUnsafeSlow(bytes).buffer as ArrayBuffer;
}

function newPooledFrame(): ArrayBuffer {
  const memory = unzeroed(POOLED_FRAME_BYTES);
  poolFrames.add(memory);
  return memory;
}

/** `parts` (what encodeFrameParts gave) are no longer needed by anyone: reuse a pooled frame. */
export function releaseFrame(parts: Uint8Array[]): void {
  if (parts.length !== 1) return;
  const memory = parts[0]!.buffer as ArrayBuffer;
  if (poolFrames.has(memory) && freeFrames.length < MAX_FREE_FRAMES && !freeFrames.includes(memory)) freeFrames.push(memory);
}

/**
 * The frame as pieces a stream writes without joining them: one buffer when the payload came
 * from allocFramePayload (header and trailer written around it), else header, payload, trailer.
 */
export function encodeFrameParts(type: FrameType, payload: Uint8Array = new Uint8Array(0)): Uint8Array[] {
  if (WITH_FRAME_ROOM.has(payload)) {
    WITH_FRAME_ROOM.delete(payload); // framed once: a second send gets its own header
    const frame = new Uint8Array(payload.buffer, payload.byteOffset - FRAME_HEADER_BYTES, payload.length + FRAME_OVERHEAD_BYTES);
    writeHeader(frame, type, payload.length);
    const crc = crc32(payload, crc32(frame.subarray(2, FRAME_HEADER_BYTES)));
    new DataView(frame.buffer, frame.byteOffset + FRAME_HEADER_BYTES + payload.length, FRAME_TRAILER_BYTES).setUint32(0, crc);
    return [frame];
  }
  const header = new Uint8Array(FRAME_HEADER_BYTES);
  writeHeader(header, type, payload.length);
  const trailer = new Uint8Array(FRAME_TRAILER_BYTES);
  new DataView(trailer.buffer).setUint32(0, crc32(payload, crc32(header.subarray(2))));
  return [header, payload, trailer];
}

function writeHeader(out: Uint8Array, type: FrameType, payloadLength: number): void {
  out[0] = FRAME_MAGIC_0;
  out[1] = FRAME_MAGIC_1;
  out[2] = FRAME_VERSION;
  out[3] = type;
  new DataView(out.buffer, out.byteOffset, FRAME_HEADER_BYTES).setUint32(4, payloadLength);
}

/** The frame as one buffer (what a WebSocket message carries). */
export function encodeFrame(type: FrameType, payload?: Uint8Array): Uint8Array {
  const parts = encodeFrameParts(type, payload);
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** Decodes a buffer that holds exactly one frame. */
export function decodeFrame(bytes: Uint8Array, maxPayloadBytes = DEFAULT_MAX_PAYLOAD_BYTES): Frame {
  const decoder = new FrameDecoder({ maxPayloadBytes });
  const frames = decoder.push(bytes);
  if (frames.length === 0) {
    throw new ProtocolError('PROTO_TRUNCATED', `a frame of ${bytes.length} bytes is cut short`);
  }
  if (frames.length > 1 || decoder.bufferedBytes > 0) {
    throw new ProtocolError('PROTO_TRAILING_BYTES', 'a message carries bytes after its frame');
  }
  return frames[0]!;
}

/** Incremental decoder: feed it byte slices of any size; it returns the frames they complete. */
export class FrameDecoder {
  private readonly maxPayloadBytes: number;
  /** The limit until authenticated(); null once lifted (or never set). */
  private unauthenticatedMax: number | null;
  private chunks: Uint8Array[] = [];
  private buffered = 0;
  /** Payload length of the frame being assembled, once its header has been checked. */
  private payloadLength = -1;
  private failure: ProtocolError | null = null;
  private readonly receiveBuffers: ReceiveBuffers | null;

  constructor(opts: FrameDecoderOptions = {}) {
    this.maxPayloadBytes = opts.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES;
    this.unauthenticatedMax = opts.unauthenticatedMaxPayloadBytes ?? null;
    this.receiveBuffers = opts.receiveBuffers ?? null;
  }

  /** The peer has authenticated: frames up to maxPayloadBytes from now on. */
  authenticated(): void {
    this.unauthenticatedMax = null;
  }

  /** Bytes held that do not form a whole frame yet. */
  get bufferedBytes(): number {
    return this.buffered;
  }

  push(chunk: Uint8Array): Frame[] {
    if (this.failure) throw this.failure;
    if (chunk.length > 0) {
      this.chunks.push(chunk);
      this.buffered += chunk.length;
    }
    const frames: Frame[] = [];
    try {
      for (let frame = this.next(); frame; frame = this.next()) frames.push(frame);
    } catch (err) {
      this.failure = err as ProtocolError;
      this.chunks = [];
      this.buffered = 0;
      throw err;
    }
    return frames;
  }

  /** The stream has ended: anything left over is a cut-off frame. */
  end(): void {
    if (this.failure) throw this.failure;
    if (this.buffered > 0) {
      const need = this.payloadLength >= 0 ? ` of ${this.payloadLength + FRAME_OVERHEAD_BYTES}` : '';
      this.failure = new ProtocolError('PROTO_TRUNCATED', `the connection ended in the middle of a frame (${this.buffered}${need} bytes received)`);
      throw this.failure;
    }
  }

  private next(): Frame | null {
    if (this.payloadLength < 0 && !this.readHeader()) return null;
    const total = FRAME_HEADER_BYTES + this.payloadLength + FRAME_TRAILER_BYTES;
    if (this.buffered < total) return null;
    const bytes = this.take(total);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const expected = view.getUint32(total - FRAME_TRAILER_BYTES);
    const actual = crc32(bytes.subarray(2, total - FRAME_TRAILER_BYTES));
    if (expected !== actual) {
      throw new ProtocolError('PROTO_BAD_CRC', `frame checksum mismatch (CRC32 ${hex(actual)}, frame says ${hex(expected)}): bytes were corrupted on the way`);
    }
    this.payloadLength = -1;
    return { type: bytes[3] as FrameType, payload: bytes.subarray(FRAME_HEADER_BYTES, total - FRAME_TRAILER_BYTES) };
  }

  /** Checks the header as far as it has arrived, so garbage is refused at its first byte. */
  private readHeader(): boolean {
    const have = Math.min(this.buffered, FRAME_HEADER_BYTES);
    const head = this.peek(have);
    if ((have > 0 && head[0] !== FRAME_MAGIC_0) || (have > 1 && head[1] !== FRAME_MAGIC_1)) {
      throw new ProtocolError('PROTO_BAD_MAGIC', `expected an axctl frame, got ${preview(this.peek(Math.min(this.buffered, 64)))}`, {
        hint: 'the peer is not an axagent/axctl speaking this protocol (a shell or another program answered?)',
      });
    }
    if (have > 2 && head[2] !== FRAME_VERSION) {
      throw new ProtocolError('PROTO_BAD_VERSION', `frame format version ${head[2]} is not supported (this side speaks ${FRAME_VERSION})`, {
        hint: 'install the same axctl release on the host and the board',
      });
    }
    if (have > 3 && head[3]! > FrameType.Pong) {
      throw new ProtocolError('PROTO_BAD_FRAME_TYPE', `unknown frame type ${head[3]}`);
    }
    if (have < FRAME_HEADER_BYTES) return false;
    const length = new DataView(head.buffer, head.byteOffset, head.byteLength).getUint32(4);
    if (this.unauthenticatedMax !== null && length > this.unauthenticatedMax && length <= this.maxPayloadBytes) {
      throw new ProtocolError('PROTO_PREAUTH_TOO_LARGE', `a frame of ${length} bytes before authentication (at most ${this.unauthenticatedMax} bytes until then)`);
    }
    if (length > this.maxPayloadBytes) {
      throw new ProtocolError('PROTO_FRAME_TOO_LARGE', `a frame of ${length} bytes is over the limit of ${this.maxPayloadBytes} bytes`);
    }
    this.payloadLength = length;
    return true;
  }

  /** The first n buffered bytes without consuming them (n <= 64, so a copy is cheap). */
  private peek(n: number): Uint8Array {
    const first = this.chunks[0];
    if (first && first.length >= n) return first.subarray(0, n);
    const out = new Uint8Array(n);
    let filled = 0;
    for (const chunk of this.chunks) {
      if (filled === n) break;
      const part = chunk.subarray(0, n - filled);
      out.set(part, filled);
      filled += part.length;
    }
    return out;
  }

  /** Consumes n bytes: a view when they lie in one chunk, else one copy. */
  private take(n: number): Uint8Array {
    this.buffered -= n;
    const first = this.chunks[0]!;
    if (first.length >= n) {
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
      return first.subarray(0, n);
    }
    // Every byte is overwritten below, so no zero-fill (a 1 MiB frame over stdio or SSH arrives
    // in 64 KiB reads and is assembled here). Lent memory, when there is some, is warm: fresh
    // memory costs page faults, several times the copy.
    const out = (n >= LEND_FROM_BYTES ? this.receiveBuffers?.take(n) : null) ?? Buffer.allocUnsafe(n);
    let filled = 0;
    while (filled < n) {
      const chunk = this.chunks[0]!;
      const part = chunk.subarray(0, n - filled);
      out.set(part, filled);
      filled += part.length;
      if (part.length === chunk.length) this.chunks.shift();
      else this.chunks[0] = chunk.subarray(part.length);
    }
    return out;
  }
}

function hex(n: number): string {
  return `0x${n.toString(16).padStart(8, '0')}`;
}

/** Bytes shown for a human: printable ASCII as text, the rest as \xNN. */
function preview(bytes: Uint8Array): string {
  let text = '';
  for (const b of bytes) text += b >= 0x20 && b < 0x7f && b !== 0x22 ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, '0')}`;
  return `"${text}"`;
}
