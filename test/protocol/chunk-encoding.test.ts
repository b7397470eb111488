/**
 * The hand-written PutChunk/GetChunk encoder must write exactly what protobufjs writes, decode
 * back to the same envelope, and frame in place to exactly the bytes the three-part framing
 * gives.
 */
import fc from 'fast-check';
import { Root } from 'protobufjs/light';
import { describe, expect, it } from 'vitest';
import { descriptor } from '../../proto/gen/axctl-descriptor';
import { encodeGetChunkEnvelope, encodePutChunkEnvelope } from '../../shared/protocol/chunk-encoding';
import { decodeEnvelope, encodeEnvelope, type Envelope } from '../../shared/protocol/envelope';
import { FrameType, allocFramePayload, decodeFrame, encodeFrame, encodeFrameParts } from '../../shared/protocol/frame';

const EnvelopeType = Root.fromJSON(descriptor).lookupType('axctl.v1.Envelope');
const viaProtobufjs = (env: Envelope) => Buffer.from(EnvelopeType.encode(EnvelopeType.fromObject(env)).finish());

const id = fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 0xffffffff }));
const offset = fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 127 }), fc.integer({ min: 128, max: 2 ** 32 + 5 }), fc.constant(Number.MAX_SAFE_INTEGER));
const data = fc.oneof(fc.constant(new Uint8Array(0)), fc.uint8Array({ minLength: 1, maxLength: 300 }));

describe('chunk envelopes', () => {
  it('PutChunk: the same bytes as protobufjs, and decodes to the same envelope', () => {
    fc.assert(
      fc.property(id, offset, data, (i, o, d) => {
        const env: Envelope = { id: i, body: 'putChunk', putChunk: { offset: o, data: d } };
        const fast = encodePutChunkEnvelope(i, { offset: o, data: d });
        expect(Buffer.from(fast).equals(viaProtobufjs(env))).toBe(true);
        const back = decodeEnvelope(fast);
        expect(back).toMatchObject({ id: i, body: 'putChunk', putChunk: { offset: o } });
        expect(Buffer.from((back as { putChunk: { data: Uint8Array } }).putChunk.data).equals(Buffer.from(d))).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('GetChunk: the same bytes as protobufjs, last and blobSize included', () => {
    fc.assert(
      fc.property(id, offset, data, fc.boolean(), offset, (i, o, d, last, blobSize) => {
        const env: Envelope = { id: i, body: 'getChunk', getChunk: { offset: o, data: d, last, blobSize } };
        const fast = encodeGetChunkEnvelope(i, { offset: o, data: d, last, blobSize });
        expect(Buffer.from(fast).equals(viaProtobufjs(env))).toBe(true);
        expect(decodeEnvelope(fast)).toMatchObject({ id: i, getChunk: { offset: o, last, blobSize } });
      }),
      { numRuns: 300 },
    );
  });

  it('encodeEnvelope takes the fast path for chunks only', () => {
    const put: Envelope = { id: 3, body: 'putChunk', putChunk: { offset: 1 << 20, data: new Uint8Array([1, 2, 3]) } };
    expect(Buffer.from(encodeEnvelope(put)).equals(viaProtobufjs(put))).toBe(true);
    const ack: Envelope = { id: 3, body: 'putAck', putAck: { received: 7, complete: false } };
    expect(Buffer.from(encodeEnvelope(ack)).equals(viaProtobufjs(ack))).toBe(true);
  });

  it('refuses an offset that is not a whole number of bytes (a bug, before any byte is sent)', () => {
    expect(() => encodePutChunkEnvelope(1, { offset: -1, data: new Uint8Array(1) })).toThrow(RangeError);
    expect(() => encodePutChunkEnvelope(1, { offset: 1.5, data: new Uint8Array(1) })).toThrow(RangeError);
    expect(() => encodeGetChunkEnvelope(1, { offset: 0, data: new Uint8Array(1), last: true, blobSize: 2 ** 53 })).toThrow(RangeError);
  });
});

describe('framing in place', () => {
  it('gives one buffer equal to header + payload + trailer, once; a second framing is in parts', () => {
    const payload = allocFramePayload(5);
    payload.set([10, 20, 30, 40, 50]);
    const copy = Uint8Array.from(payload);
    const inPlace = encodeFrameParts(FrameType.Message, payload);
    expect(inPlace).toHaveLength(1);
    expect(Buffer.from(inPlace[0]!).equals(Buffer.from(encodeFrame(FrameType.Message, copy)))).toBe(true);
    expect(decodeFrame(inPlace[0]!).payload).toEqual(copy);
    const again = encodeFrameParts(FrameType.Message, payload);
    expect(again).toHaveLength(3);
    expect(Buffer.concat(again).equals(Buffer.from(inPlace[0]!))).toBe(true);
  });

  it('frames an ordinary payload (not from allocFramePayload) in three parts, leaving it untouched', () => {
    const payload = new Uint8Array([1, 2, 3]);
    const parts = encodeFrameParts(FrameType.Message, payload);
    expect(parts).toHaveLength(3);
    expect(parts[1]).toBe(payload);
  });
});
