/**
 * What the agent's SSH exec channel carries before the agent's first frame. OpenSSH runs
 * `ssh board CMD` through the user's login shell, which reads its startup files (~/.bashrc for
 * bash even when not interactive, ~/.profile, /etc/profile.d/...), and boards' images commonly
 * echo a banner there ("Welcome to AX620A"). Those bytes reach our end of the channel before
 * axagent's frames. So on the host side of an SSH exec channel, and only there, bytes that come
 * before the first valid frame are set aside (the start of them kept for messages) instead of
 * failing the connection: the decoder is handed the stream from the first frame on.
 *
 * Only there: the frame codec (shared/protocol/frame.ts) stays strict, a WebSocket or serial
 * link carries nothing but frames, and the agent's side reads a host that writes no banners.
 * After the first frame nothing is skipped any more: a stream cannot be trusted to resynchronise.
 *
 * A frame is recognised by its header ('A' 'X', version 1, a known type, a small length) and
 * confirmed by its CRC, so a banner that happens to contain "AX" is not taken for one: a
 * candidate whose CRC fails is passed over and the search goes on from its next byte.
 *
 * Pure: bytes in, bytes out; no I/O, no timers.
 */
import { crc32 } from '../../shared/protocol/crc32';
import { ProtocolError } from '../../shared/protocol/errors';
import { FRAME_HEADER_BYTES, FRAME_MAGIC_0, FRAME_MAGIC_1, FRAME_TRAILER_BYTES, FRAME_VERSION, FrameType } from '../../shared/protocol/frame';
import { peerText } from '../../shared/peer-text';

/** Bytes before the first frame tolerated (a banner is a few hundred); more fails the connection. */
export const PREAMBLE_LIMIT_BYTES = 64 * 1024;
/** How much of what was set aside is kept, for messages and the debug log. */
export const PREAMBLE_KEEP_BYTES = 4 * 1024;
/**
 * Largest payload a first frame may declare: the agent's first frame is an AgentHello, an
 * Error or a ping, a few hundred bytes. A larger claim is taken for noise, so a stray "AX\x01"
 * never makes us wait for megabytes that will not come.
 */
const FIRST_FRAME_MAX_PAYLOAD = 64 * 1024;

export class FramePreamble {
  /** Bytes not yet passed on nor set aside: a candidate frame being completed. */
  private pending: Buffer = Buffer.alloc(0);
  private kept: Buffer[] = [];
  private keptBytes = 0;
  private skippedBytes = 0;
  private synced = false;

  /** True once a valid frame has been seen; from then on every byte is passed on as is. */
  get found(): boolean {
    return this.synced;
  }

  /** How many bytes were set aside before the first frame. */
  get skipped(): number {
    return this.skippedBytes;
  }

  /** Everything that came before the first frame (or so far, if none yet), up to PREAMBLE_KEEP_BYTES. */
  printed(): Buffer {
    return Buffer.concat([...this.kept, this.synced ? Buffer.alloc(0) : this.pending]).subarray(0, PREAMBLE_KEEP_BYTES);
  }

  /** The bytes of `chunk` to hand to the frame decoder (none while still searching). */
  push(chunk: Uint8Array): Uint8Array[] {
    if (this.synced) return [chunk];
    this.pending = this.pending.length === 0 ? Buffer.from(chunk) : Buffer.concat([this.pending, chunk]);
    for (;;) {
      const start = this.candidate();
      if (start > 0) this.setAside(start);
      if (start < 0) {
        // No candidate: keep a trailing 'A' or 'AX' that may begin one in the next chunk.
        this.setAside(this.pending.length - this.partialMagicAtEnd());
        break;
      }
      const verdict = this.checkFrameAtStart();
      if (verdict === 'frame') {
        this.synced = true;
        const rest = this.pending;
        this.pending = Buffer.alloc(0);
        return [rest];
      }
      if (verdict === 'incomplete') break;
      this.setAside(1); // not a frame after all: search on from the next byte
    }
    if (this.skippedBytes > PREAMBLE_LIMIT_BYTES) {
      throw new ProtocolError('PROTO_BAD_MAGIC', `expected an axctl frame, got ${this.skippedBytes} bytes of something else, starting ${quote(this.printed(), 120)}`, {
        hint: 'the agent command does not speak the axctl protocol (a shell or another program answered); check --agent-command or the board\'s shell startup files',
      });
    }
    return [];
  }

  /** Offset of the first "AX" + version in pending, or -1 (a magic cut off at the end included). */
  private candidate(): number {
    const p = this.pending;
    for (let i = p.indexOf(FRAME_MAGIC_0); i >= 0; i = p.indexOf(FRAME_MAGIC_0, i + 1)) {
      if (i + 2 >= p.length) return -1; // "A" or "AX" at the very end: partialMagicAtEnd keeps it
      if (p[i + 1] === FRAME_MAGIC_1 && p[i + 2] === FRAME_VERSION) return i;
    }
    return -1;
  }

  /** 2 when pending ends in "AX", 1 when in "A", else 0. */
  private partialMagicAtEnd(): number {
    const p = this.pending;
    const n = p.length;
    if (n >= 2 && p[n - 2] === FRAME_MAGIC_0 && p[n - 1] === FRAME_MAGIC_1) return 2;
    if (n >= 1 && p[n - 1] === FRAME_MAGIC_0) return 1;
    return 0;
  }

  /** Whether pending starts with a whole valid frame, with a frame not yet complete, or with no frame. */
  private checkFrameAtStart(): 'frame' | 'incomplete' | 'no' {
    const p = this.pending;
    if (p.length > 3 && p[3]! > FrameType.Pong) return 'no';
    if (p.length < FRAME_HEADER_BYTES) return 'incomplete';
    const length = p.readUInt32BE(4);
    if (length > FIRST_FRAME_MAX_PAYLOAD) return 'no';
    const total = FRAME_HEADER_BYTES + length + FRAME_TRAILER_BYTES;
    if (p.length < total) return 'incomplete';
    return crc32(p.subarray(2, total - FRAME_TRAILER_BYTES)) === p.readUInt32BE(total - FRAME_TRAILER_BYTES) ? 'frame' : 'no';
  }

  private setAside(n: number): void {
    if (n <= 0) return;
    const gone = this.pending.subarray(0, n);
    this.pending = this.pending.subarray(n);
    this.skippedBytes += n;
    if (this.keptBytes < PREAMBLE_KEEP_BYTES) {
      const part = Buffer.from(gone.subarray(0, PREAMBLE_KEEP_BYTES - this.keptBytes));
      this.kept.push(part);
      this.keptBytes += part.length;
    }
  }
}

/** Bytes someone printed, as one safe quoted line (control characters escaped, cut to maxChars). */
export function quote(bytes: Uint8Array, maxChars = 200): string {
  let text: string;
  try {
    // stream: a multi-byte character cut at the end of what was kept is not binary.
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes, { stream: true }).trim();
  } catch {
    // Not text (a program writing binary to stdout): printable ASCII as is, every other byte as
    // \xNN, rather than a line of U+FFFD and stray glyphs.
    text = Array.from(bytes.subarray(0, maxChars), (b) => (b >= 0x20 && b < 0x7f && b !== 0x22 && b !== 0x5c ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, '0')}`)).join('');
    return `"${text.slice(0, maxChars * 4)}${bytes.length > maxChars ? ` [${bytes.length - maxChars} more bytes]` : ''}" (binary)`;
  }
  return `"${peerText(text, maxChars)}"`;
}
