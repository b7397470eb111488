/**
 * MetricsAccumulator: every comparison metric in one streaming pass over aligned chunk pairs
 * (reference, compared), float64 accumulation, no copy of the tensors (except the values of
 * small classifier outputs, for top-k). Definitions and edge cases: docs/parts/metrics.md.
 */
import type { NumericArray } from '../tensor/types';
import { finiteRun, mixedRun, newState, SLOT, STATE_SLOTS, type FloatArray } from './kernels';
import { TopKRecorder, wantsTopK, type TopKAgreement } from './topk';

export interface ElementTest {
  /** Absolute tolerance (default numpy's 1e-8). */
  readonly atol: number;
  /** Relative tolerance, times |reference| (default numpy's 1e-5). */
  readonly rtol: number;
  /** NaN on both sides at the same place counts as equal (default false). */
  readonly equalNan: boolean;
}

export interface MetricsOptions extends Partial<ElementTest> {
  /** Shape in C order: gives the worst element's multi-index and turns on top-k for classifiers. */
  readonly shape?: readonly number[];
}

export interface WorstElement {
  /** Flat index in C order. */
  readonly index: number;
  /** Index per dimension, when the shape is known and matches the element count. */
  readonly multiIndex: number[] | null;
  readonly ref: number;
  readonly got: number;
  /** |ref − got|; NaN or Infinity when the worst element is a non-finite mismatch. */
  readonly absDiff: number;
}

export interface Metrics {
  /** Elements compared. */
  readonly count: number;
  /** Pairs with both values finite: cosine, relErr2, max/mean abs and maxRelDiff cover these. */
  readonly finiteCount: number;
  /** ⟨ref, got⟩ / (‖ref‖₂‖got‖₂); 1 for two all-zero tensors, 0 when only one is all zero. */
  readonly cosine: number;
  /** ‖ref − got‖₂ / ‖ref‖₂ (pulsar run's "2-norm RE", as a fraction); zero ref → 0 or Infinity. */
  readonly relErr2: number;
  readonly maxAbsDiff: number;
  readonly meanAbsDiff: number;
  /** max |ref − got| / |ref|; Infinity where ref is 0 and got is not. */
  readonly maxRelDiff: number;
  /** Elements failing |ref − got| <= atol + rtol·|ref| (with the NaN/Inf rules). */
  readonly mismatched: number;
  /** mismatched / count (0 for an empty tensor). */
  readonly mismatchedShare: number;
  /** No element mismatched: numpy.allclose(got, ref, rtol, atol, equal_nan). */
  readonly allclose: boolean;
  /** Every pair equal (NaN equals NaN only with equalNan). */
  readonly exact: boolean;
  /** The first non-finite mismatch if any, else the (first) largest |ref − got|; null if none differs. */
  readonly worst: WorstElement | null;
  readonly nan: { readonly ref: number; readonly got: number };
  readonly inf: { readonly ref: number; readonly got: number };
  /** Pairs with a NaN or ±Inf that do not match (part of `mismatched`). */
  readonly nonFiniteMismatched: number;
  /** For classifier-shaped tensors (see topk.ts), else null. */
  readonly topK: TopKAgreement | null;
  /** The element test that produced `mismatched`. */
  readonly test: ElementTest;
}

/** Elements converted per scratch block for chunk types the kernels do not take directly. */
const BLOCK = 1 << 16;

type ExactInFloat32 = Float32Array | Uint8Array | Int8Array | Uint16Array | Int16Array;

function exactInFloat32(a: NumericArray): a is ExactInFloat32 {
  return (
    a instanceof Float32Array || a instanceof Uint8Array || a instanceof Int8Array || a instanceof Uint16Array || a instanceof Int16Array
  );
}

export class MetricsAccumulator {
  readonly test: ElementTest;
  private readonly shape: readonly number[] | undefined;
  private readonly state = newState();
  private readonly before = new Float64Array(STATE_SLOTS);
  private readonly topK: TopKRecorder | null;
  private count = 0;
  /** 64-bit integer pairs that differ but round to the same float64 (beyond 2^53). */
  private hiddenDifferences = 0;
  private scratch32: [Float32Array, Float32Array] | undefined;
  private scratch64: [Float64Array, Float64Array] | undefined;

