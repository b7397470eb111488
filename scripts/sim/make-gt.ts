#!/usr/bin/env node
/**
 * The simulator's `pulsar run --output_gt`: writes a gt folder for a simulator joint.
 *
 *   <out>/input/<input>.bin + .npy, filename.txt   seeded random inputs, what the board is fed
 *   <out>/joint/<output>.bin + .npy                exactly what run-joint dumps for those inputs
 *   <out>/onnx/<output>.bin + .npy                 the float reference (float32, before quantization)
 *
 * Output file names follow run_joint's dump rule ('/' → '_') so gt/joint and a dump folder
 * line up name for name. With `compileLoss` the float reference is moved away from the joint
 * result (cosine ≈ 0.89), as when compilation lost precision.
 *
 * CLI:  make-gt gt <model.joint> <out-dir> [--seed N] [--compile-loss]
 *       make-gt model <classifier|multi-input> <file>
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { AxError, BadFileError, fileSystemError, UsageError } from '../../shared/errors';
import { writeBin } from '../../shared/tensor/bin';
import { writeNpy } from '../../shared/tensor/npy';
import type { DType, NumericArray } from '../../shared/tensor/types';
import { computeJoint, computeReference, hash4, readElement, unit, writeElement } from './compute';
import { dtypeBytes, dumpFileName, elementCount, parseModel, tensorSize, type JointDType, type SimModel, type TensorSpec } from './model';
import { MODEL_KINDS, readyModel, writeModelFile, type ModelKind } from './ready-models';
import { makeFolderSync } from '../../shared/fs/atomic';

export { writeModelFile as writeModel } from './ready-models';
export type { ModelKind } from './ready-models';

export interface MakeGtOptions {
  /** Seed of the random inputs; the same seed gives the same gt folder. */
  readonly seed: number;
  /** Make gt/onnx differ from gt/joint so much that their cosine similarity is below 0.98. */
  readonly compileLoss?: boolean;
}

export interface GtFiles {
  readonly name: string;
  readonly bin: string;
  readonly npy: string;
}

export interface GtManifest {
  readonly inputs: readonly GtFiles[];
  readonly joint: readonly GtFiles[];
  readonly onnx: readonly GtFiles[];
}

/** run_joint dtype names → the tensor layer's. */
export const TENSOR_DTYPE: Record<JointDType, DType> = {
  uint8: 'uint8', sint8: 'int8', uint16: 'uint16', sint16: 'int16',
  uint32: 'uint32', sint32: 'int32', float32: 'float32', float64: 'float64',
};

/** Reads and checks a simulator joint; BadFileError (exit code 2) when it is not one. */
export function loadModel(modelFile: string): SimModel {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(modelFile);
  } catch (err) {
    throw fileSystemError(modelFile, err);
  }
  const parsed = parseModel(bytes);
  if (!parsed.ok) {
    throw new BadFileError('SIM_MODEL_INVALID', modelFile, `is not a simulator joint: ${parsed.reason}`, {
      hint: 'write one with `make-gt model <kind> <file>`',
    });
  }
  return parsed.model;
}

export async function makeGt(modelFile: string, outDir: string, options: MakeGtOptions): Promise<GtManifest> {
  if (!Number.isSafeInteger(options.seed)) throw new UsageError('SIM_GT_SEED', `seed ${options.seed} is not a whole number`);
  const model = loadModel(modelFile);
  const dirs = { input: path.join(outDir, 'input'), joint: path.join(outDir, 'joint'), onnx: path.join(outDir, 'onnx') };
  for (const dir of Object.values(dirs)) {
    try {
      makeFolderSync(dir);
    } catch (err) {
      throw fileSystemError(dir, err);
    }
  }
  const inputs = model.inputs.map((spec, i) => randomTensor(spec, options.seed, i));
  const batch = model.maxBatchSize === 0 ? 1 : model.maxBatchSize;
  const joint = computeJoint(model, inputs, batch);
  const reference = computeReference(model, inputs, batch);
  if (options.compileLoss) reference.forEach((values, o) => addOrthogonalNoise(values, options.seed, o));

  const manifest: GtManifest = {
    inputs: await Promise.all(model.inputs.map((spec, i) =>
      writePair(dirs.input, `${spec.name}.bin`, spec.name, TENSOR_DTYPE[spec.dtype], spec.shape, asArray(spec, inputs[i])))),
    joint: await Promise.all(model.outputs.map((spec, o) =>
      writePair(dirs.joint, dumpFileName(spec.name), spec.name, TENSOR_DTYPE[spec.dtype], spec.shape, asArray(spec, joint[o])))),
    onnx: await Promise.all(model.outputs.map((spec, o) =>
      writePair(dirs.onnx, dumpFileName(spec.name), spec.name, 'float32', spec.shape, reference[o]))),
  };
  const names = model.inputs.map((spec) => `${spec.name} axsim-random-seed-${options.seed}\n`).join('');
  writeTextAtomic(path.join(dirs.input, 'filename.txt'), names);
  return manifest;
}

