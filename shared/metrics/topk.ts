/**
 * Top-k agreement for classifier-shaped outputs ([1, ..., 1, classes]): does the compared
 * output pick the same class, and how many of the reference's five best classes it keeps.
 * This needs every value of both vectors, so it is only done for tensors of at most
 * TOPK_MAX_ELEMENTS elements (classifier outputs are small; feature maps are not classifiers).
 */

/** Largest classifier vector whose values are kept (8 MiB per side as float64). */
export const TOPK_MAX_ELEMENTS = 1 << 20;

export interface TopKAgreement {
  /** Number of classes (the last dimension). */
  readonly classes: number;
  /** Index of the largest value of each side (the first one on ties). */
  readonly refTop1: number;
  readonly gotTop1: number;
  /** Both sides pick the same class. */
  readonly top1: boolean;
  /** Class indices, best first; min(5, classes) of them. NaN ranks below every number. */
  readonly refTop5: number[];
  readonly gotTop5: number[];
  /** Share of the reference's top-5 classes found in the compared top-5 (0..1). */
  readonly top5: number;
}

/** Last dimension at least 2 and every other dimension 1 (a scalar or [n] with n < 2 is not). */
export function isClassifierShape(shape: readonly number[]): boolean {
  if (shape.length === 0) return false;
  const classes = shape[shape.length - 1];
  return classes >= 2 && shape.slice(0, -1).every((dim) => dim === 1);
}

/** Whether top-k agreement is computed for a tensor of this shape. */
export function wantsTopK(shape: readonly number[]): boolean {
  return isClassifierShape(shape) && shape[shape.length - 1] <= TOPK_MAX_ELEMENTS;
}

/** Keeps both vectors as they stream by, then ranks them. */
export class TopKRecorder {
  private readonly ref: Float64Array;
  private readonly got: Float64Array;
  private filled = 0;

  constructor(readonly classes: number) {
    this.ref = new Float64Array(classes);
    this.got = new Float64Array(classes);
  }

  /** Elements [0, n) of the block hold flat indices offset.. (blocks arrive in order). */
  record(ref: ArrayLike<number>, got: ArrayLike<number>, n: number, offset: number): void {
    const keep = Math.min(n, this.classes - offset);
    for (let i = 0; i < keep; i++) {
      this.ref[offset + i] = ref[i];
      this.got[offset + i] = got[i];
    }
    this.filled = Math.max(this.filled, offset + Math.max(keep, 0));
  }

  /** The agreement, or null when fewer than all values were seen. */
  result(): TopKAgreement | null {
    if (this.filled !== this.classes) return null;
    const k = Math.min(5, this.classes);
    const refTop5 = topIndices(this.ref, k);
    const gotTop5 = topIndices(this.got, k);
    const shared = refTop5.filter((c) => gotTop5.includes(c)).length;
    return {
      classes: this.classes,
      refTop1: refTop5[0],
      gotTop1: gotTop5[0],
      top1: refTop5[0] === gotTop5[0],
      refTop5,
      gotTop5,
      top5: shared / k,
    };
  }
}

/** Indices of the k largest values, best first; ties go to the lower index, NaN ranks last. */
export function topIndices(values: Float64Array, k: number): number[] {
  const best: number[] = [];
  const rank = (v: number) => (v !== v ? -Infinity : v);
  for (let i = 0; i < values.length; i++) {
    const v = rank(values[i]);
    if (best.length === k && !(v > rank(values[best[k - 1]]))) continue;
    let at = best.length;
    // Strictly greater moves up, so an earlier index stays ahead on a tie.
    while (at > 0 && v > rank(values[best[at - 1]])) at--;
    best.splice(at, 0, i);
    if (best.length > k) best.length = k;
  }
  return best;
}
