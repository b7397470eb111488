/**
 * The hot loops behind MetricsAccumulator. Everything is summed in float64 into a small
 * running state (a Float64Array read into locals at the start of a run and written back at
 * its end), strictly in element order, so the result does not depend on how the data was cut
 * into chunks.
 *
 * Speed notes (V8): the loop body has no calls and no allocation; the tolerance test is
 * counted without a branch (`+(cond)`), because a mix of passing and failing elements makes a
 * branch mispredict often; the loop only ever sees Float32Array or Float64Array pairs (the
 * accumulator converts other types into scratch blocks with TypedArray.set, which is native
 * and exact), which keeps its element loads cheap.
 */

/** Slots of the running state. */
export const SLOT = {
  DOT: 0,
  REF_SQ: 1,
  GOT_SQ: 2,
  DIFF_SQ: 3,
  ABS_SUM: 4,
  MAX_ABS: 5,
  /** Flat index of the (first) largest |ref − got| among finite pairs; -1 while none differs. */
  MAX_ABS_INDEX: 6,
  MAX_ABS_REF: 7,
  MAX_ABS_GOT: 8,
  MAX_REL: 9,
  /** Pairs outside atol/rtol, finite or not. */
  MISMATCHED: 10,
  NAN_REF: 11,
  NAN_GOT: 12,
  INF_REF: 13,
  INF_GOT: 14,
  /** Pairs with a NaN or ±Inf on either side (left out of the value metrics). */
  NONFINITE_PAIRS: 15,
  /** Of those, the ones that do not match (see nonFinitePair). */
  NONFINITE_MISMATCHED: 16,
  /** Flat index of the first non-finite mismatch; -1 while none. */
  FIRST_BAD_INDEX: 17,
  FIRST_BAD_REF: 18,
  FIRST_BAD_GOT: 19,
} as const;

export const STATE_SLOTS = 20;

export function newState(): Float64Array {
  const s = new Float64Array(STATE_SLOTS);
  s[SLOT.MAX_ABS_INDEX] = -1;
  s[SLOT.FIRST_BAD_INDEX] = -1;
  return s;
}

export type FloatArray = Float32Array | Float64Array;

/**
 * Elements [start, end) of `ref` and `got` (same class), assumed finite; element i has flat
 * index `offset + i`. Always writes the state back; returns false when the sums came out
 * non-finite, i.e. the assumption was wrong (or float64 values so large their squares
 * overflow) — the caller then restores the state and uses mixedRun.
 */
export function finiteRun(
  ref: FloatArray,
  got: FloatArray,
  start: number,
  end: number,
  offset: number,
  s: Float64Array,
  atol: number,
  rtol: number,
): boolean {
  let dot = s[SLOT.DOT];
  let refSq = s[SLOT.REF_SQ];
  let gotSq = s[SLOT.GOT_SQ];
  let diffSq = s[SLOT.DIFF_SQ];
  let absSum = s[SLOT.ABS_SUM];
  let maxAbs = s[SLOT.MAX_ABS];
  let maxAbsIndex = s[SLOT.MAX_ABS_INDEX];
  let maxAbsRef = s[SLOT.MAX_ABS_REF];
  let maxAbsGot = s[SLOT.MAX_ABS_GOT];
  let maxRel = s[SLOT.MAX_REL];
  let mismatched = s[SLOT.MISMATCHED];
  for (let i = start; i < end; i++) {
    const x = ref[i];
    const y = got[i];
    dot += x * y;
    refSq += x * x;
    gotSq += y * y;
    const d = x - y;
    diffSq += d * d;
    const ad = Math.abs(d);
    absSum += ad;
    const ax = Math.abs(x);
    mismatched += +(ad > atol + rtol * ax);
    if (ad > maxAbs) {
      maxAbs = ad;
      maxAbsIndex = offset + i;
      maxAbsRef = x;
      maxAbsGot = y;
    }
    // ad/ax > maxRel without a division per element; ax = 0 with ad > 0 gives Infinity once,
    // after which Infinity·0 = NaN keeps the test false.
    if (ad > maxRel * ax) maxRel = ad / ax;
  }
  s[SLOT.DOT] = dot;
  s[SLOT.REF_SQ] = refSq;
  s[SLOT.GOT_SQ] = gotSq;
  s[SLOT.DIFF_SQ] = diffSq;
  s[SLOT.ABS_SUM] = absSum;
  s[SLOT.MAX_ABS] = maxAbs;
  s[SLOT.MAX_ABS_INDEX] = maxAbsIndex;
  s[SLOT.MAX_ABS_REF] = maxAbsRef;
  s[SLOT.MAX_ABS_GOT] = maxAbsGot;
  s[SLOT.MAX_REL] = maxRel;
  s[SLOT.MISMATCHED] = mismatched;
  // A NaN or ±Inf anywhere in the run makes a sum of squares NaN or Infinity.
  return refSq - refSq === 0 && gotSq - gotSq === 0;
}

/**
 * The same as finiteRun for elements that may hold NaN or ±Inf: finite stretches go through
 * finiteRun (so the arithmetic, and hence the result, is identical), each non-finite pair
 * through nonFinitePair.
 */
export function mixedRun(
  ref: FloatArray,
  got: FloatArray,
  start: number,
  end: number,
  offset: number,
  s: Float64Array,
  atol: number,
  rtol: number,
  equalNan: boolean,
): void {
  let stretch = start;
  for (let i = start; i < end; i++) {
    const x = ref[i];
    const y = got[i];
    // x − x is 0 for every finite x and NaN for NaN and ±Inf.
    if (x - x === 0 && y - y === 0) continue;
    if (stretch < i) finiteRun(ref, got, stretch, i, offset, s, atol, rtol);
    nonFinitePair(x, y, offset + i, s, equalNan);
    stretch = i + 1;
  }
  if (stretch < end) finiteRun(ref, got, stretch, end, offset, s, atol, rtol);
}

/**
 * A pair with a NaN or ±Inf on at least one side. It matches only as numpy.isclose says:
 * equal infinities of the same sign, or NaN on both sides when equalNan was asked for.
 * Anything else (NaN vs a number, NaN vs NaN by default, Inf vs a number) is a mismatch.
 */
function nonFinitePair(x: number, y: number, index: number, s: Float64Array, equalNan: boolean): void {
  const xNan = x !== x;
  const yNan = y !== y;
  if (xNan) s[SLOT.NAN_REF]++;
  else if (x - x !== 0) s[SLOT.INF_REF]++;
  if (yNan) s[SLOT.NAN_GOT]++;
  else if (y - y !== 0) s[SLOT.INF_GOT]++;
  s[SLOT.NONFINITE_PAIRS]++;
  const matches = xNan && yNan ? equalNan : x === y;
  if (matches) return;
  s[SLOT.MISMATCHED]++;
  s[SLOT.NONFINITE_MISMATCHED]++;
  if (s[SLOT.FIRST_BAD_INDEX] < 0) {
    s[SLOT.FIRST_BAD_INDEX] = index;
    s[SLOT.FIRST_BAD_REF] = x;
    s[SLOT.FIRST_BAD_GOT] = y;
  }
}
