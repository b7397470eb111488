/**
 * The frame codec, fed raw bytes: every split point, many frames at once, and each way a
 * stream of bytes can be wrong.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { crc32 } from '../../shared/protocol/crc32';
import { ProtocolError } from '../../shared/protocol/errors';
import { FRAME_OVERHEAD_BYTES, FrameDecoder, FrameType, decodeFrame, encodeFrame, type Frame } from '../../shared/protocol/frame';

const bytes = (...values: number[]) => Uint8Array.from(values);
const text = (s: string) => new TextEncoder().encode(s);

function decodeAll(chunks: Uint8Array[], maxPayloadBytes?: number): Frame[] {
  const decoder = new FrameDecoder({ maxPayloadBytes });
  const frames = chunks.flatMap((c) => decoder.push(c));
  decoder.end();
  return frames;
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ProtocolError);
    return (err as ProtocolError).code;
  }
  return undefined;
}

describe('frame layout', () => {
  it('writes magic, version, type, big-endian length, payload and the CRC of bytes 2..8+n', () => {
    const frame = encodeFrame(FrameType.Message, text('hi'));
    expect([...frame.subarray(0, 10)]).toEqual([0x41, 0x58, 1, 0, 0, 0, 0, 2, 0x68, 0x69]);
    const crc = new DataView(frame.buffer, frame.byteOffset).getUint32(10);
    expect(crc).toBe(crc32(frame.subarray(2, 10)));
    expect(frame.length).toBe(2 + FRAME_OVERHEAD_BYTES);
  });

  it('encodes ping and pong with empty payloads', () => {
    expect(decodeFrame(encodeFrame(FrameType.Ping))).toEqual({ type: FrameType.Ping, payload: new Uint8Array(0) });
    expect(decodeFrame(encodeFrame(FrameType.Pong)).type).toBe(FrameType.Pong);
  });
});

describe('FrameDecoder', () => {
  const payloads = [text('first'), new Uint8Array(0), Uint8Array.from({ length: 300 }, (_, i) => i & 0xff), text('last')];
  const stream = Buffer.concat(payloads.map((p) => encodeFrame(FrameType.Message, p)));

  it('decodes several frames delivered in one slice', () => {
    expect(decodeAll([stream]).map((f) => [...f.payload])).toEqual(payloads.map((p) => [...p]));
  });

  it('decodes the same frames split at every byte boundary', () => {
    for (let cut = 0; cut <= stream.length; cut++) {
      const frames = decodeAll([stream.subarray(0, cut), stream.subarray(cut)]);
      expect(frames.map((f) => Buffer.from(f.payload).toString('hex'))).toEqual(payloads.map((p) => Buffer.from(p).toString('hex')));
    }
  });

  it('decodes the stream fed one byte at a time', () => {
    const chunks = [...stream].map((b) => bytes(b));
    expect(decodeAll(chunks).map((f) => f.payload.length)).toEqual(payloads.map((p) => p.length));
  });

  it('decodes any payloads under any slicing (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 200 }), { maxLength: 6 }), fc.array(fc.nat(), { maxLength: 10 }), (msgs, cuts) => {
        const all = Buffer.concat(msgs.map((m) => encodeFrame(FrameType.Message, m)));
        const points = [...new Set(cuts.map((c) => c % (all.length + 1)))].sort((a, b) => a - b);
        const chunks: Uint8Array[] = [];
        let from = 0;
        for (const p of [...points, all.length]) {
          chunks.push(all.subarray(from, p));
          from = p;
        }
        const got = decodeAll(chunks).map((f) => Buffer.from(f.payload).toString('hex'));
        expect(got).toEqual(msgs.map((m) => Buffer.from(m).toString('hex')));
      }),
    );
  });

  it('hands out payloads the decoder never overwrites', () => {
    const decoder = new FrameDecoder();
    const first = encodeFrame(FrameType.Message, text('aaaa'));
    const [frame] = decoder.push(first.subarray(0, 7)).concat(decoder.push(first.subarray(7)));
    decoder.push(encodeFrame(FrameType.Message, text('bbbb')));
    expect(Buffer.from(frame!.payload).toString()).toBe('aaaa');
  });

  it('refuses bad magic at the first byte and shows what arrived', () => {
    const decoder = new FrameDecoder();
    let error: ProtocolError | undefined;
    try {
      decoder.push(text('bash: axagent: command not found\n'));
    } catch (err) {
      error = err as ProtocolError;
    }
    expect(error?.code).toBe('PROTO_BAD_MAGIC');
    expect(error?.message).toContain('bash: axagent: command not found');
    expect(codeOf(() => new FrameDecoder().push(bytes(0x41, 0x00)))).toBe('PROTO_BAD_MAGIC');
    expect(codeOf(() => new FrameDecoder().push(bytes(0x00)))).toBe('PROTO_BAD_MAGIC');
  });

  it('stays failed after an error (a byte stream cannot resynchronise)', () => {
    const decoder = new FrameDecoder();
    expect(codeOf(() => decoder.push(bytes(0x00)))).toBe('PROTO_BAD_MAGIC');
    expect(codeOf(() => decoder.push(encodeFrame(FrameType.Message, text('ok'))))).toBe('PROTO_BAD_MAGIC');
  });

  it('refuses another frame version and unknown frame types', () => {
    expect(codeOf(() => new FrameDecoder().push(bytes(0x41, 0x58, 2)))).toBe('PROTO_BAD_VERSION');
    expect(codeOf(() => new FrameDecoder().push(bytes(0x41, 0x58, 1, 9)))).toBe('PROTO_BAD_FRAME_TYPE');
  });

  it('detects a corrupted payload byte or a corrupted CRC', () => {
    const frame = encodeFrame(FrameType.Message, text('payload'));
    for (const index of [9, frame.length - 1]) {
      const bad = Uint8Array.from(frame);
      bad[index] ^= 0x01;
      expect(codeOf(() => decodeAll([bad]))).toBe('PROTO_BAD_CRC');
    }
  });

  it('refuses an oversize frame as soon as its header arrives, without buffering it', () => {
    const header = encodeFrame(FrameType.Message, new Uint8Array(1000)).subarray(0, 8);
    expect(codeOf(() => new FrameDecoder({ maxPayloadBytes: 999 }).push(header))).toBe('PROTO_FRAME_TOO_LARGE');
    expect(decodeAll([encodeFrame(FrameType.Message, new Uint8Array(999))], 999)).toHaveLength(1);
  });

  it('holds a peer to a small frame until it has authenticated, refused from the header alone', () => {
    const big = encodeFrame(FrameType.Message, new Uint8Array(5000));
    const before = new FrameDecoder({ unauthenticatedMaxPayloadBytes: 4096 });
    expect(before.push(encodeFrame(FrameType.Message, new Uint8Array(4096)))).toHaveLength(1);
    expect(codeOf(() => before.push(big.subarray(0, 8)))).toBe('PROTO_PREAUTH_TOO_LARGE');
    const after = new FrameDecoder({ unauthenticatedMaxPayloadBytes: 4096 });
    after.authenticated();
    expect(after.push(big)).toHaveLength(1);
  });

  it('reports a stream that ends in the middle of a frame', () => {
    const frame = encodeFrame(FrameType.Message, text('cut short'));
    for (const keep of [1, 5, 8, frame.length - 1]) {
      const decoder = new FrameDecoder();
      expect(decoder.push(frame.subarray(0, keep))).toEqual([]);
      expect(codeOf(() => decoder.end())).toBe('PROTO_TRUNCATED');
    }
    const clean = new FrameDecoder();
    clean.push(frame);
    expect(() => clean.end()).not.toThrow();
  });
});

describe('decodeFrame (one WebSocket message = one frame)', () => {
  it('refuses short buffers and trailing bytes', () => {
    const frame = encodeFrame(FrameType.Message, text('x'));
    expect(codeOf(() => decodeFrame(frame.subarray(0, frame.length - 1)))).toBe('PROTO_TRUNCATED');
    expect(codeOf(() => decodeFrame(Buffer.concat([frame, bytes(0x41)])))).toBe('PROTO_TRAILING_BYTES');
    expect(codeOf(() => decodeFrame(Buffer.concat([frame, frame])))).toBe('PROTO_TRAILING_BYTES');
  });
});
