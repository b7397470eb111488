/**
 * The relay's hang-up watch (agent/relay-hang-up.ts) reads real frames, as the owner encodes
 * them, from their first bytes only, however the stream splits them.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { RELAY_FRAME_LAYOUT, RelayHangUpWatch } from '../../agent/relay-hang-up';
import { encodeEnvelope, type Envelope } from '../../shared/protocol/envelope';
import { encodeFrame, FRAME_HEADER_BYTES, FRAME_MAGIC_0, FRAME_MAGIC_1, FRAME_TRAILER_BYTES, FrameType } from '../../shared/protocol/frame';

const frame = (env: Envelope) => encodeFrame(FrameType.Message, encodeEnvelope(env));
const error = (id: number): Envelope => ({ id, body: 'error', error: { code: 'AUTH_FAILED', message: 'the token does not match', hint: '', exitCode: 5 } });
const chunk = (id: number, bytes: number): Envelope => ({ id, body: 'getChunk', getChunk: { offset: 0, data: randomBytes(bytes), last: false, blobSize: bytes } });
const ping = () => encodeFrame(FrameType.Ping);

/** Feeds `bytes` to a new watch in pieces of `piece` bytes. */
function watch(bytes: Uint8Array[], piece: number): RelayHangUpWatch {
  const all = Buffer.concat(bytes);
  const w = new RelayHangUpWatch();
  for (let at = 0; at < all.length; at += piece) w.push(all.subarray(at, at + piece));
  return w;
}

describe('RelayHangUpWatch', () => {
  it("restates the frame layout as the codec has it (the relay loads no protocol module)", () => {
    expect(RELAY_FRAME_LAYOUT).toEqual({ magic: [FRAME_MAGIC_0, FRAME_MAGIC_1], headerBytes: FRAME_HEADER_BYTES, trailerBytes: FRAME_TRAILER_BYTES, messageType: FrameType.Message });
  });

  for (const piece of [1, 3, 7, 64 * 1024]) {
    it(`sees an Error for id 0 as the last message (pieces of ${piece} bytes)`, () => {
      expect(watch([frame(chunk(4, 70_000)), frame(error(0))], piece).hungUp).toBe(true);
      expect(watch([frame(error(0)), ping()], piece).hungUp).toBe(true); // a ping after it says nothing
    });

    it(`does not take other last messages for a hang-up (pieces of ${piece} bytes)`, () => {
      expect(watch([frame(error(0)), frame(chunk(4, 10))], piece).hungUp).toBe(false); // it only refused one request
      expect(watch([frame(error(7))], piece).hungUp).toBe(false); // a request's error
      expect(watch([frame(chunk(300, 70_000))], piece).hungUp).toBe(false);
      expect(watch([], piece).hungUp).toBe(false);
    });
  }

  it('stops judging a stream that is not frames (bytes without the magic, as a shell printing before the agent)', () => {
    const w = new RelayHangUpWatch();
    // Shaped like a frame with a bad magic: read as one, the Error after it would be seen.
    w.push(Buffer.from([0x4e, 0x4f, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0]));
    w.push(frame(error(0)));
    expect(w.hungUp).toBe(false);
  });
});
