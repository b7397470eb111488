import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cobsFrame } from '../../shared/serial/cobs';
import { crc32 } from '../../shared/protocol/crc32';
import { decodeFrame, encodeFrame, type LinkFrame } from '../../shared/serial/frame';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const unhex = (s: string) => new Uint8Array(Buffer.from(s, 'hex'));

/** Frames with their exact bytes: the wire format must not drift between axctl and axagent. */
const golden = (JSON.parse(readFileSync(path.join(__dirname, '../fixtures/serial/frames.json'), 'utf8')) as { frame: Record<string, unknown>; raw: string; wire: string }[]).map(
  ({ frame, raw, wire }) => ({ frame: (frame.type === 'data' ? { ...frame, payload: unhex(frame.payload as string) } : frame) as LinkFrame, raw, wire }),
);

describe('link frames', () => {
  it.each(golden.map((g) => [g.frame.type, g] as const))('encodes and decodes a %s frame byte for byte', (_type, { frame, raw, wire }) => {
    expect(hex(encodeFrame(frame))).toBe(raw);
    expect(hex(cobsFrame(encodeFrame(frame)))).toBe(wire);
    expect(decodeFrame(unhex(raw))).toEqual(frame);
  });

  it('rejects every single-bit error and every truncation', () => {
    for (const { raw } of golden) {
      const bytes = unhex(raw);
      for (let bit = 0; bit < bytes.length * 8; bit++) {
        const bad = bytes.slice();
        bad[bit >> 3]! ^= 1 << (bit & 7);
        expect(decodeFrame(bad)).toBeUndefined();
      }
      for (let n = 0; n < bytes.length; n++) expect(decodeFrame(bytes.subarray(0, n))).toBeUndefined();
    }
  });

  it('rejects an unknown type and a control frame of the wrong length, even with a good CRC', () => {
    const withCrc = (body: number[]) => {
      const out = new Uint8Array(body.length + 4);
      out.set(body);
      new DataView(out.buffer).setUint32(body.length, crc32(out.subarray(0, body.length)), true);
      return out;
    };
    expect(decodeFrame(withCrc([0x70, 1, 2, 3, 4]))).toBeUndefined();
    expect(decodeFrame(withCrc([0x20, 1, 2, 3, 4, 5]))).toBeUndefined();
    expect(decodeFrame(withCrc([0x40, 1, 2, 3]))).toBeUndefined();
  });

  it('checks the zlib CRC-32 of the bytes before it', () => {
    const raw = unhex(golden[0]!.raw);
    expect(new DataView(raw.buffer).getUint32(raw.length - 4, true)).toBe(crc32(raw.subarray(0, raw.length - 4)));
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
  });

  it('round-trips any data frame', () => {
    const u16 = fc.integer({ min: 0, max: 0xffff });
    fc.assert(
      fc.property(u16, u16, u16, u16, fc.nat({ max: 0xffffffff }), fc.boolean(), fc.uint8Array({ maxLength: 1100 }), (seq, tx, next, echo, sack, fin, payload) => {
        const frame: LinkFrame = { type: 'data', seq, tx, ack: { next, echo, sack }, fin, payload };
        expect(decodeFrame(encodeFrame(frame))).toEqual(frame);
      }),
      { numRuns: 200 },
    );
  });
});
