/**
 * Element types: sizes, names used by run_joint and by numpy's .npy `descr`, and the typed
 * arrays chunks arrive in.
 */
import { endianness } from 'node:os';
import { UsageError } from '../errors';
import type { DType, NumericArray } from './types';

export type ByteOrder = 'little' | 'big';

/** Byte order of this machine; chunks are always delivered in it. */
export const NATIVE_BYTE_ORDER: ByteOrder = endianness() === 'LE' ? 'little' : 'big';

/** Bytes per element as stored in a file (float16 is 2 even though it decodes to float32). */
export const DTYPE_BYTES: Record<DType, number> = {
  bool: 1,
  uint8: 1,
  int8: 1,
  uint16: 2,
  int16: 2,
  uint32: 4,
  int32: 4,
  int64: 8,
  uint64: 8,
  float16: 2,
  float32: 4,
  float64: 8,
};

export const DTYPES = Object.keys(DTYPE_BYTES) as DType[];

export function isDType(s: string): s is DType {
  return Object.prototype.hasOwnProperty.call(DTYPE_BYTES, s);
}

/** Signed and unsigned integers of every width; `bool` is neither integer nor float. */
export function isIntegerDType(d: DType): boolean {
  return d !== 'bool' && !isFloatDType(d);
}

export function isFloatDType(d: DType): boolean {
  return d === 'float16' || d === 'float32' || d === 'float64';
}

type ArrayClass =
  | Uint8ArrayConstructor
  | Int8ArrayConstructor
  | Uint16ArrayConstructor
  | Int16ArrayConstructor
  | Uint32ArrayConstructor
  | Int32ArrayConstructor
  | Float32ArrayConstructor
  | Float64ArrayConstructor
  | BigInt64ArrayConstructor
  | BigUint64ArrayConstructor;

/** The typed array a chunk of each dtype arrives in (see types.ts: float16 → Float32Array). */
const CHUNK_CLASS: Record<DType, ArrayClass> = {
  bool: Uint8Array,
  uint8: Uint8Array,
  int8: Int8Array,
  uint16: Uint16Array,
  int16: Int16Array,
  uint32: Uint32Array,
  int32: Int32Array,
  int64: BigInt64Array,
  uint64: BigUint64Array,
  float16: Float32Array,
  float32: Float32Array,
  float64: Float64Array,
};

/** A zero-filled array of `length` elements of the class chunks of `dtype` arrive in. */
export function allocArray(dtype: DType, length: number): NumericArray {
  return new CHUNK_CLASS[dtype](length);
}

/** True when `arr` is the typed array class that chunks of `dtype` arrive in. */
export function arrayMatchesDType(arr: NumericArray, dtype: DType): boolean {
  return arr instanceof CHUNK_CLASS[dtype];
}

/** Name of the class chunks of `dtype` arrive in, for messages. */
export function arrayClassName(dtype: DType): string {
  return CHUNK_CLASS[dtype].name;
}

/**
 * A typed array over `length` stored elements at `byteOffset` of `buffer`, without copying.
 * Not for float16, whose stored form (Uint16) differs from its chunk form (Float32).
 * The offset must be a multiple of the item size (readers read into fresh buffers at 0).
 */
export function viewArray(dtype: Exclude<DType, 'float16'>, buffer: ArrayBuffer, byteOffset: number, length: number): NumericArray {
  return new CHUNK_CLASS[dtype](buffer, byteOffset, length);
}

// --- run_joint names -------------------------------------------------------------------------

/** run_joint's plain dtype names (see brief_io_info in its source). */
const RUN_JOINT_NAMES: Record<string, DType> = {
  uint8: 'uint8',
  sint8: 'int8',
  uint16: 'uint16',
  sint16: 'int16',
  uint32: 'uint32',
  sint32: 'int32',
  float32: 'float32',
  float64: 'float64',
};

/**
 * Bit width of a packed camera-RAW dtype name (`uint10_packed` as run_joint prints it, or the
 * short `uint10`), else undefined. run_joint itself prints `uint16` for the unpacked type and
 * `uint16_packed` for the packed one.
 */
export function runJointPackedBits(name: string): 10 | 12 | 14 | 16 | undefined {
  const m = /^uint(10|12|14|16)(_packed)?$/.exec(name.trim().toLowerCase());
  if (!m) return undefined;
  if (m[1] === '16' && !m[2]) return undefined;
  return Number(m[1]) as 10 | 12 | 14 | 16;
}

