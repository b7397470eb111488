import { describe, expect, it } from 'vitest';
import { MetricsAccumulator, type MetricsOptions } from '../../shared/metrics';
import type { NumericArray } from '../../shared/tensor/types';

function metricsOf(ref: NumericArray, got: NumericArray, options: MetricsOptions = {}) {
  const acc = new MetricsAccumulator(options);
  acc.update(ref, got);
  return acc.result();
}

const f32 = (...v: number[]) => Float32Array.from(v);
const f64 = (...v: number[]) => Float64Array.from(v);

describe('MetricsAccumulator values', () => {
  it('computes every metric of a small known pair', () => {
    const m = metricsOf(f64(1, 2, 3), f64(1, 2, 4), { atol: 0, rtol: 0.1 });
    expect(m.count).toBe(3);
    expect(m.cosine).toBeCloseTo(17 / Math.sqrt(14 * 21), 15);
    expect(m.relErr2).toBeCloseTo(1 / Math.sqrt(14), 15);
    expect(m.maxAbsDiff).toBe(1);
    expect(m.meanAbsDiff).toBeCloseTo(1 / 3, 15);
    expect(m.maxRelDiff).toBeCloseTo(1 / 3, 15);
    expect(m.mismatched).toBe(1);
    expect(m.mismatchedShare).toBeCloseTo(1 / 3, 15);
    expect(m.allclose).toBe(false);
    expect(m.exact).toBe(false);
    expect(m.worst).toEqual({ index: 2, multiIndex: null, ref: 3, got: 4, absDiff: 1 });
    expect(m.nan).toEqual({ ref: 0, got: 0 });
    expect(m.inf).toEqual({ ref: 0, got: 0 });
  });

  it('uses the reference (first argument) to scale rtol, like numpy.allclose(got, ref)', () => {
    // |10 − 11| = 1 <= 0.1·|10|: passes with 10 as the reference...
    expect(metricsOf(f64(10), f64(11), { atol: 0, rtol: 0.1 }).allclose).toBe(true);
    // ...but 1 > 0.1·|9| fails with 9 as the reference, though numpy.isclose(9, 10) (b = 10) passes.
    expect(metricsOf(f64(9), f64(10), { atol: 0, rtol: 0.1 }).allclose).toBe(false);
  });

  it('reports identical tensors as exact, allclose and cosine 1 with no worst element', () => {
    const m = metricsOf(f32(0.5, -2, 3.25), f32(0.5, -2, 3.25));
    expect(m).toMatchObject({ cosine: 1, relErr2: 0, maxAbsDiff: 0, meanAbsDiff: 0, maxRelDiff: 0, mismatched: 0, allclose: true, exact: true, worst: null });
  });

  it('gives the worst element as a multi-index when the shape is known', () => {
    const m = metricsOf(f32(0, 0, 0, 0, 0, 0), f32(0, 0, 0, 0, 0.5, 0.25), { shape: [1, 2, 3] });
    expect(m.worst).toEqual({ index: 4, multiIndex: [0, 1, 1], ref: 0, got: 0.5, absDiff: 0.5 });
  });

  it('keeps the first of equal largest differences', () => {
    expect(metricsOf(f64(0, 1, 0), f64(1, 0, 1)).worst?.index).toBe(0);
  });
});

describe('MetricsAccumulator edge cases', () => {
  it('two all-zero tensors: cosine 1, relErr2 0, exact', () => {
    expect(metricsOf(f32(0, 0, 0), f32(0, 0, 0))).toMatchObject({ cosine: 1, relErr2: 0, exact: true });
  });

  it('zero reference vs non-zero: cosine 0, relErr2 Infinity, maxRelDiff Infinity', () => {
    expect(metricsOf(f32(0, 0), f32(0, 1))).toMatchObject({ cosine: 0, relErr2: Infinity, maxRelDiff: Infinity });
  });

  it('non-zero reference vs zero: cosine 0, relErr2 1', () => {
    expect(metricsOf(f32(3, 4), f32(0, 0))).toMatchObject({ cosine: 0, relErr2: 1, maxAbsDiff: 4 });
  });

  it('an empty pair is exact with neutral values', () => {
    const acc = new MetricsAccumulator({ shape: [0, 3] });
    acc.update(new Float32Array(0), new Float32Array(0));
    expect(acc.result()).toMatchObject({
      count: 0, finiteCount: 0, cosine: 1, relErr2: 0, maxAbsDiff: 0, meanAbsDiff: 0, mismatched: 0, mismatchedShare: 0, allclose: true, exact: true, worst: null, topK: null,
    });
  });

  it('refuses chunks of different lengths', () => {
    expect(() => new MetricsAccumulator().update(f32(1, 2), f32(1))).toThrow(RangeError);
  });

  it('cosine of opposite vectors is -1', () => {
    expect(metricsOf(f64(1, -2, 3), f64(-1, 2, -3)).cosine).toBe(-1);
  });
});

