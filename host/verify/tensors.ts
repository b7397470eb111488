/**
 * Opening the tensors verify compares. A gt file is read from its `.npy` when there is one
 * (the header is exact), else from its raw `.bin` with run_joint's listing for dtype and
 * shape. A board dump is raw, described by the listing; when its size does not fit the
 * listing it is read flat, so the comparison reports the element count instead of failing
 * to open it.
 */
import { BadFileError } from '../../shared/errors';
import type { GtFile } from '../../shared/parsers/gt-folder';
import type { RunJointTensor } from '../../shared/parsers/run-joint-log';
import { DTYPE_BYTES, isFloatDType, runJointTensorSpec } from '../../shared/tensor/dtype';
import { bytesSource } from '../../shared/tensor/bin';
import { openTensor, readAll } from '../../shared/tensor/open';
import { dequantize } from '../../shared/tensor/quant';
import type { DType, NumericArray, TensorSource } from '../../shared/tensor/types';

export interface Spec {
  dtype: DType;
  shape: number[];
}

/** dtype and shape of a listing block, when complete and readable. */
export function specOf(tensor: RunJointTensor | null | undefined): Spec | null {
  if (!tensor || tensor.dtype === null || tensor.shape.length === 0) return null;
  const spec = runJointTensorSpec(tensor.dtype, tensor.shape, tensor.size ?? undefined);
  return spec ? { dtype: spec.dtype, shape: spec.shape } : null;
}

export async function openGtTensor(file: GtFile, spec: Spec | null): Promise<TensorSource> {
  if (file.npy) return withGtHint(openTensor(file.npy));
  if (!spec) {
    throw new BadFileError('GT_TENSOR_UNDESCRIBED', file.bin!, `is raw data with no ${file.fileBase}.npy beside it, and run_joint did not describe tensor '${file.tensorName}'`, {
      hint: 'keep the .npy files pulsar run writes next to the .bin files',
    });
  }
  return withGtHint(openTensor(file.bin!, spec));
}

/**
 * gt files as one verify reads them: each opened and (when small) loaded once, though both the
 * compile stage and the board's comparison read gt/joint. A .npy is read by its header alone,
 * so the spec asked with it does not matter; a raw .bin is read as that spec says.
 */
export class GtTensors {
  private readonly loaded = new Map<string, Promise<TensorSource>>();

  load(file: GtFile, spec: Spec | null): Promise<TensorSource> {
    const key = file.npy ?? JSON.stringify([file.bin, spec]);
    let loading = this.loaded.get(key);
    if (!loading) {
      loading = openGtTensor(file, spec).then(loadIfSmall);
      this.loaded.set(key, loading);
      loading.catch(() => this.loaded.delete(key)); // the next reader tries again, and says why
    }
    return loading;
  }
}

const GT_FILE_HINT = 'the gt folder is damaged or was made for another model: make it again with `pulsar run ... --output_gt` for this model';

/**
 * The tensor readers' hints are for `axctl compare` (pass --dtype and --shape, rename to .bin),
 * options verify does not have: a gt file that does not read is the gt folder's problem.
 */
async function withGtHint(opening: Promise<TensorSource>): Promise<TensorSource> {
  try {
    return await opening;
  } catch (err) {
    if (!(err instanceof BadFileError)) throw err;
    throw new BadFileError(err.code, err.file, err.message.slice(err.file.length + 2), { hint: GT_FILE_HINT, cause: err });
  }
}

/** A board output: its file, or its bytes in memory (`file` then only names it in messages). */
export interface Dump {
  file: string;
  bytes?: Uint8Array;
}

/** A raw dump of the board, `size` bytes long: the listing's dtype and shape, else the reference's. */
export async function openDump(dump: Dump, size: number, spec: Spec | null, ref: TensorSource): Promise<TensorSource> {
  const use = spec ?? { dtype: ref.info.dtype, shape: [...ref.info.shape] };
  const expected = use.shape.reduce((a, b) => a * b, 1) * DTYPE_BYTES[use.dtype];
  // Flat when it does not fit: the comparison reports the count.
  if (dump.bytes) return bytesSource(dump.file, dump.bytes, use.dtype, size === expected ? use.shape : undefined);
  if (size === expected) return openTensor(dump.file, use);
  return openTensor(dump.file, { dtype: use.dtype }); // flat: the comparison reports the count
}

/**
 * Rows (along the first dimension) a board dump of `size` bytes holds, when fewer than the
 * listing's: run_joint dumps `Size / shape[0] * batch` bytes, so an output whose first
 * dimension is not the batch (a `[4]` or `[25200, 85]` output of a batch-1 model) comes back
 * cut to its first `batch` rows. Null when the dump is whole, or not a whole number of rows.
 */
export function dumpedRows(size: number, spec: Spec): number | null {
  const all = spec.shape[0] ?? 0;
  const rowBytes = spec.shape.slice(1).reduce((a, b) => a * b, 1) * DTYPE_BYTES[spec.dtype];
  if (all <= 1 || rowBytes <= 0) return null;
  const rows = size / rowBytes;
  return Number.isInteger(rows) && rows >= 1 && rows < all ? rows : null;
}

/** The first `rows` rows of `source` (C order: its first elements), shaped like `spec` cut to `rows`. */
export function firstRows(source: TensorSource, rows: number, spec: Spec): TensorSource {
  const shape = [rows, ...spec.shape.slice(1)];
  const count = shape.reduce((a, b) => a * b, 1);
  return {
    info: { ...source.info, shape, length: count },
    async *chunks(chunkElements?: number) {
      let left = count;
      for await (const chunk of source.chunks(chunkElements)) {
        if (left <= 0) break;
        const part = chunk.length <= left ? chunk : chunk.subarray(0, left);
        left -= part.length;
        yield part;
      }
    },
  };
}

/** The source with every chunk divided by q (an integer output back to its real values). */
export function dequantized(source: TensorSource, q: number): TensorSource {
  return {
    info: { ...source.info, dtype: 'float64' },
    async *chunks(chunkElements?: number) {
      for await (const chunk of source.chunks(chunkElements)) yield dequantize(chunk, q);
    },
  };
}

/**
 * When one side is float and the other integer with a known Q, the integer side divided by Q
 * (as `axctl compare` does); otherwise both as they are.
 */
export function alignForComparison(ref: TensorSource, got: TensorSource, q: number | null): { ref: TensorSource; got: TensorSource; dequantized: boolean } {
  const refFloat = isFloatDType(ref.info.dtype);
  const gotFloat = isFloatDType(got.info.dtype);
  if (q === null || q <= 0 || refFloat === gotFloat) return { ref, got, dequantized: false };
  return refFloat ? { ref, got: dequantized(got, q), dequantized: true } : { ref: dequantized(ref, q), got, dequantized: true };
}

/** Tensors up to this size are read once into memory: comparing and plotting then read them three times for free. */
export const IN_MEMORY_MAX_BYTES = 32 * 1024 * 1024;

/** `source` read whole into memory when it is small (typical outputs), else as it is (streamed). */
export async function loadIfSmall(source: TensorSource): Promise<TensorSource> {
  const bytes = source.info.length * (source.info.dtype === 'float16' ? 4 : DTYPE_BYTES[source.info.dtype]);
  if (bytes > IN_MEMORY_MAX_BYTES) return source;
  const data: NumericArray = await readAll(source);
  return {
    info: source.info,
    async *chunks(chunkElements = data.length) {
      const step = Math.max(1, chunkElements);
      for (let at = 0; at < data.length; at += step) yield data.subarray(at, Math.min(data.length, at + step));
    },
  };
}