  constructor(options: MetricsOptions = {}) {
    this.test = { atol: options.atol ?? 1e-8, rtol: options.rtol ?? 1e-5, equalNan: options.equalNan ?? false };
    this.shape = options.shape;
    this.topK = options.shape && wantsTopK(options.shape) ? new TopKRecorder(options.shape[options.shape.length - 1]) : null;
  }

  /** Elements consumed so far. */
  get consumed(): number {
    return this.count;
  }

  /**
   * The next `ref.length` elements of both tensors, in C order. Both chunks must have the same
   * length (compareSources cuts chunks of different sizes into aligned pairs).
   */
  update(ref: NumericArray, got: NumericArray): void {
    if (ref.length !== got.length) {
      throw new RangeError(`MetricsAccumulator.update: chunks differ in length (${ref.length} vs ${got.length})`);
    }
    if ((ref instanceof Float32Array && got instanceof Float32Array) || (ref instanceof Float64Array && got instanceof Float64Array)) {
      this.run(ref, got, ref.length);
      return;
    }
    // Other types go through scratch blocks: float32 holds every 8/16-bit integer exactly,
    // float64 every 32-bit one (64-bit integers beyond 2^53 round).
    const [r, g] =
      exactInFloat32(ref) && exactInFloat32(got)
        ? (this.scratch32 ??= [new Float32Array(BLOCK), new Float32Array(BLOCK)])
        : (this.scratch64 ??= [new Float64Array(BLOCK), new Float64Array(BLOCK)]);
    for (let start = 0; start < ref.length; start += BLOCK) {
      const n = Math.min(BLOCK, ref.length - start);
      fill(r, ref, start, n);
      fill(g, got, start, n);
      this.run(r, g, n);
      if (isBigIntArray(ref) && isBigIntArray(got)) this.hiddenDifferences += hiddenDifferencesIn(ref, got, r, g, start, n);
    }
  }

  private run(ref: FloatArray, got: FloatArray, n: number): void {
    const { atol, rtol, equalNan } = this.test;
    const offset = this.count;
    this.topK?.record(ref, got, n, offset);
    this.before.set(this.state);
    if (!finiteRun(ref, got, 0, n, offset, this.state, atol, rtol)) {
      this.state.set(this.before);
      mixedRun(ref, got, 0, n, offset, this.state, atol, rtol, equalNan);
    }
    this.count += n;
  }

  result(): Metrics {
    const s = this.state;
    const count = this.count;
    const finiteCount = count - s[SLOT.NONFINITE_PAIRS];
    // A difference float64 cannot show is still one where bits must match (atol = rtol = 0); a
    // tolerance that admits any difference admits these (they are below 2^-52 of the value).
    const bitExactTest = this.test.atol === 0 && this.test.rtol === 0;
    const mismatched = s[SLOT.MISMATCHED] + (bitExactTest ? this.hiddenDifferences : 0);
    return {
      count,
      finiteCount,
      cosine: cosineOf(s[SLOT.DOT], s[SLOT.REF_SQ], s[SLOT.GOT_SQ]),
      relErr2: relErr2Of(s[SLOT.DIFF_SQ], s[SLOT.REF_SQ]),
      maxAbsDiff: s[SLOT.MAX_ABS],
      meanAbsDiff: finiteCount > 0 ? s[SLOT.ABS_SUM] / finiteCount : 0,
      maxRelDiff: s[SLOT.MAX_REL],
      mismatched,
      mismatchedShare: count > 0 ? mismatched / count : 0,
      allclose: mismatched === 0,
      exact: s[SLOT.ABS_SUM] === 0 && s[SLOT.NONFINITE_MISMATCHED] === 0 && this.hiddenDifferences === 0,
      worst: this.worst(),
      nan: { ref: s[SLOT.NAN_REF], got: s[SLOT.NAN_GOT] },
      inf: { ref: s[SLOT.INF_REF], got: s[SLOT.INF_GOT] },
      nonFiniteMismatched: s[SLOT.NONFINITE_MISMATCHED],
      topK: this.topK?.result() ?? null,
      test: this.test,
    };
  }

