/**
 * What "close enough" means for a comparison, and the defaults for the two comparisons the
 * precision checklist makes. The reasoning behind each number is in docs/parts/metrics.md
 * ("Stage defaults"); keep the two in step.
 */
import { UsageError } from '../errors';
import { isFloatDType } from '../tensor/dtype';
import type { DType } from '../tensor/types';

/**
 * Which comparison is being made:
 * - `board-vs-simulator`: run_joint's output on the board against `pulsar run`'s gt/joint
 *   (same compiled model, same integer pipeline: should agree to the bit, or to float32
 *   rounding for float outputs);
 * - `onnx-vs-joint`: the compiled model against the float model (quantization loss expected;
 *   the guide's cosine ≥ 0.98 rule).
 */
export type Stage = 'board-vs-simulator' | 'onnx-vs-joint';

export const STAGES: readonly Stage[] = ['board-vs-simulator', 'onnx-vs-joint'];

export interface Tolerance {
  /** Absolute tolerance of the element test |ref − got| <= atol + rtol·|ref|. */
  readonly atol: number;
  /** Relative tolerance, scaled by the reference's magnitude (numpy's `b`). */
  readonly rtol: number;
  /** Two NaN at the same place count as equal (numpy's equal_nan). Default false. */
  readonly equalNan: boolean;
  /**
   * Whether any element outside atol/rtol fails the comparison. When false the element test
   * still runs and `mismatched` is reported, for information only.
   */
  readonly requireAllclose: boolean;
  /** Fail when cosine similarity is below this; null for no cosine requirement. */
  readonly minCosine: number | null;
}

/** numpy.allclose's defaults; used for the informational mismatch count of onnx-vs-joint. */
export const NUMPY_ATOL = 1e-8;
export const NUMPY_RTOL = 1e-5;

/** The guide's rule for `pulsar run`: cosine below 0.98 means the compile lost precision. */
export const COMPILE_MIN_COSINE = 0.98;

/**
 * Float outputs of board vs simulator: both run the same integer program and differ at most in
 * the float32 arithmetic of the dequantize step or a CPU tail (a few ulps, ~1e-7 relative).
 * rtol 1e-4 leaves ~1000 ulps of room for a tail's reordered sums; atol 1e-5 covers results
 * that cancel to near zero, where relative error means nothing; either is far below one
 * quantization step of an 8-bit output (range/255), the smallest real NPU/cmodel difference.
 */
export const BOARD_FLOAT_ATOL = 1e-5;
export const BOARD_FLOAT_RTOL = 1e-4;
/** 1 − cos ≈ relErr2²/2, so 0.9999 ⇔ relErr2 ≲ 1.4 %: a floor should atol/rtol be loosened. */
export const BOARD_FLOAT_MIN_COSINE = 0.9999;

/**
 * Default tolerance for comparing values of `dtype` at `stage`. `dtype` is the type the values
 * are compared in: float if either side is float (or was dequantized), else the integer type.
 */
export function stageTolerance(stage: Stage, dtype: DType): Tolerance {
  if (stage === 'onnx-vs-joint') {
    return { atol: NUMPY_ATOL, rtol: NUMPY_RTOL, equalNan: false, requireAllclose: false, minCosine: COMPILE_MIN_COSINE };
  }
  if (!isFloatDType(dtype)) {
    // Integer (and bool) outputs of the same integer program must be bit-identical.
    return { atol: 0, rtol: 0, equalNan: false, requireAllclose: true, minCosine: null };
  }
  return {
    atol: BOARD_FLOAT_ATOL,
    rtol: BOARD_FLOAT_RTOL,
    equalNan: false,
    requireAllclose: true,
    minCosine: BOARD_FLOAT_MIN_COSINE,
  };
}

/** Overrides a caller may give on top of a stage default (command-line options). */
export interface ToleranceOverrides {
  atol?: number;
  rtol?: number;
  minCosine?: number | null;
  equalNan?: boolean;
}

/**
 * `base` with the caller's overrides spread over it. Giving atol or rtol explicitly makes
 * allclose a requirement (asking for a tolerance means wanting it enforced). Bad values
 * (negative, NaN, a cosine outside [-1, 1]) → UsageError TOLERANCE_INVALID, showing a value
 * as `shown` gives it (the CLI: as typed, 1e400 rather than Infinity).
 */
export function withOverrides(base: Tolerance, overrides: ToleranceOverrides, shown: (name: string, value: number) => string = (_name, value) => String(value)): Tolerance {
  const check = (name: string, value: number | undefined, ok: (v: number) => boolean, what: string) => {
    if (value !== undefined && !(Number.isFinite(value) && ok(value))) {
      throw new UsageError('TOLERANCE_INVALID', `${name} ${shown(name, value)} is not ${what}`, {
        hint: `give ${name} as ${what}, e.g. ${name === 'min-cos' ? '0.98' : '1e-5'}`,
      });
    }
  };
  check('atol', overrides.atol, (v) => v >= 0, 'a number >= 0');
  check('rtol', overrides.rtol, (v) => v >= 0, 'a number >= 0');
  check('min-cos', overrides.minCosine ?? undefined, (v) => v >= -1 && v <= 1, 'a number between -1 and 1');
  const explicit = overrides.atol !== undefined || overrides.rtol !== undefined;
  return {
    atol: overrides.atol ?? base.atol,
    rtol: overrides.rtol ?? base.rtol,
    equalNan: overrides.equalNan ?? base.equalNan,
    requireAllclose: base.requireAllclose || explicit,
    minCosine: overrides.minCosine !== undefined ? overrides.minCosine : base.minCosine,
  };
}
