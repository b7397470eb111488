/** NHWC ↔ NCHW reordering and dequantization. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { nchwToNhwc, nhwcToNchw } from '../../shared/tensor/layout';
import { dequantize } from '../../shared/tensor/quant';
import { expectAxError } from './helpers';

describe('layout', () => {
  it('moves channels of a [1, 2, 2, 3] NHWC image to NCHW', () => {
    // pixel p (0..3), channel c (0..2) holds 10·p + c
    const nhwc = Uint8Array.from([0, 1, 2, 10, 11, 12, 20, 21, 22, 30, 31, 32]);
    const { data, shape } = nhwcToNchw(nhwc, [1, 2, 2, 3]);
    expect(shape).toEqual([1, 3, 2, 2]);
    expect(Array.from(data)).toEqual([0, 10, 20, 30, 1, 11, 21, 31, 2, 12, 22, 32]);
    expect(data).toBeInstanceOf(Uint8Array);
  });

  it('NCHW → NHWC undoes NHWC → NCHW for any 4-D shape and batch', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 4, maxLength: 4 }), (shape) => {
        const n = shape.reduce((a, b) => a * b, 1);
        const data = Float64Array.from({ length: n }, (_, i) => i);
        const there = nhwcToNchw(data, shape);
        const back = nchwToNhwc(there.data, there.shape);
        expect(back.shape).toEqual(shape);
        expect(Array.from(back.data)).toEqual(Array.from(data));
        const [, h, w, c] = shape;
        for (let i = 0; i < n; i++) {
          // element (b, y, x, ch) of NHWC lands at (b, ch, y, x) of NCHW
          const ch = i % c, x = Math.floor(i / c) % w, y = Math.floor(i / (c * w)) % h, bb = Math.floor(i / (c * w * h));
          expect(there.data[((bb * c + ch) * h + y) * w + x]).toBe(i);
        }
      }),
    );
  });

  it('keeps BigInt data', () => {
    const { data } = nchwToNhwc(BigInt64Array.from([1n, 2n, 3n, 4n]), [1, 2, 2, 1]);
    expect(Array.from(data)).toEqual([1n, 3n, 2n, 4n]);
  });

  it('leaves tensors under 4-D unchanged, refuses over 4-D and wrong lengths', async () => {
    const logits = new Float32Array([1, 2, 3]);
    expect(nhwcToNchw(logits, [1, 3])).toEqual({ data: logits, shape: [1, 3] });
    expect(nchwToNhwc(logits, [3]).data).toBe(logits);
    await expectAxError(Promise.resolve().then(() => nhwcToNchw(new Float32Array(2), [1, 1, 1, 1, 2])), 'LAYOUT_RANK_UNSUPPORTED');
    await expectAxError(Promise.resolve().then(() => nchwToNhwc(new Float32Array(5), [1, 1, 2, 2])), 'LAYOUT_SHAPE_MISMATCH');
  });
});

describe('dequantize', () => {
  it('divides by Q for every integer array type', () => {
    expect(Array.from(dequantize(Int16Array.from([-512, 0, 256, 1]), 256))).toEqual([-2, 0, 1, 1 / 256]);
    expect(Array.from(dequantize(Uint8Array.from([255]), 2))).toEqual([127.5]);
    expect(Array.from(dequantize(BigInt64Array.from([-4n]), 4))).toEqual([-1]);
    expect(dequantize(new Int8Array(0), 3)).toEqual(new Float64Array(0));
  });

  it.each([0, -1, NaN, Infinity])('refuses Q=%s with QUANT_BAD_VALUE', async (q) => {
    const err = await expectAxError(Promise.resolve().then(() => dequantize(new Int8Array(1), q)), 'QUANT_BAD_VALUE');
    expect(err.message).toContain(`Q=${q}`);
  });
});
