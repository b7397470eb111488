/**
 * One board output against the simulator's (gt/joint), by tensor name, with the board stage's
 * tolerance (integers bit-exact; floats atol 1e-5, rtol 1e-4, cosine ≥ 0.9999), as the
 * report's OutputComparison with its plot data.
 */
import { promises as fsp } from 'node:fs';
import { compareSources, stageTolerance, type Comparison, type Tolerance } from '../../shared/metrics';
import type { GtFile } from '../../shared/parsers/gt-folder';
import type { RunJointTensor } from '../../shared/parsers/run-joint-log';
import { isFloatDType, runJointPackedBits } from '../../shared/tensor/dtype';
import { sameShape } from '../../shared/tensor/shape';
import type { OutputComparison } from '../report/model';
import { assertGtOutputFits } from './gt-fit';
import { plotOf } from './plot';
import { alignForComparison, dumpedRows, firstRows, GtTensors, loadIfSmall, openDump, specOf } from './tensors';

export interface BoardOutput {
  name: string;
  /** run_joint's listing of the output. */
  tensor: RunJointTensor | null;
  /** The dump fetched from the board. */
  dumpFile: string;
  /** Its bytes, when they are in memory (dumpFile then only names it in messages). */
  dumpBytes?: Uint8Array;
}

export async function compareBoardOutput(out: BoardOutput, gtFile: GtFile, gtTensors = new GtTensors()): Promise<OutputComparison> {
  const spec = specOf(out.tensor);
  const unpacked = spec !== null && !!out.tensor?.dtype && runJointPackedBits(out.tensor.dtype) === undefined;
  const whole = await gtTensors.load(gtFile, spec);
  // run_joint's dump rule can leave fewer rows than the tensor has: compare those rows only.
  const size = out.dumpBytes?.length ?? (await fsp.stat(out.dumpFile)).size; // once, for dumpedRows and openDump
  const rows = unpacked ? dumpedRows(size, spec) : null;
  const got = await loadIfSmall(await openDump({ file: out.dumpFile, ...(out.dumpBytes && { bytes: out.dumpBytes }) }, size, rows && spec ? { dtype: spec.dtype, shape: [rows, ...spec.shape.slice(1)] } : spec, whole));
  // The board dumped what the listing says (packed RAW outputs aside): then a gt file that
  // does not fit the listing is the gt folder's fault, not the board's.
  if (unpacked && spec && (rows !== null || sameShape(got.info.shape, spec.shape))) {
    assertGtOutputFits(gtFile, whole, { name: out.name, spec, q: out.tensor!.q });
  }
  const ref = rows !== null && spec ? firstRows(whole, rows, spec) : whole;
  const aligned = alignForComparison(ref, got, out.tensor?.q ?? null);
  const floatCompare = isFloatDType(aligned.ref.info.dtype) || isFloatDType(aligned.got.info.dtype);
  const tolerance = stageTolerance('board-vs-simulator', floatCompare ? 'float32' : got.info.dtype);
  const result = await compareSources(aligned.ref, aligned.got, tolerance);
  const comparable = result.metrics !== null;
  return {
    name: out.name,
    dtype: out.tensor?.dtype ?? got.info.dtype,
    shape: out.tensor?.shape.length ? [...out.tensor.shape] : [...ref.info.shape],
    layout: out.tensor?.layout ?? null,
    q: out.tensor?.q ?? null,
    ...metricsOf(result),
    pass: result.pass,
    reasons: result.reasons,
    tolerance: toleranceOf(tolerance),
    ...(rows !== null && spec && { partial: { rows, of: spec.shape[0]! } }),
    ...(comparable && { plot: await plotOf(aligned.ref, aligned.got) }),
  };
}

type MetricFields = Pick<OutputComparison, 'exact' | 'cosine' | 'relErr2' | 'maxAbsDiff' | 'meanAbsDiff' | 'mismatched' | 'mismatchedShare' | 'nan' | 'worst'>;

/** The comparison's metrics in the report's terms; element counts that differ give NaNs. */
export function metricsOf(c: Comparison): MetricFields {
  const m = c.metrics;
  if (!m) {
    return { exact: false, cosine: NaN, relErr2: NaN, maxAbsDiff: NaN, meanAbsDiff: NaN, mismatched: c.got.length, mismatchedShare: 1, nan: { reference: 0, actual: 0 }, worst: null };
  }
  return {
    exact: m.exact,
    cosine: m.cosine,
    relErr2: m.relErr2,
    maxAbsDiff: m.maxAbsDiff,
    meanAbsDiff: m.meanAbsDiff,
    mismatched: m.mismatched,
    mismatchedShare: m.mismatchedShare,
    nan: { reference: m.nan.ref, actual: m.nan.got },
    worst: m.worst ? { index: m.worst.index, at: m.worst.multiIndex ?? [m.worst.index], reference: m.worst.ref, actual: m.worst.got } : null,
  };
}

/** The report's tolerance: bit-exactness is also a cosine of 1. */
function toleranceOf(t: Tolerance): OutputComparison['tolerance'] {
  const exact = t.requireAllclose && t.atol === 0 && t.rtol === 0;
  return { atol: t.atol, rtol: t.rtol, minCosine: t.minCosine ?? (exact ? 1 : -1), exact };
}
