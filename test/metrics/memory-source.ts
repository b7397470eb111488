/** An in-memory TensorSource for tests: serves `data` in chunks of a chosen size. */
import type { DType, NumericArray, TensorSource } from '../../shared/tensor/types';

export function memorySource(data: NumericArray, dtype: DType, shape: readonly number[] = [data.length], chunkSize = 1 << 20, path = 'memory'): TensorSource {
  const length = shape.reduce((a, b) => a * b, 1);
  return {
    info: { path, dtype, shape, length },
    async *chunks() {
      for (let start = 0; start < data.length; start += chunkSize) yield data.subarray(start, Math.min(data.length, start + chunkSize));
    },
  };
}

/** Splits `data` at the given (sorted, in-range) cut points. */
export function cut<T extends NumericArray>(data: T, cuts: number[]): T[] {
  const points = [0, ...cuts, data.length];
  const parts: T[] = [];
  for (let i = 0; i + 1 < points.length; i++) parts.push(data.subarray(points[i], points[i + 1]) as T);
  return parts;
}
