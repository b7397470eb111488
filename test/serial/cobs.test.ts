import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CobsDeframer, cobsDecode, cobsFrame, cobsMaxEncodedLength } from '../../shared/serial/cobs';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const unhex = (s: string) => new Uint8Array(Buffer.from(s.replace(/\s/g, ''), 'hex'));

function deframe(maxEncoded: number, ...chunks: Uint8Array[]): { frames: string[]; deframer: CobsDeframer } {
  const deframer = new CobsDeframer(maxEncoded);
  const frames: string[] = [];
  for (const chunk of chunks) deframer.push(chunk, (encoded) => frames.push(hex(cobsDecode(encoded) ?? new Uint8Array([0xde, 0xad]))));
  return { frames, deframer };
}

describe('COBS', () => {
  it('matches the published examples (delimiters included)', () => {
    expect(hex(cobsFrame(unhex('00')))).toBe('00010100');
    expect(hex(cobsFrame(unhex('0000')))).toBe('0001010100');
    expect(hex(cobsFrame(unhex('11220033')))).toBe('00031122023300');
    expect(hex(cobsFrame(unhex('11223344')))).toBe('00051122334400');
    const run = Uint8Array.from({ length: 254 }, (_, i) => i + 1);
    expect(hex(cobsFrame(run))).toBe(`00ff${hex(run)}0100`);
  });

  it('round-trips any bytes, never puts 0x00 inside a frame, and stays within its bound', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), (raw) => {
        const framed = cobsFrame(raw);
        const inner = framed.subarray(1, framed.length - 1);
        expect(framed[0]).toBe(0);
        expect(framed.at(-1)).toBe(0);
        expect(inner.includes(0)).toBe(false);
        expect(inner.length).toBeLessThanOrEqual(cobsMaxEncodedLength(raw.length));
        expect(hex(cobsDecode(inner)!)).toBe(hex(raw));
      }),
    );
  });

  it('rejects a code byte that points past the end', () => {
    expect(cobsDecode(unhex('05 11 22'))).toBeUndefined();
  });
});

describe('CobsDeframer', () => {
  it('finds frames however the stream is split', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ minLength: 1, maxLength: 300 }), { maxLength: 8 }), fc.array(fc.nat(), { maxLength: 10 }), (frames, cuts) => {
        const stream = Buffer.concat(frames.map((f) => cobsFrame(f)));
        const points = [...new Set(cuts.map((c) => c % (stream.length + 1)))].sort((a, b) => a - b);
        const chunks = [0, ...points, stream.length].slice(1).map((end, i, ends) => stream.subarray(i === 0 ? 0 : ends[i - 1], end));
        expect(deframe(1000, ...chunks).frames).toEqual(frames.map(hex));
      }),
    );
  });

  it('re-synchronises at the next delimiter after noise, dropping oversized runs', () => {
    const noise = Uint8Array.from({ length: 500 }, (_, i) => (i % 255) + 1);
    const { frames, deframer } = deframe(64, noise, cobsFrame(unhex('aabb')), noise.subarray(0, 10), cobsFrame(unhex('cc')));
    // The 500 noise bytes are dropped as oversized; the 10 before the second frame are not
    // oversized, so they reach the decoder (which the CRC will reject one layer up).
    expect(frames[0]).toBe('aabb');
    expect(frames.at(-1)).toBe('cc');
    expect(deframer.oversized).toBe(1);
  });

  it('forgets a partial frame on reset', () => {
    const whole = cobsFrame(unhex('010203')); // 00 04 01 02 03 00
    const deframer = new CobsDeframer(100);
    const frames: string[] = [];
    const collect = (f: Uint8Array) => frames.push(hex(f));
    deframer.push(whole.subarray(0, 3), collect);
    deframer.reset();
    deframer.push(whole.subarray(3), collect);
    deframer.push(whole, collect);
    // Only the tail after the reset comes out as a (bad) frame; the head "04 01" is gone.
    expect(frames).toEqual(['0203', '04010203']);
  });
});
