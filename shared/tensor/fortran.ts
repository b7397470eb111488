/** Reordering a whole Fortran-order (column-major) tensor into C order (row-major). */
import type { NumericArray } from './types';

type Indexable = { [i: number]: unknown; readonly length: number };

/**
 * `data` holds `shape` in Fortran order (first index fastest); returns the same elements in
 * C order (last index fastest) in a new array of the same class. Rank 0 and 1 are the same in
 * both orders and come back as they are.
 */
export function fortranToC<T extends NumericArray>(data: T, shape: readonly number[]): T {
  const rank = shape.length;
  if (rank <= 1 || data.length === 0) return data;
  // Element (i0, ..., in-1) sits at i0·s0 + i1·s1 + ... with s0 = 1, sk = sk-1 · shape[k-1].
  const strides: number[] = [];
  let stride = 1;
  for (const dim of shape) {
    strides.push(stride);
    stride *= dim;
  }
  const src = data as unknown as Indexable;
  const out = new (data.constructor as new (n: number) => T)(data.length);
  const dst = out as unknown as Indexable;
  const last = rank - 1;
  const lastDim = shape[last];
  const lastStride = strides[last];
  const index = new Array<number>(last).fill(0);
  let base = 0;
  let o = 0;
  for (;;) {
    for (let j = 0, s = base; j < lastDim; j++, s += lastStride) dst[o++] = src[s];
    // Advance the odometer over the outer axes (axis last-1 fastest).
    let axis = last - 1;
    while (axis >= 0) {
      index[axis]++;
      base += strides[axis];
      if (index[axis] < shape[axis]) break;
      base -= strides[axis] * shape[axis];
      index[axis] = 0;
      axis--;
    }
    if (axis < 0) return out;
  }
}
