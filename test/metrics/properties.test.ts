/** Properties of the metrics that must hold for any data (fast-check). */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareSources, MetricsAccumulator, stageTolerance, STAGES, type MetricsOptions } from '../../shared/metrics';
import type { NumericArray } from '../../shared/tensor/types';
import { cut, memorySource } from './memory-source';

function metricsOf(ref: NumericArray, got: NumericArray, options: MetricsOptions = {}) {
  const acc = new MetricsAccumulator(options);
  acc.update(ref, got);
  return acc.result();
}

/** numpy.isclose(got, ref, rtol, atol, equal_nan) written out plainly. */
function naiveIsClose(ref: number, got: number, atol: number, rtol: number, equalNan: boolean): boolean {
  if (Number.isNaN(ref) || Number.isNaN(got)) return equalNan && Number.isNaN(ref) && Number.isNaN(got);
  if (!Number.isFinite(ref) || !Number.isFinite(got)) return ref === got;
  return Math.abs(got - ref) <= atol + rtol * Math.abs(ref);
}

const moderate = fc.double({ min: -1e100, max: 1e100, noNaN: true, noDefaultInfinity: true });
const vector = (min = 1, max = 64) => fc.array(moderate, { minLength: min, maxLength: max }).map((v) => Float64Array.from(v));
const pair = fc
  .integer({ min: 1, max: 64 })
  .chain((n) => fc.tuple(fc.array(moderate, { minLength: n, maxLength: n }), fc.array(moderate, { minLength: n, maxLength: n })))
  .map(([a, b]) => [Float64Array.from(a), Float64Array.from(b)] as const);
const nonZero = (v: Float64Array) => v.some((x) => x * x > 0);

/** Values that make element tests interesting: ties, zeros, signs, NaN and infinities. */
const special = fc.oneof(
  fc.constantFrom(0, -0, 1, -1, 2, 1.5, NaN, Infinity, -Infinity, 1e-8, 1e-5),
  fc.double({ min: -10, max: 10, noNaN: true }),
);