/** Writes the ready model of `kind` to `file`. */
export function makeModel(kind: ModelKind, file: string): void {
  if (!MODEL_KINDS.includes(kind)) {
    throw new UsageError('SIM_MODEL_KIND', `unknown model kind '${kind}'`, { hint: `use one of: ${MODEL_KINDS.join(', ')}` });
  }
  try {
    writeModelFile(readyModel(kind), file);
  } catch (err) {
    throw fileSystemError(file, err);
  }
}

/** A tensor's bytes filled from a seeded generator: integers over their whole range, floats in [-1, 1). */
function randomTensor(spec: TensorSpec, seed: number, index: number): Buffer {
  const buf = Buffer.alloc(tensorSize(spec));
  const width = dtypeBytes(spec.dtype);
  const n = elementCount(spec.shape);
  for (let k = 0; k < n; k++) {
    const h = hash4(seed, 0x1a7e, index, k);
    if (spec.dtype === 'float32' || spec.dtype === 'float64') writeElement(spec.dtype, buf, k * width, unit(h));
    else for (let b = 0; b < width; b++) buf[k * width + b] = (h >>> (8 * b)) & 0xff;
  }
  return buf;
}

/** The little-endian bytes of a tensor as the typed array the tensor layer writes. */
function asArray(spec: TensorSpec, bytes: Buffer): NumericArray {
  const n = bytes.length / dtypeBytes(spec.dtype);
  const make: Record<JointDType, (len: number) => NumericArray> = {
    uint8: (l) => new Uint8Array(l), sint8: (l) => new Int8Array(l), uint16: (l) => new Uint16Array(l),
    sint16: (l) => new Int16Array(l), uint32: (l) => new Uint32Array(l), sint32: (l) => new Int32Array(l),
    float32: (l) => new Float32Array(l), float64: (l) => new Float64Array(l),
  };
  const arr = make[spec.dtype](n) as Exclude<NumericArray, BigInt64Array | BigUint64Array>;
  for (let k = 0; k < n; k++) arr[k] = readElement(spec.dtype, bytes, k * dtypeBytes(spec.dtype));
  return arr;
}

/** Adds noise orthogonal to `values` with half their norm: cosine(values, result) = 1/√1.25 ≈ 0.894. */
function addOrthogonalNoise(values: Float32Array, seed: number, output: number): void {
  const noise = Array.from(values, (_, k) => unit(hash4(seed, 0xc0de, output, k)));
  const dot = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
    let s = 0;
    for (let k = 0; k < a.length; k++) s += a[k] * b[k];
    return s;
  };
  const vv = dot(values, values);
  if (vv === 0) return;
  const along = dot(noise, values) / vv;
  for (let k = 0; k < noise.length; k++) noise[k] -= along * values[k];
  const scale = (0.5 * Math.sqrt(vv)) / Math.sqrt(dot(noise, noise) || 1);
  for (let k = 0; k < values.length; k++) values[k] += noise[k] * scale;
}

async function writePair(dir: string, binName: string, name: string, dtype: DType, shape: readonly number[], data: NumericArray): Promise<GtFiles> {
  const bin = path.join(dir, binName);
  const npy = bin.slice(0, -'.bin'.length) + '.npy';
  await writeBin(bin, data, dtype);
  await writeNpy(npy, dtype, shape, data);
  return { name, bin, npy };
}

function writeTextAtomic(file: string, text: string): void {
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    fs.writeFileSync(tmp, text);
    fs.renameSync(tmp, file);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw fileSystemError(file, err);
  }
}

const USAGE = `usage: make-gt gt <model.joint> <out-dir> [--seed N] [--compile-loss]
       make-gt model <${MODEL_KINDS.join('|')}> <file>`;
const USAGE_HINT = 'run `make-gt --help` for the usage';

export async function cli(argv: readonly string[]): Promise<number> {
  try {
    const { values, positionals } = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: { seed: { type: 'string', default: '0' }, 'compile-loss': { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h' } },
    });
    if (values.help) {
      process.stdout.write(`${USAGE}\n`);
      return 0;
    }
    const [verb, a, b, ...extra] = positionals;
    if (extra.length > 0 || a === undefined || b === undefined || (verb !== 'gt' && verb !== 'model')) {
      throw new UsageError('SIM_GT_USAGE', 'expected `gt <model> <out-dir>` or `model <kind> <file>`', { hint: USAGE_HINT });
    }
    if (verb === 'model') {
      makeModel(a as ModelKind, b);
      return 0;
    }
    if (!/^-?[0-9]+$/.test(values.seed as string)) {
      throw new UsageError('SIM_GT_SEED', `--seed ${values.seed} is not a whole number`);
    }
    await makeGt(a, b, { seed: Number(values.seed), compileLoss: values['compile-loss'] as boolean });
    return 0;
  } catch (err) {
    const parseError = String((err as NodeJS.ErrnoException).code ?? '').startsWith('ERR_PARSE_ARGS');
    if (!(err instanceof AxError) && !parseError) throw err;
    const e = err instanceof AxError ? err : new UsageError('SIM_GT_USAGE', (err as Error).message, { hint: USAGE_HINT });
    process.stderr.write(`make-gt: ${e.describe()}\n`);
    return e.exitCode;
  }
}

if (typeof require !== 'undefined' && require.main === module) {
  cli(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
