/**
 * `axctl compare` options turned into a request for the compare service. Every bad value is
 * refused here, before a file is opened.
 */
import { UsageError } from '../../shared/errors';
import { asTyped } from '../cli-numbers';
import { withOverrides, type Stage, type ToleranceOverrides } from '../../shared/metrics';
import { checkQuantization } from '../../shared/tensor/quant';
import { parseDTypeOption } from '../../shared/tensor/dtype';
import type { DType } from '../../shared/tensor/types';

/** `--stage` values and the comparison each names. */
export const STAGE_OPTIONS: Record<string, Stage> = {
  board: 'board-vs-simulator',
  compile: 'onnx-vs-joint',
};

export interface CompareRequest {
  /** The reference: a file, or a folder of tensor files (gt/joint, gt/onnx). */
  readonly reference: string;
  /** What is judged against it: a file or folder (the board's --bin-out-dir). */
  readonly compared: string;
  readonly stage: Stage;
  /** Element type and shape for raw .bin files that have no other source of them. */
  readonly dtype?: DType;
  readonly shape?: number[];
  /** A run_joint log whose Output blocks give dtype, shape and Q by tensor name. */
  readonly log?: string;
  /** Quantization value to dequantize an integer side compared with a float side. */
  readonly q?: number;
  /** Overrides of the stage's default tolerance. */
  readonly overrides: ToleranceOverrides;
}

export interface CompareArgs {
  reference: string;
  compared: string;
  stage: string;
  dtype?: string;
  shape?: string;
  log?: string;
  q?: number;
  atol?: number;
  rtol?: number;
  'min-cos'?: number;
  'equal-nan'?: boolean;
}

/** `1,3,224,224`, `1x3x224x224` or `[1, 3, 224, 224]` → [1, 3, 224, 224]; `[]` is a scalar. */
export function parseShape(text: string): number[] {
  const inner = text.trim().replace(/^\[(.*)\]$/, '$1').trim();
  if (inner === '') return [];
  const dims = inner.split(/\s*[,x×]\s*/).map((p) => (/^\d+$/.test(p) ? Number(p) : NaN));
  if (dims.some((d) => !Number.isSafeInteger(d))) {
    throw new UsageError('COMPARE_BAD_SHAPE', `--shape '${text}' is not a list of whole numbers`, { hint: 'write it like 1,3,224,224' });
  }
  return dims;
}

export function parseCompareArgs(argv: CompareArgs): CompareRequest {
  const stage = STAGE_OPTIONS[argv.stage];
  if (stage === undefined) {
    throw new UsageError('COMPARE_BAD_STAGE', `--stage '${argv.stage}' is not one of ${Object.keys(STAGE_OPTIONS).join(', ')}`, {
      hint: 'board: board output vs gt/joint (strict); compile: gt/joint vs gt/onnx (cosine >= 0.98)',
    });
  }
  if (argv.q !== undefined) checkQuantization(argv.q, asTyped('q', argv.q));
  const overrides: ToleranceOverrides = {
    ...(argv.atol !== undefined && { atol: argv.atol }),
    ...(argv.rtol !== undefined && { rtol: argv.rtol }),
    ...(argv['min-cos'] !== undefined && { minCosine: argv['min-cos'] }),
    ...(argv['equal-nan'] !== undefined && { equalNan: argv['equal-nan'] }),
  };
  // Validates the numbers now; the tolerance itself is built per output (its dtype decides).
  withOverrides({ atol: 0, rtol: 0, equalNan: false, requireAllclose: false, minCosine: null }, overrides, asTyped);
  return {
    reference: argv.reference,
    compared: argv.compared,
    stage,
    ...(argv.dtype !== undefined && { dtype: parseDTypeOption(argv.dtype) }),
    ...(argv.shape !== undefined && { shape: parseShape(argv.shape) }),
    ...(argv.log !== undefined && { log: argv.log }),
    ...(argv.q !== undefined && { q: argv.q }),
    overrides,
  };
}
