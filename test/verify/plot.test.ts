/** Plot data for the HTML charts: strided sample, histogram of board − simulator. */
import { describe, expect, it } from 'vitest';
import { PLOT_BINS, PLOT_SAMPLE_MAX, plotOf } from '../../host/verify/plot';
import { memorySource } from '../metrics/memory-source';

describe('plotOf', () => {
  it('samples at most 2000 evenly strided pairs and counts every difference once', async () => {
    const n = 100_003;
    const ref = Float32Array.from({ length: n }, (_, i) => Math.sin(i));
    const got = Float32Array.from(ref, (v, i) => v + (i % 7) * 0.01);
    const plot = await plotOf(memorySource(ref, 'float32', [n], 4096), memorySource(got, 'float32', [n], 1000));
    expect(plot.sample.length).toBeLessThanOrEqual(PLOT_SAMPLE_MAX);
    expect(plot.sample.length).toBeGreaterThan(PLOT_SAMPLE_MAX / 2);
    const stride = Math.ceil(n / PLOT_SAMPLE_MAX);
    expect(plot.sample[3]).toEqual([ref[3 * stride], got[3 * stride]]);
    expect(plot.histogram.edges).toHaveLength(PLOT_BINS + 1);
    expect(plot.histogram.counts.reduce((a, b) => a + b, 0)).toBe(n);
    expect(plot.histogram.edges[0]).toBeCloseTo(0, 6);
    expect(plot.histogram.edges[PLOT_BINS]).toBeCloseTo(0.06, 6);
  });

  it('equal tensors: one bin around zero holds everything', async () => {
    const data = Int8Array.from([1, -2, 3, 4]);
    const plot = await plotOf(memorySource(data, 'int8'), memorySource(data, 'int8'));
    expect(plot.histogram.edges[0]).toBe(-0.5);
    expect(plot.histogram.edges[PLOT_BINS]).toBe(0.5);
    expect(plot.histogram.counts.filter((c) => c > 0)).toEqual([4]);
    expect(plot.sample).toEqual([[1, 1], [-2, -2], [3, 3], [4, 4]]);
  });

  it('leaves out pairs with NaN or Inf (JSON and charts cannot place them)', async () => {
    const ref = Float64Array.from([0, 1, NaN, 3]);
    const got = Float64Array.from([0, Infinity, 2, 3.5]);
    const plot = await plotOf(memorySource(ref, 'float64'), memorySource(got, 'float64'));
    expect(plot.sample).toEqual([[0, 0], [3, 3.5]]);
    expect(plot.histogram.counts.reduce((a, b) => a + b, 0)).toBe(2);
  });
});
