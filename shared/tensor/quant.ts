/**
 * run_joint prints `Q=n` for quantized integer outputs: the real value is the stored
 * integer divided by n, a step the user's post-processing must do.
 */
import { UsageError } from '../errors';
import type { NumericArray } from './types';

/** Checks a quantization value: a finite number above 0. */
export function checkQuantization(q: number, shown: string = String(q)): void {
  if (!Number.isFinite(q) || q <= 0) {
    throw new UsageError('QUANT_BAD_VALUE', `quantization value Q=${shown} must be a finite number above 0`, {
      hint: "use the Q=n that run_joint prints for the output, e.g. 'Shape [1, 1000] NHWC sint16 Q=256'",
    });
  }
}

/** Real values of a chunk of quantized integers: int / q. */
export function dequantize(chunk: NumericArray, q: number): Float64Array {
  checkQuantization(q);
  const out = new Float64Array(chunk.length);
  if (chunk instanceof BigInt64Array || chunk instanceof BigUint64Array) {
    for (let i = 0; i < chunk.length; i++) out[i] = Number(chunk[i]) / q;
  } else {
    for (let i = 0; i < chunk.length; i++) out[i] = chunk[i] / q;
  }
  return out;
}
