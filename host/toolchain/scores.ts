/**
 * The guide's precision rule: a `pulsar run` cosine similarity below 0.98 (cos-sim < 98%)
 * means the compiled model lost precision. NaN (pulsar prints nan for an all-zero output)
 * counts as lost: nothing can be concluded from it.
 */
export const COSINE_THRESHOLD = 0.98;

export function isLowCosine(cosine: number, threshold = COSINE_THRESHOLD): boolean {
  return !(cosine >= threshold);
}
