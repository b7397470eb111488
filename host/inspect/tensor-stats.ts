/**
 * Simple statistics of a tensor in one streaming pass, so a large .bin is never held whole.
 * NaN and ±Inf are counted apart and left out of min/max/mean: one NaN would otherwise hide
 * every other number, and spotting NaNs is itself the point of looking.
 */
import type { TensorSource } from '../../shared/tensor/types';

export interface TensorStats {
  /** Elements read. */
  readonly count: number;
  /** Over finite values; null when there is none. */
  readonly min: number | null;
  readonly max: number | null;
  readonly mean: number | null;
  readonly nanCount: number;
  readonly infCount: number;
  readonly zeroCount: number;
}

export async function tensorStats(src: TensorSource): Promise<TensorStats> {
  let count = 0;
  let finite = 0;
  let min = Infinity;
  let max = -Infinity;
  // Kahan summation: float32 tensors of millions of elements otherwise drift in the mean.
  let sum = 0;
  let carry = 0;
  let nanCount = 0;
  let infCount = 0;
  let zeroCount = 0;
  for await (const chunk of src.chunks()) {
    count += chunk.length;
    for (let i = 0; i < chunk.length; i++) {
      const v = Number(chunk[i]);
      if (v !== v) { nanCount++; continue; }
      if (v === Infinity || v === -Infinity) { infCount++; continue; }
      if (v === 0) zeroCount++;
      if (v < min) min = v;
      if (v > max) max = v;
      const y = v - carry;
      const t = sum + y;
      carry = t - sum - y;
      sum = t;
      finite++;
    }
  }
  return finite === 0
    ? { count, min: null, max: null, mean: null, nanCount, infCount, zeroCount }
    : { count, min, max, mean: sum / finite, nanCount, infCount, zeroCount };
}