describe('NaN and Inf', () => {
  it('NaN on one side is a mismatch, counted per side, and the worst element', () => {
    const m = metricsOf(f32(1, NaN, 3, 4), f32(1, 2, 3, 5), { atol: 10 });
    expect(m.nan).toEqual({ ref: 1, got: 0 });
    expect(m.mismatched).toBe(1);
    expect(m.nonFiniteMismatched).toBe(1);
    expect(m.allclose).toBe(false);
    expect(m.exact).toBe(false);
    expect(m.worst?.index).toBe(1);
    expect(m.worst?.ref).toBeNaN();
    // The value metrics cover the finite pairs only.
    expect(m.finiteCount).toBe(3);
    expect(m.maxAbsDiff).toBe(1);
  });

  it('NaN on both sides mismatches by default and matches with equalNan', () => {
    expect(metricsOf(f64(NaN, 1), f64(NaN, 1)).mismatched).toBe(1);
    const m = metricsOf(f64(NaN, 1), f64(NaN, 1), { equalNan: true });
    expect(m).toMatchObject({ mismatched: 0, allclose: true, exact: true, nan: { ref: 1, got: 1 } });
  });

  it('NaN at different places never matches, even with equalNan', () => {
    expect(metricsOf(f64(NaN, 1), f64(1, NaN), { equalNan: true }).mismatched).toBe(2);
  });

  it('equal infinities match, others do not', () => {
    expect(metricsOf(f64(Infinity, -Infinity), f64(Infinity, -Infinity))).toMatchObject({ mismatched: 0, exact: true, inf: { ref: 2, got: 2 } });
    expect(metricsOf(f64(Infinity, 1), f64(-Infinity, Infinity)).mismatched).toBe(2);
  });

  it('a chunk with a NaN gives the same sums as the same finite values without it', () => {
    const withNan = metricsOf(f32(1, 2, NaN, 3), f32(1.5, 2, 7, 2));
    const without = metricsOf(f32(1, 2, 3), f32(1.5, 2, 2));
    expect(withNan.cosine).toBe(without.cosine);
    expect(withNan.relErr2).toBe(without.relErr2);
    expect(withNan.meanAbsDiff).toBe(without.meanAbsDiff);
  });
});

describe('chunk types', () => {
  const values = [0, 1, -3, 7, 100, -100, 5];
  const naive = (ref: number[], got: number[]) => {
    let dot = 0, r = 0, g = 0, max = 0;
    for (let i = 0; i < ref.length; i++) {
      dot += ref[i] * got[i]; r += ref[i] ** 2; g += got[i] ** 2; max = Math.max(max, Math.abs(ref[i] - got[i]));
    }
    return { cosine: dot / Math.sqrt(r * g), max };
  };
  const got = values.map((v, i) => v + (i % 3) - 1);
  const expected = naive(values, got);

  it.each([
    ['Int8Array', Int8Array.from(values), Int8Array.from(got)],
    ['Int16Array', Int16Array.from(values), Int16Array.from(got)],
    ['Int32Array', Int32Array.from(values), Int32Array.from(got)],
    ['Int8 vs Float32', Int8Array.from(values), Float32Array.from(got)],
    ['Int16 vs Float64', Int16Array.from(values), Float64Array.from(got)],
    ['Float32 vs Float64', Float32Array.from(values), Float64Array.from(got)],
    ['BigInt64Array', BigInt64Array.from(values.map(BigInt)), BigInt64Array.from(got.map(BigInt))],
  ] as const)('%s gives the same metrics as plain numbers', (_name, ref, other) => {
    const m = metricsOf(ref, other);
    expect(m.cosine).toBeCloseTo(expected.cosine, 14);
    expect(m.maxAbsDiff).toBe(expected.max);
  });

  it('unsigned types are read as unsigned', () => {
    const m = metricsOf(Uint8Array.of(255, 0), Uint8Array.of(254, 0));
    expect(m.worst).toMatchObject({ ref: 255, got: 254 });
    expect(metricsOf(Uint16Array.of(65535), Uint16Array.of(0)).maxAbsDiff).toBe(65535);
    expect(metricsOf(Uint32Array.of(4294967295), Int32Array.of(-1)).maxAbsDiff).toBe(4294967296);
  });

  it('integer pairs longer than a conversion block keep their flat indices', () => {
    const n = 200_000;
    const ref = new Int16Array(n).map((_, i) => (i * 7) % 1000);
    const got = ref.slice();
    got[150_001] += 3;
    const m = metricsOf(ref, got, { atol: 0, rtol: 0 });
    expect(m.mismatched).toBe(1);
    expect(m.worst).toMatchObject({ index: 150_001, absDiff: 3 });
  });
});

