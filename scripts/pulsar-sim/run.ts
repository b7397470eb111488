/**
 * The stand-in's `pulsar run ONNX MODEL --input ... --config OUTPUT_CONFIG --output_gt DIR`:
 * simulates the joint (or lava_joint), writes the gt folder with the gt generator's code
 * (scripts/sim/make-gt.ts, so gt/joint is exactly what the board simulator computes from
 * gt/input) and prints the dumps and the score table as the real tool does.
 *
 * Images are not decoded: the input files' bytes seed make-gt's input generator. The onnx
 * reference moves away from the compiled result (make-gt's compileLoss, cosine ≈ 0.894) when
 * the compiled model lost precision (the build's quant-loss / compile-loss faults), was built
 * from another onnx, or when the config is not the expanded output config: then the reference
 * is preprocessed differently from what the compiled model was built for.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parsePrototxt } from '../../shared/parsers/prototxt';
import { readElement } from '../sim/compute';
import { makeGt } from '../sim/make-gt';
import { dtypeBytes, dumpFileName, isFloatDType, parseModel, serializeModel, type SimModel } from '../sim/model';
import { many, one, type ParsedArgs } from './args';
import { isExpanded } from './config';
import { Fail, pythonError } from './fail';
import type { PulsarFaults } from './faults';
import { findLavaOfJoint, parseLava, sha256 } from './lava';
import { PulsarLog, scoreRow, tabulateSimple } from './log';
import { parseOnnx } from './onnx-model';

export const RUN_OPTIONS = {
  use_onnx_ir: { kind: 'flag' }, input: { kind: 'many' }, layer: { kind: 'many' }, output_gt: { kind: 'one' }, config: { kind: 'one' },
} as const;

const RUN = 'super_pulsar.func_wrappers.wrapper_pulsar_run';
const UTILS = 'super_pulsar.func_wrappers.pulsar_run.utils';
const COMPARE = 'super_pulsar.func_wrappers.pulsar_run.compare';

interface Target {
  readonly model: SimModel;
  /** Why the compiled result deviates from the onnx, or null. */
  readonly loss: string | null;
}

export async function pulsarRun(args: ParsedArgs, faults: PulsarFaults, log: PulsarLog): Promise<number> {
  const [onnxPath, targetPath, ...rest] = args.positionals;
  if (!onnxPath || !targetPath || rest.length > 0) {
    throw new Fail(2, 'pulsar run: error: give the reference onnx and the model to compare: pulsar run model.onnx model.joint ...');
  }
  const inputs = many(args, 'input');
  if (inputs.length === 0) throw new Fail(2, 'pulsar run: error: the following arguments are required: --input');
  const configPath = one(args, 'config');
  const onnxBytes = readOrFail(onnxPath);
  const onnx = parseOnnx(onnxBytes);
  if (!onnx.ok) throw pythonError(RUN, 61, `onnx.onnx_cpp2py_export.checker.ValidationError: Unable to parse ${onnxPath}: ${onnx.reason}`);
  const target = loadTarget(targetPath, sha256(onnxBytes));
  const expanded = configPath ? configIsExpanded(configPath) : false;
  checkInputs(target.model, inputs, many(args, 'layer'));
  for (const input of inputs) readOrFail(input);
  if (faults.runFail) throw pythonError(RUN, 120, 'RuntimeError: simulation of part_0.neu failed: npu cmodel returned -1');

  const loss = target.loss ?? (expanded ? null : 'config not expanded');
  const outputGt = one(args, 'output_gt');
  const gtDir = outputGt ?? fs.mkdtempSync(path.join(os.tmpdir(), 'pulsar-sim-gt-'));
  const modelFile = targetPath.toLowerCase().endsWith('.lava_joint') ? writeTempJoint(target.model) : targetPath;
  try {
    const manifest = await makeGt(modelFile, gtDir, { seed: seedOf(inputs), compileLoss: loss !== null });
    log.angled(RUN, 138, '=========================');
    if (outputGt) {
      const shown = (dir: string, file: string) => path.join(outputGt, dir, path.basename(file));
      for (const f of manifest.inputs) log.angled(UTILS, 70, `dumpped '${f.name}' to '${shown('input', f.bin)}'.`);
      for (const f of manifest.onnx) log.angled(UTILS, 70, `dumpped '${f.name}' to '${shown('onnx', f.bin)}'.`);
      for (const f of manifest.joint) log.angled(UTILS, 70, `dumpped '${f.name}' to '${shown('joint', f.bin)}'.`);
    }
    const rows = target.model.outputs.map((spec) => {
      const file = dumpFileName(spec.name);
      const reference = fs.readFileSync(path.join(gtDir, 'onnx', file));
      const compiled = fs.readFileSync(path.join(gtDir, 'joint', file));
      const { relErr2Percent, cosine } = compare(reference, compiled, spec.dtype, spec.q ?? 0);
      return scoreRow(spec.name, relErr2Percent, cosine);
    });
    log.angled(COMPARE, 97, `###### Comparing ${path.basename(onnxPath)} (with conf) and ${path.basename(targetPath)} ######`);
    log.angled(COMPARE, 82, 'Score compare table:');
    log.lines(tabulateSimple(rows));
  } finally {
    if (modelFile !== targetPath) fs.rmSync(modelFile, { force: true });
    if (!outputGt) fs.rmSync(gtDir, { recursive: true, force: true });
  }
  return 0;
}

