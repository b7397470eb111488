/**
 * NHWC ↔ NCHW reordering of whole tensors. run_joint prints a layout for every tensor, even
 * 2-D ones like `[1, 1000] NHWC`; with fewer than 4 dimensions there is no channel axis to
 * move, so such tensors come back unchanged (the same array and a copy of the shape).
 * More than 4 dimensions is refused (LAYOUT_RANK_UNSUPPORTED).
 */
import { UsageError } from '../errors';
import { elementCount, formatShape } from './shape';
import type { NumericArray } from './types';

export interface LayoutResult<T extends NumericArray> {
  data: T;
  shape: number[];
}

type Indexable = { [i: number]: unknown; readonly length: number };

function check(data: NumericArray, shape: readonly number[]): boolean {
  if (shape.length > 4) {
    throw new UsageError('LAYOUT_RANK_UNSUPPORTED', `cannot change the layout of a ${shape.length}-D tensor ${formatShape(shape)}`, {
      hint: 'NHWC and NCHW apply to 4-D tensors',
    });
  }
  const count = elementCount(shape);
  if (count !== data.length) {
    throw new UsageError('LAYOUT_SHAPE_MISMATCH', `shape ${formatShape(shape)} holds ${count} elements but the data has ${data.length}`, {
      hint: 'pass the shape the data was read with',
    });
  }
  return shape.length === 4;
}

/** Moves the channel axis of a 4-D C-order tensor: last → second (toNchw) or back. */
function moveAxis<T extends NumericArray>(data: T, shape: readonly number[], toNchw: boolean): T {
  const [n, a, b, c] = shape; // NHWC: a=H b=W c=C; NCHW: a=C b=H c=W
  const out = new (data.constructor as new (len: number) => T)(data.length);
  const src = data as unknown as Indexable;
  const dst = out as unknown as Indexable;
  const plane = toNchw ? a * b : b * c; // H·W
  const channels = toNchw ? c : a;
  for (let batch = 0; batch < n; batch++) {
    const base = batch * plane * channels;
    for (let ch = 0; ch < channels; ch++) {
      for (let p = 0; p < plane; p++) {
        // NHWC index base + p·C + ch; NCHW index base + ch·HW + p.
        if (toNchw) dst[base + ch * plane + p] = src[base + p * channels + ch];
        else dst[base + p * channels + ch] = src[base + ch * plane + p];
      }
    }
  }
  return out;
}

/** [N, H, W, C] → [N, C, H, W] in a new array of the same class. */
export function nhwcToNchw<T extends NumericArray>(data: T, shape: readonly number[]): LayoutResult<T> {
  if (!check(data, shape)) return { data, shape: [...shape] };
  const [n, h, w, c] = shape;
  return { data: moveAxis(data, shape, true), shape: [n, c, h, w] };
}

/** [N, C, H, W] → [N, H, W, C] in a new array of the same class. */
export function nchwToNhwc<T extends NumericArray>(data: T, shape: readonly number[]): LayoutResult<T> {
  if (!check(data, shape)) return { data, shape: [...shape] };
  const [n, c, h, w] = shape;
  return { data: moveAxis(data, shape, false), shape: [n, h, w, c] };
}