describe('metric properties', () => {
  it('cos(x, x) = 1 for any non-zero x', () => {
    fc.assert(
      fc.property(vector().filter(nonZero), (x) => {
        expect(metricsOf(x, x).cosine).toBe(1);
      }),
    );
    fc.assert(
      fc.property(fc.float32Array({ minLength: 1, noNaN: true, noDefaultInfinity: true }).filter((x) => x.some((v) => v !== 0)), (x) => {
        expect(metricsOf(x, x).cosine).toBe(1);
      }),
    );
  });

  it('cosine is invariant to scaling either side by a positive factor', () => {
    const mid = fc.double({ min: -1e6, max: 1e6, noNaN: true });
    const arb = fc
      .integer({ min: 1, max: 32 })
      .chain((n) => fc.tuple(fc.array(mid, { minLength: n, maxLength: n }), fc.array(mid, { minLength: n, maxLength: n }), fc.double({ min: 1e-3, max: 1e3, noNaN: true })))
      .filter(([a, b]) => a.some((v) => Math.abs(v) > 1e-3) && b.some((v) => Math.abs(v) > 1e-3));
    fc.assert(
      fc.property(arb, ([a, b, c]) => {
        const x = Float64Array.from(a);
        const y = Float64Array.from(b);
        const base = metricsOf(x, y).cosine;
        expect(Math.abs(metricsOf(x.map((v) => v * c), y).cosine - base)).toBeLessThan(1e-9);
        expect(Math.abs(metricsOf(x, y.map((v) => v * c)).cosine - base)).toBeLessThan(1e-9);
      }),
    );
  });

  it('cosine and max-abs difference are symmetric', () => {
    fc.assert(
      fc.property(pair, ([x, y]) => {
        const xy = metricsOf(x, y);
        const yx = metricsOf(y, x);
        expect(yx.cosine).toBe(xy.cosine);
        expect(yx.maxAbsDiff).toBe(xy.maxAbsDiff);
      }),
    );
  });

  it('allclose and the mismatch count agree with a naive numpy.isclose(got, ref)', () => {
    const arb = fc
      .integer({ min: 0, max: 40 })
      .chain((n) =>
        fc.record({
          ref: fc.array(special, { minLength: n, maxLength: n }),
          got: fc.array(special, { minLength: n, maxLength: n }),
          atol: fc.constantFrom(0, 1e-8, 1e-5, 0.5),
          rtol: fc.constantFrom(0, 1e-5, 1e-4, 0.5),
          equalNan: fc.boolean(),
          float32: fc.boolean(),
        }),
      );
    fc.assert(
      fc.property(arb, ({ ref, got, atol, rtol, equalNan, float32 }) => {
        const Type = float32 ? Float32Array : Float64Array;
        const r = Type.from(ref);
        const g = Type.from(got);
        let expected = 0;
        for (let i = 0; i < r.length; i++) if (!naiveIsClose(r[i], g[i], atol, rtol, equalNan)) expected++;
        const m = metricsOf(r, g, { atol, rtol, equalNan });
        expect(m.mismatched).toBe(expected);
        expect(m.allclose).toBe(expected === 0);
      }),
    );
  });

  it('gives the same metrics whatever the chunking', () => {
    const arb = fc
      .integer({ min: 1, max: 80 })
      .chain((n) =>
        fc.record({
          ref: fc.array(special, { minLength: n, maxLength: n }),
          got: fc.array(special, { minLength: n, maxLength: n }),
          refCuts: fc.uniqueArray(fc.integer({ min: 1, max: Math.max(1, n - 1) }), { maxLength: 6 }),
          gotCuts: fc.uniqueArray(fc.integer({ min: 1, max: Math.max(1, n - 1) }), { maxLength: 6 }),
          kind: fc.constantFrom('f32', 'f64', 'i16-f32', 'i8'),
        }),
      );
    fc.assert(
      fc.asyncProperty(arb, async ({ ref, got, refCuts, gotCuts, kind }) => {
        const make = (v: number[], side: 'ref' | 'got'): NumericArray => {
          if (kind === 'f32') return Float32Array.from(v);
          if (kind === 'f64') return Float64Array.from(v);
          const ints = v.map((x) => (Number.isFinite(x) ? Math.trunc(x * 10) : 0));
          if (kind === 'i8') return Int8Array.from(ints);
          return side === 'ref' ? Int16Array.from(ints) : Float32Array.from(v);
        };
        const r = make(ref, 'ref');
        const g = make(got, 'got');
        const shape = [1, r.length];
        const whole = metricsOf(r, g, { shape });
        const sorted = (c: number[]) => c.filter((x) => x < r.length).sort((a, b) => a - b);
        const chunked = new MetricsAccumulator({ shape });
        // Feed the pieces through compareSources' own zipping as well as by hand.
        const rParts = cut(r, sorted(refCuts));
        const gParts = cut(g, sorted(refCuts));
        rParts.forEach((part, i) => chunked.update(part, gParts[i]));
        expect(chunked.result()).toEqual(whole);
        const source = (data: NumericArray, cuts: number[]) => ({
          info: { path: 'mem', dtype: 'float64' as const, shape, length: data.length },
          async *chunks() {
            yield* cut(data, sorted(cuts));
          },
        });
        const tol = stageTolerance('board-vs-simulator', 'float32');
        const zipped = await compareSources(source(r, refCuts), source(g, gotCuts), tol);
        const direct = await compareSources(memorySource(r, 'float64', shape), memorySource(g, 'float64', shape), tol);
        expect(zipped.metrics).toEqual(direct.metrics);
        expect(zipped.metrics).toEqual(metricsOf(r, g, { shape, atol: tol.atol, rtol: tol.rtol }));
      }),
    );
  });

  it('a NaN never passes, at any stage, unless both sides have it and equalNan was asked for', async () => {
    const arb = fc
      .integer({ min: 1, max: 50 })
      .chain((n) =>
        fc.record({
          values: fc.array(fc.double({ min: -100, max: 100, noNaN: true }), { minLength: n, maxLength: n }),
          at: fc.integer({ min: 0, max: n - 1 }),
          where: fc.constantFrom('ref', 'got', 'both'),
          stage: fc.constantFrom(...STAGES),
          equalNan: fc.boolean(),
        }),
      );
    await fc.assert(
      fc.asyncProperty(arb, async ({ values, at, where, stage, equalNan }) => {
        const ref = Float32Array.from(values);
        const got = Float32Array.from(values);
        if (where !== 'got') ref[at] = NaN;
        if (where !== 'ref') got[at] = NaN;
        const tol = { ...stageTolerance(stage, 'float32'), equalNan };
        const result = await compareSources(memorySource(ref, 'float32'), memorySource(got, 'float32'), tol);
        expect(result.pass).toBe(where === 'both' && equalNan);
        if (!result.pass) expect(result.reasons.join(' ')).toMatch(/NaN/);
      }),
    );
  });
});