function readOrFail(file: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch {
    throw pythonError(RUN, 58, `FileNotFoundError: [Errno 2] No such file or directory: '${file}'`);
  }
}

/** The compiled model and whether the build that made it lost precision. */
function loadTarget(file: string, onnxSha: string): Target {
  const bytes = readOrFail(file);
  if (file.toLowerCase().endsWith('.lava_joint')) {
    const lava = parseLava(bytes);
    if (!lava) throw pythonError(RUN, 75, `RuntimeError: ${file} is not a lava_joint model`);
    const loss = lava.quantLoss ? 'quantization' : lava.onnxSha256 !== onnxSha ? 'built from another onnx' : null;
    return { model: lava.model, loss };
  }
  const parsed = parseModel(bytes);
  if (!parsed.ok) throw pythonError(RUN, 75, `RuntimeError: failed to load joint ${file}: ${parsed.reason}`);
  const lava = findLavaOfJoint(file, bytes);
  const loss = !lava ? null
    : lava.quantLoss ? 'quantization'
      : lava.compileLoss ? 'compile'
        : lava.onnxSha256 !== onnxSha ? 'built from another onnx' : null;
  return { model: parsed.model, loss };
}

function configIsExpanded(file: string): boolean {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    throw pythonError(RUN, 64, `FileNotFoundError: [Errno 2] No such file or directory: '${file}'`);
  }
  try {
    return isExpanded(parsePrototxt(text, file));
  } catch (err) {
    throw pythonError(RUN, 66, `google.protobuf.text_format.ParseError: ${(err as Error).message}`);
  }
}

function checkInputs(model: SimModel, inputs: readonly string[], layers: readonly string[]): void {
  const names = model.inputs.map((i) => i.name);
  if (inputs.length !== names.length) {
    throw pythonError(RUN, 101, `AssertionError: ${inputs.length} input file(s) given but the model has ${names.length} input(s): ${names.join(', ')}`);
  }
  if (layers.length === 0) return;
  if (layers.length !== inputs.length) throw pythonError(RUN, 104, `AssertionError: --layer has ${layers.length} name(s) but --input has ${inputs.length} file(s)`);
  for (const layer of layers) {
    if (!names.includes(layer)) throw pythonError(RUN, 107, `KeyError: '${layer}' is not an input of the model (inputs: ${names.join(', ')})`);
  }
}

/** One seed from the input files' bytes (make-gt generates the tensors from it). */
function seedOf(inputs: readonly string[]): number {
  const hash = createHash('sha256');
  for (const f of inputs) hash.update(fs.readFileSync(f));
  return hash.digest().readUInt32LE(0) & 0x7fffffff;
}

function writeTempJoint(model: SimModel): string {
  const file = path.join(os.tmpdir(), `pulsar-sim-lava-${process.pid}-${Date.now()}.joint`);
  fs.writeFileSync(file, serializeModel(model));
  return file;
}

/** 2-norm relative error (%) and cosine of the compiled output (dequantized by Q) against the float reference. */
function compare(reference: Buffer, compiled: Buffer, dtype: SimModel['outputs'][number]['dtype'], q: number): { relErr2Percent: number; cosine: number } {
  const n = reference.length / 4;
  const width = dtypeBytes(dtype);
  let dot = 0, refSq = 0, gotSq = 0, diffSq = 0;
  for (let k = 0; k < n; k++) {
    const r = reference.readFloatLE(k * 4);
    const raw = readElement(dtype, compiled, k * width);
    const x = isFloatDType(dtype) || q <= 0 ? raw : raw / q;
    dot += r * x;
    refSq += r * r;
    gotSq += x * x;
    diffSq += (r - x) * (r - x);
  }
  const cosine = refSq === 0 || gotSq === 0 ? NaN : dot / Math.sqrt(refSq * gotSq);
  const relErr2Percent = refSq === 0 ? NaN : (Math.sqrt(diffSq) / Math.sqrt(refSq)) * 100;
  return { relErr2Percent, cosine };
}