  private worst(): WorstElement | null {
    const s = this.state;
    const element = (index: number, ref: number, got: number, absDiff: number): WorstElement => ({
      index,
      multiIndex: this.shape ? unravelIndex(index, this.shape, this.count) : null,
      ref,
      got,
      absDiff,
    });
    if (s[SLOT.FIRST_BAD_INDEX] >= 0) {
      const ref = s[SLOT.FIRST_BAD_REF];
      const got = s[SLOT.FIRST_BAD_GOT];
      return element(s[SLOT.FIRST_BAD_INDEX], ref, got, Math.abs(ref - got));
    }
    if (s[SLOT.MAX_ABS_INDEX] >= 0) return element(s[SLOT.MAX_ABS_INDEX], s[SLOT.MAX_ABS_REF], s[SLOT.MAX_ABS_GOT], s[SLOT.MAX_ABS]);
    return null;
  }
}

function isBigIntArray(a: NumericArray): a is BigInt64Array | BigUint64Array {
  return a instanceof BigInt64Array || a instanceof BigUint64Array;
}

/** Pairs in [start, start + n) that differ as integers while their float64 copies (r, g) are equal. */
function hiddenDifferencesIn(ref: NumericArray, got: NumericArray, r: FloatArray, g: FloatArray, start: number, n: number): number {
  let hidden = 0;
  for (let i = 0; i < n; i++) {
    // Unequal float64 copies were counted already; equal ones up to 2^53 are equal integers.
    if (r[i] !== g[i] || Math.abs(r[i]!) <= Number.MAX_SAFE_INTEGER) continue;
    if (ref[start + i] !== got[start + i]) hidden++;
  }
  return hidden;
}

/** `n` elements of `src` from `start` into `dst` as numbers. */
function fill(dst: FloatArray, src: NumericArray, start: number, n: number): void {
  if (src instanceof BigInt64Array || src instanceof BigUint64Array) {
    for (let i = 0; i < n; i++) dst[i] = Number(src[start + i]);
  } else {
    dst.set(src.subarray(start, start + n));
  }
}

/**
 * Cosine from the three sums. The denominator √(a·b) is taken as m·√(min/m) with m the larger
 * sum: no overflow or underflow of a·b, and exactly m when a = b, so cos(x, x) is exactly 1.
 */
export function cosineOf(dot: number, refSq: number, gotSq: number): number {
  if (refSq === 0 && gotSq === 0) return 1;
  if (refSq === 0 || gotSq === 0) return 0;
  const big = Math.max(refSq, gotSq);
  const small = Math.min(refSq, gotSq);
  let denom = big * Math.sqrt(small / big);
  // small/big below the smallest double: fall back to the plain product of the norms.
  if (denom === 0) denom = Math.sqrt(big) * Math.sqrt(small);
  const cos = dot / denom;
  return cos > 1 ? 1 : cos < -1 ? -1 : cos;
}

/** ‖ref − got‖₂ / ‖ref‖₂; with an all-zero reference: 0 if got is all zero too, else Infinity. */
export function relErr2Of(diffSq: number, refSq: number): number {
  if (refSq === 0) return diffSq === 0 ? 0 : Infinity;
  return Math.sqrt(diffSq) / Math.sqrt(refSq);
}

/** C-order multi-index of flat `index` in `shape`; null when the shape does not hold `count` elements. */
export function unravelIndex(index: number, shape: readonly number[], count: number): number[] | null {
  if (shape.reduce((a, b) => a * b, 1) !== count) return null;
  const out = new Array<number>(shape.length);
  let rest = index;
  for (let d = shape.length - 1; d >= 0; d--) {
    out[d] = rest % shape[d];
    rest = Math.floor(rest / shape[d]);
  }
  return out;
}
