/**
 * The compile stage, reported beside the verdict: gt/onnx (the float model) against gt/joint
 * (the compiled model in the simulator), per output, by file name. The precision guide's
 * rule: cosine below 0.98 means compiling (quantizing) lost precision — a model problem, not
 * the board's. An integer joint output is divided by its Q first, so the 2-norm error is in
 * real values (the cosine does not depend on the scale).
 */
import { COMPILE_MIN_COSINE, compareSources, stageTolerance } from '../../shared/metrics';
import type { GtFile, GtFolder } from '../../shared/parsers/gt-folder';
import { tensorFileName } from '../../shared/parsers/gt-folder';
import type { RunJointTensor } from '../../shared/parsers/run-joint-log';
import type { CompileStageOutput, VerifyReport } from '../report/model';
import { alignForComparison, GtTensors, specOf } from './tensors';

/**
 * Null when no gt/onnx file pairs with a gt/joint file: no onnx/ (or the older input/output
 * layout), or no common name. Files pair by name; a one-output model's only gt/joint file is
 * its output whatever its name (as the board stage takes it), so it pairs with the only
 * gt/onnx file too.
 */
export async function compareCompileStage(gt: GtFolder, outputs: readonly RunJointTensor[], gtTensors = new GtTensors()): Promise<VerifyReport['compile']> {
  if (gt.onnx.length === 0 || gt.joint.length === 0) return null;
  const byBase = new Map(outputs.map((t) => [tensorFileName(t.name), t]));
  const order = (base: string) => {
    const i = outputs.findIndex((t) => tensorFileName(t.name) === base);
    return i < 0 ? outputs.length : i;
  };
  const joint = new Map(gt.joint.map((f) => [f.fileBase, f]));
  const onlyOnes = outputs.length <= 1 && gt.joint.length === 1 && gt.onnx.length === 1;
  const pairs: Array<[GtFile, GtFile]> = onlyOnes
    ? [[gt.onnx[0]!, gt.joint[0]!]]
    : gt.onnx.filter((f) => joint.has(f.fileBase)).sort((a, b) => order(a.fileBase) - order(b.fileBase) || a.fileBase.localeCompare(b.fileBase)).map((f) => [f, joint.get(f.fileBase)!]);
  const results: CompileStageOutput[] = [];
  for (const [onnxFile, jointFile] of pairs) {
    const tensor = (onlyOnes ? outputs[0] : byBase.get(onnxFile.fileBase)) ?? null;
    // The float model's outputs are float32 in the listing's shape (a .npy says so itself).
    const onnx = await gtTensors.load(onnxFile, tensor?.shape.length ? { dtype: 'float32', shape: [...tensor.shape] } : null);
    const compiled = await gtTensors.load(jointFile, specOf(tensor));
    const aligned = alignForComparison(onnx, compiled, tensor?.q ?? null);
    const c = await compareSources(aligned.ref, aligned.got, stageTolerance('onnx-vs-joint', 'float32'));
    const cosine = c.metrics?.cosine ?? NaN;
    results.push({ name: tensor?.name ?? onnxFile.fileBase, cosine, relErr2: c.metrics?.relErr2 ?? NaN, lossy: !(cosine >= COMPILE_MIN_COSINE) });
  }
  if (results.length === 0) return null;
  return { outputs: results, lossy: results.some((r) => r.lossy) };
}