/**
 * run_joint's dtype name (`sint8`, `float32`, `uint12_packed`..., any case) → DType.
 *
 * Packed camera-RAW types: run_joint loads and dumps every tensor as raw bytes (`Size` of
 * them) and the SDK stores packed types "in compact form", i.e. bit-packed with no 16-bit
 * words. So `uint16_packed` is bit-identical to little-endian uint16 → 'uint16'; `uint10/12/14`
 * cannot be unpacked without the (undocumented) bit order, so they are read as bytes →
 * 'uint8' — use runJointTensorSpec to get the matching flat byte shape. Our own DType names
 * (`int8`...) are accepted too. Unknown names → undefined.
 */
export function parseRunJointDtype(s: string): DType | undefined {
  const name = s.trim().toLowerCase();
  const bits = runJointPackedBits(name);
  if (bits === 16) return 'uint16';
  if (bits !== undefined) return 'uint8';
  if (Object.prototype.hasOwnProperty.call(RUN_JOINT_NAMES, name)) return RUN_JOINT_NAMES[name];
  return isDType(name) ? name : undefined;
}

export interface RunJointTensorSpec {
  dtype: DType;
  shape: number[];
  /** Set for packed camera-RAW types; their data is then compared as `shape[0]` bytes. */
  packedBits?: 10 | 12 | 14 | 16;
}

/**
 * dtype and shape to read a run_joint tensor file with. For uint10/12/14 packed data the
 * shape becomes `[sizeBytes]` of uint8 (`sizeBytes` is run_joint's `Size` line; without it
 * ceil(elements × bits / 8) is assumed). Unknown dtype name → undefined.
 */
export function runJointTensorSpec(dtypeName: string, shape: readonly number[], sizeBytes?: number): RunJointTensorSpec | undefined {
  const dtype = parseRunJointDtype(dtypeName);
  if (dtype === undefined) return undefined;
  const bits = runJointPackedBits(dtypeName);
  if (bits === undefined) return { dtype, shape: [...shape] };
  if (bits === 16) return { dtype, shape: [...shape], packedBits: bits };
  const elements = shape.reduce((a, b) => a * b, 1);
  return { dtype, shape: [sizeBytes ?? Math.ceil((elements * bits) / 8)], packedBits: bits };
}

/**
 * A `--dtype` option value: our names (`float32`, `int8`...) or run_joint's (`sint8`,
 * `uint12_packed`...). Throws UsageError DTYPE_UNKNOWN listing the accepted names.
 */
export function parseDTypeOption(s: string): DType {
  const dtype = parseRunJointDtype(s);
  if (dtype !== undefined) return dtype;
  throw new UsageError('DTYPE_UNKNOWN', `unknown dtype '${s}'`, {
    hint: `use one of ${DTYPES.join(', ')} (or run_joint's sint8, sint16, sint32, uint10_packed...)`,
  });
}

// --- numpy descr -----------------------------------------------------------------------------

const DESCR_KINDS: Record<string, DType> = {
  b1: 'bool',
  u1: 'uint8',
  i1: 'int8',
  u2: 'uint16',
  i2: 'int16',
  u4: 'uint32',
  i4: 'int32',
  u8: 'uint64',
  i8: 'int64',
  f2: 'float16',
  f4: 'float32',
  f8: 'float64',
};

/**
 * numpy's dtype string (`'<f4'`, `'>i2'`, `'|u1'`, `'|b1'`; `'='` or no prefix = this
 * machine's order) → dtype and byte order. Anything else (complex, object, strings,
 * datetimes, float128, '|' on a multi-byte type) → undefined.
 */
export function dtypeFromDescr(descr: string): { dtype: DType; byteOrder: ByteOrder } | undefined {
  const m = /^([<>|=]?)([biuf][1248])$/.exec(descr);
  if (!m || !Object.prototype.hasOwnProperty.call(DESCR_KINDS, m[2])) return undefined;
  const dtype = DESCR_KINDS[m[2]];
  if (DTYPE_BYTES[dtype] === 1) return { dtype, byteOrder: 'little' };
  if (m[1] === '|') return undefined;
  const byteOrder: ByteOrder = m[1] === '<' ? 'little' : m[1] === '>' ? 'big' : NATIVE_BYTE_ORDER;
  return { dtype, byteOrder };
}

/** The numpy descr for `dtype` in `byteOrder` (one-byte types get numpy's `'|'`). */
export function descrOf(dtype: DType, byteOrder: ByteOrder = 'little'): string {
  const code = Object.keys(DESCR_KINDS).find((k) => DESCR_KINDS[k] === dtype) as string;
  if (DTYPE_BYTES[dtype] === 1) return `|${code}`;
  return `${byteOrder === 'little' ? '<' : '>'}${code}`;
}
