/**
 * The stand-in's "onnx" model. A real .onnx file is a protobuf graph only onnxruntime and the
 * toolchain can read; the stand-in's is a text file: the magic line `AXSIMONNX 1` and one
 * JSON object describing a tiny float model the way the board simulator's joints describe
 * compiled ones (scripts/sim/model.ts), so `pulsar build` can turn it into a simulator joint:
 *
 *   seed     the weights of the computation (scripts/sim/compute.ts); the joint keeps it
 *   inputs   name, shape, layout (NCHW as exported from PyTorch, or NHWC); float32
 *   outputs  name, shape
 *   layers   onnx layer names, in graph order, for per-layer scores and layer mapping
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export const ONNX_MAGIC = 'AXSIMONNX 1\n';

export interface FakeOnnxTensor {
  readonly name: string;
  readonly shape: readonly number[];
}

export interface FakeOnnxInput extends FakeOnnxTensor {
  /** NCHW (PyTorch export) or NHWC. */
  readonly layout: 'NCHW' | 'NHWC';
}

export interface FakeOnnxModel {
  readonly producer: string;
  readonly seed: number;
  readonly inputs: readonly FakeOnnxInput[];
  readonly outputs: readonly FakeOnnxTensor[];
  readonly layers: readonly string[];
}

export type ParsedOnnx = { ok: true; model: FakeOnnxModel } | { ok: false; reason: string };

export function serializeOnnx(model: FakeOnnxModel): string {
  return ONNX_MAGIC + JSON.stringify(model, null, 2) + '\n';
}

export function parseOnnx(bytes: Buffer): ParsedOnnx {
  const magic = Buffer.from(ONNX_MAGIC, 'latin1');
  if (bytes.length < magic.length || !bytes.subarray(0, magic.length).equals(magic)) {
    return { ok: false, reason: `not a stand-in onnx model (no ${JSON.stringify(ONNX_MAGIC.trim())} line)` };
  }
  let json: unknown;
  try {
    json = JSON.parse(bytes.subarray(magic.length).toString('utf8'));
  } catch (err) {
    return { ok: false, reason: `malformed JSON after the magic line (${(err as Error).message})` };
  }
  try {
    return { ok: true, model: validateOnnx(json) };
  } catch (err) {
    return { ok: false, reason: (err as Error).message };
  }
}

export function validateOnnx(value: unknown): FakeOnnxModel {
  const m = record(value, 'model');
  const inputs = list(m.inputs, 'inputs').map((v, i) => {
    const t = tensor(v, `inputs[${i}]`);
    const layout = record(v, `inputs[${i}]`).layout ?? 'NCHW';
    if (layout !== 'NCHW' && layout !== 'NHWC') throw new Error(`inputs[${i}].layout: must be NCHW or NHWC`);
    if (t.shape.length !== 4) throw new Error(`inputs[${i}].shape: an image input has 4 dimensions`);
    return { ...t, layout } as FakeOnnxInput;
  });
  const outputs = list(m.outputs, 'outputs').map((v, i) => tensor(v, `outputs[${i}]`));
  if (inputs.length === 0 || outputs.length === 0) throw new Error('a model needs at least one input and one output');
  const layers = list(m.layers ?? [], 'layers').map((l, i) => {
    if (typeof l !== 'string' || l === '') throw new Error(`layers[${i}]: must be a non-empty string`);
    return l;
  });
  const seed = m.seed;
  if (typeof seed !== 'number' || !Number.isSafeInteger(seed) || seed < 0 || seed > 0xffffffff) throw new Error('seed: must be an integer from 0 to 4294967295');
  return { producer: typeof m.producer === 'string' ? m.producer : 'unknown', seed, inputs, outputs, layers };
}

export function readOnnxFile(file: string): FakeOnnxModel {
  const parsed = parseOnnx(fs.readFileSync(file));
  if (!parsed.ok) throw new Error(`${file}: ${parsed.reason}`);
  return parsed.model;
}

/** A small classifier (resnet18's names, a 32×32 input to keep tests fast). */
export function classifierOnnx(seed = 1): FakeOnnxModel {
  const layers = ['resnetv15_conv0_fwd', 'resnetv15_batchnorm0_fwd', 'resnetv15_relu0_fwd', 'resnetv15_pool0_fwd'];
  for (let stage = 1; stage <= 4; stage++) layers.push(`resnetv15_stage${stage}_conv0_fwd`, `resnetv15_stage${stage}_batchnorm0_fwd`, `resnetv15_stage${stage}_relu0_fwd`);
  layers.push('resnetv15_pool1_fwd', 'resnetv15_dense0_fwd');
  return {
    producer: 'axctl pulsar-sim',
    seed,
    inputs: [{ name: 'data', shape: [1, 3, 32, 32], layout: 'NCHW' }],
    outputs: [{ name: 'resnetv15_dense0_fwd', shape: [1, 10] }],
    layers,
  };
}

export function writeOnnxFile(model: FakeOnnxModel, file: string): void {
  const text = serializeOnnx(validateOnnx(model));
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  fs.writeFileSync(tmp, text);
  fs.renameSync(tmp, file);
}

function record(v: unknown, where: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error(`${where}: must be an object`);
  return v as Record<string, unknown>;
}

function list(v: unknown, where: string): unknown[] {
  if (!Array.isArray(v)) throw new Error(`${where}: must be an array`);
  return v;
}

function tensor(v: unknown, where: string): FakeOnnxTensor {
  const t = record(v, where);
  if (typeof t.name !== 'string' || t.name === '') throw new Error(`${where}.name: must be a non-empty string`);
  const shape = list(t.shape, `${where}.shape`).map((d, i) => {
    if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 1) throw new Error(`${where}.shape[${i}]: must be a positive integer`);
    return d;
  });
  if (shape.length === 0) throw new Error(`${where}.shape: must have at least one dimension`);
  return { name: t.name, shape };
}
