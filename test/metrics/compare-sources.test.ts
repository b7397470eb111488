import { describe, expect, it } from 'vitest';
import { compareSources, stageTolerance, type Tolerance } from '../../shared/metrics';
import { AxError } from '../../shared/errors';
import type { TensorSource } from '../../shared/tensor/types';
import { memorySource } from './memory-source';

const boardFloat = stageTolerance('board-vs-simulator', 'float32');
const boardInt = stageTolerance('board-vs-simulator', 'int8');
const compile = stageTolerance('onnx-vs-joint', 'float32');

function ramp(n: number, scale = 1): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37) * scale);
}

describe('compareSources', () => {
  it('passes identical tensors and reports them exact', async () => {
    const data = ramp(1000);
    const result = await compareSources(memorySource(data, 'float32', [1, 1000]), memorySource(data.slice(), 'float32', [1, 1000]), boardFloat);
    expect(result.pass).toBe(true);
    expect(result.reasons).toEqual([]);
    expect(result.metrics).toMatchObject({ count: 1000, cosine: 1, exact: true });
    expect(result.metrics?.topK).toMatchObject({ top1: true, top5: 1 });
  });

  it('reports a length mismatch as a failure without reading, metrics null', async () => {
    const result = await compareSources(memorySource(ramp(10), 'float32', [1, 10]), memorySource(ramp(9), 'float32', [1, 9]), boardFloat);
    expect(result.pass).toBe(false);
    expect(result.metrics).toBeNull();
    expect(result.reasons[0]).toMatch(/element counts differ: reference \[1, 10\] has 10, compared \[1, 9\] has 9/);
  });

  it('zips chunks of different sizes into the same result as equal chunks', async () => {
    const ref = ramp(10_000);
    const got = ref.map((v, i) => (i % 7 === 0 ? v + 1e-3 : v));
    const even = await compareSources(memorySource(ref, 'float32'), memorySource(got, 'float32'), compile);
    const odd = await compareSources(memorySource(ref, 'float32', [10_000], 333), memorySource(got, 'float32', [10_000], 1024), compile);
    expect(odd.metrics).toEqual(even.metrics);
  });

  it('board stage: float32 rounding passes, one quantization step fails with the place named', async () => {
    const ref = ramp(4096, 8);
    const rounding = ref.map((v) => v * (1 + 2 ** -23));
    expect((await compareSources(memorySource(ref, 'float32'), memorySource(rounding, 'float32'), boardFloat)).pass).toBe(true);
    const step = ref.slice();
    step[100] += 8 / 127;
    const result = await compareSources(memorySource(ref, 'float32', [1, 64, 64]), memorySource(step, 'float32', [1, 64, 64]), boardFloat);
    expect(result.pass).toBe(false);
    expect(result.reasons[0]).toMatch(/^1 of 4096 elements .* outside atol 1e-5 \+ rtol 1e-4·\|reference\|; largest difference .* at \[0, 1, 36\]/);
  });

  it('board stage: integer outputs must be bit-exact', async () => {
    const ref = Int8Array.from({ length: 100 }, (_, i) => i - 50);
    const got = ref.slice();
    got[3] += 1;
    const result = await compareSources(memorySource(ref, 'int8'), memorySource(got, 'int8'), boardInt);
    expect(result.pass).toBe(false);
    expect(result.reasons[0]).toMatch(/1 of 100 elements \(1%\) differ \(bit-exact required\)/);
  });

  it('compile stage: judged by cosine only', async () => {
    const ref = ramp(1000);
    const close = ref.map((v, i) => v + Math.cos(i) * 0.05);
    const far = ref.map((v, i) => v + Math.cos(i * 1.3) * 0.5);
    const near = await compareSources(memorySource(ref, 'float32'), memorySource(close, 'float32'), compile);
    expect(near.pass).toBe(true);
    expect(near.metrics?.mismatched).toBeGreaterThan(0);
    const bad = await compareSources(memorySource(ref, 'float32'), memorySource(far, 'float32'), compile);
    expect(bad.pass).toBe(false);
    expect(bad.reasons).toEqual([expect.stringMatching(/^cosine similarity 0\.\d+ is below 0\.98$/)]);
  });

  it('an Inf on one side fails even where allclose is not required', async () => {
    const ref = ramp(10);
    const got = ref.slice();
    got[4] = Infinity;
    const result = await compareSources(memorySource(ref, 'float32'), memorySource(got, 'float32'), compile);
    expect(result.pass).toBe(false);
    expect(result.metrics?.inf).toEqual({ ref: 0, got: 1 });
  });

  it('notes shapes that differ only in 1-sized dims, fails other layouts', async () => {
    const data = ramp(12);
    const squeezed = await compareSources(memorySource(data, 'float32', [1, 12]), memorySource(data, 'float32', [12]), boardFloat);
    expect(squeezed.pass).toBe(true);
    expect(squeezed.notes.join()).toMatch(/only in 1-sized dimensions/);
    const layout = await compareSources(memorySource(data, 'float32', [1, 3, 2, 2]), memorySource(data, 'float32', [1, 2, 2, 3]), boardFloat);
    expect(layout.pass).toBe(false);
    expect(layout.reasons[0]).toMatch(/shapes differ .* layouts \(NCHW vs NHWC\?\) may differ/);
    expect(layout.metrics?.exact).toBe(true);
  });

  it('compares integer against float by value, with a note about dequantizing', async () => {
    const result = await compareSources(memorySource(Float32Array.of(1, 2, 3), 'float32'), memorySource(Int8Array.of(1, 2, 3), 'int8'), boardFloat);
    expect(result.pass).toBe(true);
    expect(result.notes.join()).toMatch(/dtypes differ \(reference float32, compared int8\).*dequantize/);
  });

  it('compares empty tensors as equal', async () => {
    const result = await compareSources(memorySource(new Float32Array(0), 'float32', [0]), memorySource(new Float32Array(0), 'float32', [0]), boardFloat);
    expect(result).toMatchObject({ pass: true, metrics: { count: 0, cosine: 1, exact: true } });
  });

  it('notes a pass that is not bit-exact', async () => {
    const result = await compareSources(memorySource(Float32Array.of(1), 'float32'), memorySource(Float32Array.of(1.00001), 'float32'), boardFloat);
    expect(result.notes).toContain('within tolerance but not bit-exact');
  });

  it('throws COMPARE_SOURCE_LENGTH for a source that yields fewer or more elements than it claims', async () => {
    const liar = (claimed: number, actual: number): TensorSource => ({
      info: { path: 'liar.bin', dtype: 'float32', shape: [claimed], length: claimed },
      async *chunks() {
        yield new Float32Array(actual);
      },
    });
    const tol: Tolerance = boardFloat;
    for (const [claimed, actual] of [[10, 8], [10, 12]]) {
      const err = await compareSources(liar(claimed, actual), memorySource(new Float32Array(10), 'float32'), tol).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(AxError);
      expect((err as AxError).code).toBe('COMPARE_SOURCE_LENGTH');
      expect((err as AxError).message).toMatch(/^liar\.bin: yielded/);
    }
  });
});
