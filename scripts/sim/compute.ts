/**
 * The tiny deterministic "network" inside a simulator joint.
 *
 * Every output element k is a fixed linear map of all input elements: input element j of
 * input i contributes w(seed, output, i, j) * x to bin k = j mod N (N = the output's elements
 * per batch item), the sum is scaled to unit variance and a per-element bias is added.
 *
 * - The float reference (what `gt/onnx` holds) uses the exact weights in float64.
 * - The joint result (what run_joint dumps and `gt/joint` holds) uses weights rounded to a
 *   coarse grid, like a quantizing compiler would, then encodes into the output's dtype:
 *   float outputs are rounded to float32/float64, integer outputs to round(y * Q) clamped
 *   to the dtype's range. Its cosine similarity to the reference stays above 0.999.
 *
 * The simulator and the gt generator both call this module, so their results are
 * bit-identical for the same input bytes.
 */
import { dtypeBytes, elementCount, isFloatDType, tensorSize, type JointDType, type SimModel, type TensorSpec } from './model';

/** Number of steps per unit of the joint's weight grid (the "compile" precision). */
const WEIGHT_GRID = 15;

/** Elements of one batch item of a tensor. */
export function itemElements(spec: TensorSpec): number {
  return elementCount(spec.shape) / spec.shape[0];
}

/** The float reference, one Float32Array per output over the full shape (items past `batch` are 0). */
export function computeReference(model: SimModel, inputs: readonly Buffer[], batch: number): Float32Array[] {
  return linearMap(model, inputs, batch, false).map((values) => Float32Array.from(values));
}

/** The joint result: one buffer per output, `Size` bytes each (items past `batch` are zeros). */
export function computeJoint(model: SimModel, inputs: readonly Buffer[], batch: number): Buffer[] {
  const values = linearMap(model, inputs, batch, true);
  return model.outputs.map((spec, o) => encode(spec, values[o]));
}

function linearMap(model: SimModel, inputs: readonly Buffer[], batch: number, quantized: boolean): Float64Array[] {
  const totalInputElements = model.inputs.reduce((sum, spec) => sum + itemElements(spec), 0);
  return model.outputs.map((out, o) => {
    const n = itemElements(out);
    const values = new Float64Array(elementCount(out.shape));
    const scale = 1 / Math.sqrt(Math.max(1, totalInputElements / n));
    const items = Math.min(batch, out.shape[0]);
    for (let b = 0; b < items; b++) {
      const acc = new Float64Array(n);
      model.inputs.forEach((spec, i) => {
        const m = itemElements(spec);
        const data = inputs[i];
        const itemOffset = b * m;
        for (let j = 0; j < m; j++) {
          const x = decodeNormalized(spec.dtype, data, itemOffset + j);
          let w = unit(hash4(model.seed, o, i, j));
          if (quantized) w = Math.round(w * WEIGHT_GRID) / WEIGHT_GRID;
          acc[j % n] += w * x;
        }
      });
      for (let k = 0; k < n; k++) {
        values[b * n + k] = acc[k] * scale + 0.25 * unit(hash4(model.seed ^ 0x5bd1e995, o, 0xffff, k));
      }
    }
    return values;
  });
}

/** An input element as a value around [-1, 1]: integers are centred and scaled by their range. */
function decodeNormalized(dtype: JointDType, data: Buffer, index: number): number {
  const at = index * dtypeBytes(dtype);
  switch (dtype) {
    case 'uint8': return (data[at] - 128) / 128;
    case 'sint8': return data.readInt8(at) / 128;
    case 'uint16': return (data.readUInt16LE(at) - 32768) / 32768;
    case 'sint16': return data.readInt16LE(at) / 32768;
    case 'uint32': return (data.readUInt32LE(at) - 2147483648) / 2147483648;
    case 'sint32': return data.readInt32LE(at) / 2147483648;
    case 'float32': return data.readFloatLE(at);
    case 'float64': return data.readDoubleLE(at);
  }
}

const INT_RANGE: Partial<Record<JointDType, [number, number]>> = {
  uint8: [0, 255], sint8: [-128, 127], uint16: [0, 65535], sint16: [-32768, 32767],
  uint32: [0, 4294967295], sint32: [-2147483648, 2147483647],
};

function encode(spec: TensorSpec, values: Float64Array): Buffer {
  const buf = Buffer.alloc(tensorSize(spec));
  const width = dtypeBytes(spec.dtype);
  for (let k = 0; k < values.length; k++) {
    writeElement(spec.dtype, buf, k * width, isFloatDType(spec.dtype) ? values[k] : quantize(spec, values[k]));
  }
  return buf;
}

/** Smallest and largest value of an integer dtype. */
export function intRange(dtype: JointDType): [number, number] {
  const range = INT_RANGE[dtype];
  if (!range) throw new Error(`${dtype} is not an integer type`);
  return range;
}

/** The integer a quantized output holds for real value y: round(y * Q), clamped to the dtype. */
export function quantize(spec: TensorSpec, y: number): number {
  const [lo, hi] = intRange(spec.dtype);
  const v = Math.round(y * (spec.q && spec.q > 0 ? spec.q : 1));
  if (Number.isNaN(v)) return 0;
  return Math.min(hi, Math.max(lo, v));
}

export function writeElement(dtype: JointDType, buf: Buffer, at: number, v: number): void {
  switch (dtype) {
    case 'uint8': buf.writeUInt8(v, at); break;
    case 'sint8': buf.writeInt8(v, at); break;
    case 'uint16': buf.writeUInt16LE(v, at); break;
    case 'sint16': buf.writeInt16LE(v, at); break;
    case 'uint32': buf.writeUInt32LE(v, at); break;
    case 'sint32': buf.writeInt32LE(v, at); break;
    case 'float32': buf.writeFloatLE(v, at); break;
    case 'float64': buf.writeDoubleLE(v, at); break;
  }
}

export function readElement(dtype: JointDType, buf: Buffer, at: number): number {
  switch (dtype) {
    case 'uint8': return buf.readUInt8(at);
    case 'sint8': return buf.readInt8(at);
    case 'uint16': return buf.readUInt16LE(at);
    case 'sint16': return buf.readInt16LE(at);
    case 'uint32': return buf.readUInt32LE(at);
    case 'sint32': return buf.readInt32LE(at);
    case 'float32': return buf.readFloatLE(at);
    case 'float64': return buf.readDoubleLE(at);
  }
}

/** A well-mixed 32-bit hash of four integers (murmur3-style finalisation). */
export function hash4(a: number, b: number, c: number, d: number): number {
  let h = Math.imul(a ^ 0x9e3779b9, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h ^ b, 0xc2b2ae35);
  h ^= h >>> 16;
  h = Math.imul(h ^ c, 0x27d4eb2f);
  h ^= h >>> 15;
  h = Math.imul(h ^ d, 0x165667b1);
  h ^= h >>> 13;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A hash mapped to [-1, 1). */
export function unit(h: number): number {
  return (h / 4294967296) * 2 - 1;
}
