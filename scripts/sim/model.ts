/**
 * The simulator's stand-in for a compiled joint model.
 *
 * A real `.joint` file is opaque binary that only Axera's runtime can read. The simulator's
 * joint is a text file: the magic line `AXSIMJOINT 1` followed by one JSON object that says
 * everything run_joint prints about a model (versions, I/O metadata, timing profile) plus a
 * seed from which the tiny deterministic computation's weights are derived (see compute.ts).
 *
 * `parseModel` never throws on bad bytes: it returns the reason, because run-joint must treat
 * an unreadable model the way the real runtime treats garbage (an assertion), while tests and
 * `makeModel` want the reason in words.
 */

export const MODEL_MAGIC = 'AXSIMJOINT 1\n';

/** Element types as run_joint names them (`describe_data_type` in its source). */
export type JointDType = 'uint8' | 'uint16' | 'sint8' | 'sint16' | 'sint32' | 'uint32' | 'float32' | 'float64';

export type Layout = 'NHWC' | 'NCHW';

export type ColorSpace =
  | 'FeatureMap' | 'BGR' | 'RGB' | 'GRAY' | 'NV12' | 'NV21' | 'YUV444'
  | 'RAW8' | 'RAW10' | 'RAW12' | 'RAW14' | 'RAW16';

export type QuantizationType = '8 bit' | '16 bit' | '32 bit' | 'mix' | 'unknown';

export interface TensorSpec {
  readonly name: string;
  readonly shape: readonly number[];
  readonly layout: Layout;
  readonly dtype: JointDType;
  /** Where the runtime keeps the buffer; only printed. Default Physical. */
  readonly memory?: 'Physical' | 'Virtual';
  /** Quantization value: the real value is the integer divided by q. Absent or 0: none. */
  readonly q?: number;
}

export interface InputSpec extends TensorSpec {
  /** Colour space from the input's extra meta; null prints nothing (a tensor without extra meta). */
  readonly colorSpace: ColorSpace | null;
}

export interface ComponentProfile {
  readonly type: 'neu' | 'onnx' | 'axe';
  /** Time the component needs per inference, and the runtime's overhead on top of it. */
  readonly coreUs: number;
  readonly overheadUs: number;
  /** Time the component needed when the handle was created. */
  readonly initUs: number;
}

/** What run_joint reports about time and memory; nothing here changes the computed outputs. */
export interface Profile {
  /** Total AX_JOINT_CreateHandle time (the components' init time is part of it). */
  readonly createHandleUs: number;
  readonly components: readonly ComponentProfile[];
  readonly cmmUsage: number;
  readonly perfCntTotal: number;
  /** One value per NPU execution unit (AX620: 5). */
  readonly perfCntEu: readonly number[];
}

export interface SimModel {
  /** Toolchain version the model was built with, and the line the runtime prints after it. */
  readonly toolsVersion: string;
  readonly toolsHash: string;
  /** Virtual NPU type the model was compiled for: `1_1` or `disable` (AX620). */
  readonly npuType: '1_1' | 'disable';
  readonly quantization: QuantizationType;
  readonly maxBatchSize: number;
  readonly dynamicBatch: boolean;
  readonly filterMode: boolean;
  /** Seed of the weights of the model's computation. */
  readonly seed: number;
  readonly inputs: readonly InputSpec[];
  readonly outputs: readonly TensorSpec[];
  readonly profile: Profile;
}

const DTYPE_BYTES: Record<JointDType, number> = {
  uint8: 1, sint8: 1, uint16: 2, sint16: 2, sint32: 4, uint32: 4, float32: 4, float64: 8,
};

const COLOR_SPACES: readonly ColorSpace[] = [
  'FeatureMap', 'BGR', 'RGB', 'GRAY', 'NV12', 'NV21', 'YUV444', 'RAW8', 'RAW10', 'RAW12', 'RAW14', 'RAW16',
];
const QUANT_TYPES: readonly QuantizationType[] = ['8 bit', '16 bit', '32 bit', 'mix', 'unknown'];

export function dtypeBytes(dtype: JointDType): number {
  return DTYPE_BYTES[dtype];
}

export function isFloatDType(dtype: JointDType): boolean {
  return dtype === 'float32' || dtype === 'float64';
}

/** The tensor's `Size` as run_joint prints it: all elements of the full shape, in bytes. */
export function tensorSize(spec: TensorSpec): number {
  return elementCount(spec.shape) * DTYPE_BYTES[spec.dtype];
}

