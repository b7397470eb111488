/**
 * Whether the store's owner hung up on a relayed host: its last message was an Error for id 0
 * (AUTH_FAILED, AUTH_TIMEOUT, idle...). Who closed first cannot say it: the owner's hang-up
 * follows its Error at once, but a busy board can let the host read that Error and leave
 * before the owner's own end arrives (a CI run saw it). So the relay reads the frames it
 * passes on, as WatchedTransport (connection-watch.ts) does for a served connection, but
 * from their first bytes only: a relay keeps protobufjs out of its memory, and bulk chunks are
 * skipped, never copied.
 */

/**
 * The frame layout (shared/protocol/frame.ts), restated: a relay loads none of the protocol's
 * modules (a test holds it to that, and another holds these to frame.ts's).
 */
export const RELAY_FRAME_LAYOUT = { magic: [0x41, 0x58], headerBytes: 8, trailerBytes: 4, messageType: 0 } as const;
const FRAME_HEADER_BYTES = RELAY_FRAME_LAYOUT.headerBytes;
const FRAME_TRAILER_BYTES = RELAY_FRAME_LAYOUT.trailerBytes;

/** Envelope.id, field 1, varint; Envelope.error, field 6, length-delimited (proto/axctl.proto). */
const ID_TAG = 0x08;
const ERROR_TAG = 0x32;
/** Enough of a payload to tell: [id tag, 0,] error tag. */
const PAYLOAD_PREFIX_BYTES = 3;

export class RelayHangUpWatch {
  private header = new Uint8Array(FRAME_HEADER_BYTES);
  private headerHave = 0;
  private prefix = new Uint8Array(PAYLOAD_PREFIX_BYTES);
  private prefixHave = 0;
  private frameType = -1;
  /** Bytes of the current frame's payload and trailer still to pass. */
  private bodyLeft = 0;
  private payloadLength = 0;
  private lastMessageWasHangUp = false;
  /** The stream is not frames as we know them (nothing to judge by): stop reading it. */
  private lost = false;

  /** True when the last whole message was an Error for the connection (id 0). */
  get hungUp(): boolean {
    return this.lastMessageWasHangUp;
  }

  push(chunk: Uint8Array): void {
    let at = 0;
    while (at < chunk.length && !this.lost) {
      if (this.headerHave < FRAME_HEADER_BYTES) {
        const take = Math.min(FRAME_HEADER_BYTES - this.headerHave, chunk.length - at);
        this.header.set(chunk.subarray(at, at + take), this.headerHave);
        this.headerHave += take;
        at += take;
        if (this.headerHave === FRAME_HEADER_BYTES) this.startBody();
        continue;
      }
      const take = Math.min(this.bodyLeft, chunk.length - at);
      this.notePrefix(chunk.subarray(at, at + take));
      this.bodyLeft -= take;
      at += take;
      if (this.bodyLeft === 0) this.endFrame();
    }
  }

  private startBody(): void {
    const view = new DataView(this.header.buffer);
    if (this.header[0] !== RELAY_FRAME_LAYOUT.magic[0] || this.header[1] !== RELAY_FRAME_LAYOUT.magic[1]) {
      this.lost = true;
      return;
    }
    this.frameType = this.header[3]!;
    this.payloadLength = view.getUint32(4);
    this.bodyLeft = this.payloadLength + FRAME_TRAILER_BYTES;
    this.prefixHave = 0;
  }

  /** Keeps the first bytes of the payload (the trailer's bytes never land here: see endFrame). */
  private notePrefix(bytes: Uint8Array): void {
    const room = Math.min(PAYLOAD_PREFIX_BYTES, this.payloadLength) - this.prefixHave;
    if (room <= 0) return;
    const take = Math.min(room, bytes.length);
    this.prefix.set(bytes.subarray(0, take), this.prefixHave);
    this.prefixHave += take;
  }

  private endFrame(): void {
    this.headerHave = 0;
    if (this.frameType !== RELAY_FRAME_LAYOUT.messageType) return; // pings and pongs say nothing of it
    const p = this.prefix;
    const have = this.prefixHave;
    this.lastMessageWasHangUp = (have >= 1 && p[0] === ERROR_TAG) || (have >= 3 && p[0] === ID_TAG && p[1] === 0 && p[2] === ERROR_TAG);
  }
}
