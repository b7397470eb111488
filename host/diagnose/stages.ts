/**
 * Stage bisection (guide steps 2 and 3.3): how close the compiled model (onnx vs joint) and
 * the quantized model (onnx vs lava_joint) are to the onnx, per output. Measured either by
 * running `pulsar run` now, or by reading a gt folder an earlier `pulsar run` wrote (its onnx/
 * holds the float reference, its joint/ the compiled or lava result) with shared/metrics'
 * onnx-vs-joint comparison. Cosine does not change when an integer output is divided by its
 * Q, so a gt folder needs no Q for the verdict; its relative error is only shown for float
 * outputs.
 */
import * as path from 'node:path';
import { isAxError } from '../../shared/errors';
import { scanGtFolder } from '../../shared/parsers/gt-folder';
import { isFloatDType } from '../../shared/tensor/dtype';
import { runCompare } from '../compare/compare';
import { COSINE_THRESHOLD, isLowCosine } from '../toolchain/scores';
import { pulsarSim, type ModelKind, type SimResult } from '../toolchain/sim';
import type { PulsarToolchain } from '../toolchain/toolchain';
import type { ToolchainVersion } from '../toolchain/version';

export interface StageOutput {
  readonly name: string;
  readonly cosine: number;
  /** ‖onnx − model‖₂ / ‖onnx‖₂ in percent, when meaningful. */
  readonly relErr2Percent: number | null;
  readonly low: boolean;
}

export interface StageMeasurement {
  readonly kind: ModelKind;
  readonly source: 'pulsar run' | 'gt folder';
  readonly outputs: readonly StageOutput[];
  /** The gt folder written (pulsar run) or read. */
  readonly gtDir: string;
  readonly toolchain: ToolchainVersion | null;
  /** What ran, for evidence: pulsar's argv, or the folders compared. */
  readonly how: string;
}

export interface SimulateRequest {
  readonly onnx: string;
  readonly model: string;
  readonly config: string;
  readonly inputs: readonly string[];
  readonly layers: readonly string[];
  readonly outputGt: string;
  readonly stateDir: string;
}

export async function simulateStage(tool: PulsarToolchain, req: SimulateRequest): Promise<StageMeasurement> {
  const sim: SimResult = await pulsarSim(tool, {
    onnx: req.onnx, model: req.model, config: req.config, inputs: req.inputs, layers: req.layers,
    outputGt: req.outputGt, stateDir: req.stateDir,
  });
  return {
    kind: sim.modelKind,
    source: 'pulsar run',
    outputs: sim.scores.map((s) => ({ name: s.layer, cosine: s.cosine, relErr2Percent: Number.isFinite(s.relErr2Percent) ? s.relErr2Percent : null, low: s.low })),
    gtDir: sim.outputGt,
    toolchain: sim.toolchain,
    how: sim.argv.join(' '),
  };
}

/**
 * onnx/ vs joint/ of a gt folder. Returns a reason instead when the folder cannot tell (the
 * older layout without onnx/, or no output present on both sides).
 */
export async function readGtStage(dir: string, kind: ModelKind): Promise<StageMeasurement | string> {
  const gt = await scanGtFolder(dir);
  if (gt.layout === 'input-output' || gt.onnx.length === 0 || gt.joint.length === 0) {
    return `${dir} has no ${gt.onnx.length === 0 ? 'onnx/' : 'joint/'} outputs to compare (pulsar run writes both into --output_gt)`;
  }
  const reference = path.join(dir, 'onnx');
  const compared = path.join(dir, 'joint');
  let report;
  try {
    report = await runCompare({ reference, compared, stage: 'onnx-vs-joint', overrides: {} });
  } catch (err) {
    // Raw .bin files without the .npy pulsar run writes beside them (a copied or trimmed gt
    // folder): nothing says their dtype and shape, so this folder cannot tell. That is a
    // check that cannot be made, not a usage error (compare's hint names options diagnose lacks).
    if (isAxError(err) && err.code === 'TENSOR_NEEDS_SPEC') {
      return `${dir}: onnx/ and joint/ hold raw .bin files without the .npy files pulsar run writes beside them, so their dtype and shape are unknown (${err.message})`;
    }
    throw err;
  }
  const outputs: StageOutput[] = [];
  const unmeasured: string[] = [];
  for (const o of report.outputs) {
    const m = o.comparison?.metrics;
    if (!o.comparison || !m) {
      unmeasured.push(`${o.name}: ${o.reasons.join('; ') || 'not compared'}`);
      continue;
    }
    const bothFloat = isFloatDType(o.comparison.ref.dtype) && isFloatDType(o.comparison.got.dtype);
    // The metrics leave NaN/Inf pairs out of the cosine; pulsar run's cosine over the same
    // tensors would be NaN. A NaN or Inf the onnx does not have is lost precision, not a pass.
    const nonFinite = m.nonFiniteMismatched > 0;
    const cosine = nonFinite ? Number.NaN : m.cosine;
    outputs.push({
      name: o.name,
      cosine,
      relErr2Percent: !nonFinite && bothFloat && Number.isFinite(m.relErr2) ? m.relErr2 * 100 : null,
      low: isLowCosine(cosine, COSINE_THRESHOLD),
    });
  }
  // An output found on one side only, or with another element count, was not measured: a
  // pass on the others would say nothing about it.
  if (outputs.length > 0 && unmeasured.length > 0) {
    return `${dir}: not every output of onnx/ could be compared with joint/ (${unmeasured.join('; ')})`;
  }
  if (outputs.length === 0) return `${dir}: no output of onnx/ could be compared with joint/ (${report.outputs.flatMap((o) => o.reasons).join('; ') || 'no common names'})`;
  return { kind, source: 'gt folder', outputs, gtDir: dir, toolchain: null, how: `${reference} vs ${compared}` };
}

/** The lowest-scoring output, for one-line evidence. */
export function worstOutput(m: StageMeasurement): StageOutput {
  return [...m.outputs].sort((a, b) => cosineRank(a.cosine) - cosineRank(b.cosine))[0];
}

/** NaN sorts first: it counts as lost. */
function cosineRank(c: number): number {
  return Number.isNaN(c) ? -Infinity : c;
}

export function describeStage(m: StageMeasurement): string {
  const w = worstOutput(m);
  const low = m.outputs.filter((o) => o.low).length;
  const cos = Number.isNaN(w.cosine) ? 'NaN' : w.cosine.toFixed(6);
  return low > 0
    ? `${w.name} cosine ${cos} < ${COSINE_THRESHOLD}${low > 1 ? ` (${low} of ${m.outputs.length} outputs low)` : ''}`
    : `lowest cosine ${cos}, on ${w.name}`;
}