export function elementCount(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** run_joint's dump file name: every '/' becomes '_', plus `.bin`. */
export function dumpFileName(tensorName: string): string {
  return `${tensorName.split('/').join('_')}.bin`;
}

export function serializeModel(model: SimModel): string {
  return MODEL_MAGIC + JSON.stringify(model, null, 2) + '\n';
}

export type ParseResult = { ok: true; model: SimModel } | { ok: false; reason: string };

export function parseModel(bytes: Buffer): ParseResult {
  const magic = Buffer.from(MODEL_MAGIC, 'latin1');
  if (bytes.length < magic.length || !bytes.subarray(0, magic.length).equals(magic)) {
    return { ok: false, reason: `does not start with the magic line ${JSON.stringify(MODEL_MAGIC)}` };
  }
  let json: unknown;
  try {
    json = JSON.parse(bytes.subarray(magic.length).toString('utf8'));
  } catch (err) {
    return { ok: false, reason: `the JSON after the magic line is malformed (${(err as Error).message})` };
  }
  try {
    return { ok: true, model: validateModel(json) };
  } catch (err) {
    return { ok: false, reason: (err as Error).message };
  }
}

/** Checks a decoded model object field by field; throws an Error naming the first bad field. */
export function validateModel(value: unknown): SimModel {
  const m = asRecord(value, 'model');
  const inputs = asArray(m.inputs, 'inputs').map((v, i) => validateInput(v, `inputs[${i}]`));
  const outputs = asArray(m.outputs, 'outputs').map((v, i) => validateTensor(v, `outputs[${i}]`));
  if (inputs.length === 0) throw new Error('inputs: a model needs at least one input');
  if (outputs.length === 0) throw new Error('outputs: a model needs at least one output');
  const maxBatchSize = asInt(m.maxBatchSize, 'maxBatchSize', 0);
  for (const t of [...inputs, ...outputs]) {
    if (t.shape[0] !== Math.max(1, maxBatchSize)) {
      throw new Error(`${t.name}: shape[0] must equal maxBatchSize (or 1 when maxBatchSize is 0)`);
    }
  }
  const npuType = m.npuType;
  if (npuType !== '1_1' && npuType !== 'disable') throw new Error('npuType: must be "1_1" or "disable"');
  if (!QUANT_TYPES.includes(m.quantization as QuantizationType)) {
    throw new Error(`quantization: must be one of ${QUANT_TYPES.join(', ')}`);
  }
  return {
    toolsVersion: asString(m.toolsVersion, 'toolsVersion'),
    toolsHash: asString(m.toolsHash, 'toolsHash'),
    npuType,
    quantization: m.quantization as QuantizationType,
    maxBatchSize,
    dynamicBatch: asBool(m.dynamicBatch, 'dynamicBatch'),
    filterMode: asBool(m.filterMode, 'filterMode'),
    seed: asInt(m.seed, 'seed', 0),
    inputs,
    outputs,
    profile: validateProfile(m.profile),
  };
}

function validateTensor(value: unknown, where: string): TensorSpec {
  const t = asRecord(value, where);
  const shape = asArray(t.shape, `${where}.shape`).map((d, i) => asInt(d, `${where}.shape[${i}]`, 1));
  if (shape.length === 0) throw new Error(`${where}.shape: must have at least one dimension`);
  const layout = t.layout;
  if (layout !== 'NHWC' && layout !== 'NCHW') throw new Error(`${where}.layout: must be NHWC or NCHW`);
  const dtype = t.dtype as JointDType;
  if (!(typeof dtype === 'string' && dtype in DTYPE_BYTES)) {
    throw new Error(`${where}.dtype: must be one of ${Object.keys(DTYPE_BYTES).join(', ')}`);
  }
  const memory = t.memory ?? 'Physical';
  if (memory !== 'Physical' && memory !== 'Virtual') throw new Error(`${where}.memory: must be Physical or Virtual`);
  const q = t.q === undefined ? 0 : asInt(t.q, `${where}.q`, 0);
  const name = asString(t.name, `${where}.name`);
  if (name === '') throw new Error(`${where}.name: must not be empty`);
  return { name, shape, layout, dtype, memory, q };
}

function validateInput(value: unknown, where: string): InputSpec {
  const base = validateTensor(value, where);
  const cs = asRecord(value, where).colorSpace;
  if (cs !== null && !COLOR_SPACES.includes(cs as ColorSpace)) {
    throw new Error(`${where}.colorSpace: must be null or one of ${COLOR_SPACES.join(', ')}`);
  }
  return { ...base, colorSpace: cs as ColorSpace | null };
}

function validateProfile(value: unknown): Profile {
  const p = asRecord(value, 'profile');
  const components = asArray(p.components, 'profile.components').map((v, i) => {
    const c = asRecord(v, `profile.components[${i}]`);
    if (c.type !== 'neu' && c.type !== 'onnx' && c.type !== 'axe') {
      throw new Error(`profile.components[${i}].type: must be neu, onnx or axe`);
    }
    return {
      type: c.type,
      coreUs: asInt(c.coreUs, `profile.components[${i}].coreUs`, 0),
      overheadUs: asInt(c.overheadUs, `profile.components[${i}].overheadUs`, 0),
      initUs: asInt(c.initUs, `profile.components[${i}].initUs`, 0),
    } as ComponentProfile;
  });
  return {
    createHandleUs: asInt(p.createHandleUs, 'profile.createHandleUs', 0),
    components,
    cmmUsage: asInt(p.cmmUsage, 'profile.cmmUsage', 0),
    perfCntTotal: asInt(p.perfCntTotal, 'profile.perfCntTotal', 0),
    perfCntEu: asArray(p.perfCntEu, 'profile.perfCntEu').map((v, i) => asInt(v, `profile.perfCntEu[${i}]`, 0)),
  };
}

function asRecord(v: unknown, where: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error(`${where}: must be an object`);
  return v as Record<string, unknown>;
}

function asArray(v: unknown, where: string): unknown[] {
  if (!Array.isArray(v)) throw new Error(`${where}: must be an array`);
  return v;
}

function asString(v: unknown, where: string): string {
  if (typeof v !== 'string') throw new Error(`${where}: must be a string`);
  return v;
}

function asBool(v: unknown, where: string): boolean {
  if (typeof v !== 'boolean') throw new Error(`${where}: must be true or false`);
  return v;
}

function asInt(v: unknown, where: string, min: number): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > 0xffffffff) {
    throw new Error(`${where}: must be an integer from ${min} to 4294967295`);
  }
  return v;
}