describe('top-k agreement', () => {
  it('is computed for a [1, classes] output', () => {
    const ref = f32(0.1, 0.5, 0.2, 0.9, 0.3, 0.05, 0.7);
    const got = f32(0.1, 0.5, 0.2, 0.6, 0.3, 0.05, 0.8);
    const { topK } = metricsOf(ref, got, { shape: [1, 7] });
    expect(topK).toMatchObject({ classes: 7, refTop1: 3, gotTop1: 6, top1: false, refTop5: [3, 6, 1, 4, 2], gotTop5: [6, 3, 1, 4, 2], top5: 1 });
  });

  it('counts the shared top-5 classes', () => {
    const ref = f64(9, 8, 7, 6, 5, 4, 3);
    const got = f64(9, 8, 7, 1, 1, 6, 5);
    expect(metricsOf(ref, got, { shape: [7] }).topK).toMatchObject({ top1: true, top5: 0.6 });
  });

  it('ranks ties by index and NaN last', () => {
    const { topK } = metricsOf(f64(NaN, 1, 1, 0), f64(1, 1, 1, 1), { shape: [1, 1, 4] });
    expect(topK?.refTop5).toEqual([1, 2, 3, 0]);
    expect(topK?.gotTop5).toEqual([0, 1, 2, 3]);
  });

  it('is not computed for feature maps or without a shape', () => {
    expect(metricsOf(f32(1, 2, 3, 4), f32(1, 2, 3, 4), { shape: [2, 2] }).topK).toBeNull();
    expect(metricsOf(f32(1, 2), f32(1, 2)).topK).toBeNull();
  });

  it('works across chunks', () => {
    const acc = new MetricsAccumulator({ shape: [1, 4] });
    acc.update(f32(1, 2), f32(1, 2));
    acc.update(f32(5, 0), f32(0, 5));
    expect(acc.result().topK).toMatchObject({ refTop1: 2, gotTop1: 3, top1: false });
  });
});

describe('64-bit integers beyond 2^53', () => {
  // float64 cannot tell 2^62 from 2^62 + 1: the comparison must still see that the bits differ.
  const ref = BigInt64Array.from([2n ** 62n, 1n, -(2n ** 60n)]);
  const got = BigInt64Array.from([2n ** 62n + 1n, 1n, -(2n ** 60n)]);

  it('are not exact when they differ below float64 precision, and fail a bit-exact test', () => {
    const acc = new MetricsAccumulator({ atol: 0, rtol: 0 });
    acc.update(ref, got);
    const m = acc.result();
    expect(m.exact).toBe(false);
    expect(m.mismatched).toBe(1);
    expect(m.allclose).toBe(false);
  });

  it('pass a tolerance that admits any difference, still not exact', () => {
    const acc = new MetricsAccumulator({ atol: 1e-3, rtol: 1e-3 });
    acc.update(ref, got);
    expect(acc.result()).toMatchObject({ exact: false, mismatched: 0, allclose: true });
  });

  it('equal ones stay exact (also unsigned)', () => {
    const acc = new MetricsAccumulator({ atol: 0, rtol: 0 });
    acc.update(BigUint64Array.from([2n ** 63n + 5n]), BigUint64Array.from([2n ** 63n + 5n]));
    expect(acc.result()).toMatchObject({ exact: true, mismatched: 0, allclose: true });
  });
});
