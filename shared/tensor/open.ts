/**
 * Opening any tensor file by name: `.npy` by its header, anything else as raw data whose
 * dtype and shape come from the caller or from the `.npy` twin beside it (the gt folder of
 * `pulsar run` holds both `<name>.bin` and `<name>.npy`).
 */
import { extname } from 'node:path';
import { BadFileError, isAxError } from '../errors';
import { flatShape, openBin } from './bin';
import { allocArray } from './dtype';
import { openNpy, readNpyHeader, type NpyHeader } from './npy';
import { emptyFileError, tensorFileSize } from './raw-reader';
import { formatShape, sameShape } from './shape';
import type { DType, NumericArray, TensorSource } from './types';

export interface OpenTensorOptions {
  /** Element type; for `.npy` it must match the header. */
  dtype?: DType;
  /** Shape in C order; for `.npy` it must match the header. */
  shape?: number[];
}

/** `x.bin` → `x.npy`; a name without an extension gets `.npy` appended. */
export function npyTwinPath(file: string): string {
  const ext = extname(file);
  return (ext ? file.slice(0, -ext.length) : file) + '.npy';
}

/** The twin's header, or undefined when there is no twin. A damaged twin is an error. */
async function twinHeader(file: string): Promise<NpyHeader | undefined> {
  const twin = npyTwinPath(file);
  try {
    await tensorFileSize(twin);
  } catch (err) {
    if (isAxError(err) && err.code === 'FILE_NOT_FOUND') return undefined;
    throw err;
  }
  return readNpyHeader(twin);
}

function specMismatch(file: string, what: string, inFile: string, given: string): BadFileError {
  return new BadFileError('TENSOR_SPEC_MISMATCH', file, `has ${what} ${inFile} in its header, but ${given} was given`, {
    hint: `leave out --${what} for .npy files (the header says it) or give the matching one`,
  });
}

/**
 * What the `.npy` twin adds to the caller's dtype and shape: nothing when both are given, and
 * nothing when the caller names another dtype than the twin's. The twin's shape counts
 * elements of ITS dtype: under another one (`--dtype uint10_packed` on data the twin calls
 * uint16) it would size the file wrongly, and an explicit dtype must not lose to the twin.
 */
export async function twinSpec(file: string, opts: OpenTensorOptions): Promise<{ dtype?: DType; shape?: number[] }> {
  if (opts.dtype !== undefined && opts.shape !== undefined) return {};
  const twin = await twinHeader(file);
  if (!twin || (opts.dtype !== undefined && opts.dtype !== twin.dtype)) return {};
  return { dtype: twin.dtype, shape: twin.shape };
}

/**
 * Opens `file` for streaming. `.npy`: the header decides (opts, if given, must agree).
 * Otherwise raw little-endian C-order data: dtype and shape from opts, missing ones from the
 * `.npy` twin when it agrees with the given dtype (twinSpec); a dtype with no shape anywhere
 * reads the file as a flat 1-D tensor.
 */
export async function openTensor(file: string, opts: OpenTensorOptions = {}): Promise<TensorSource> {
  if (extname(file).toLowerCase() === '.npy') {
    const src = await openNpy(file);
    if (opts.dtype !== undefined && opts.dtype !== src.info.dtype) throw specMismatch(file, 'dtype', src.info.dtype, opts.dtype);
    if (opts.shape !== undefined && !sameShape(opts.shape, src.info.shape)) {
      throw specMismatch(file, 'shape', formatShape(src.info.shape), formatShape(opts.shape));
    }
    return src;
  }
  const size = await tensorFileSize(file);
  const twin = await twinSpec(file, opts);
  const dtype = opts.dtype ?? twin.dtype;
  const shape = opts.shape ?? twin.shape;
  if (dtype === undefined) {
    if (size === 0) throw emptyFileError(file);
    throw new BadFileError('TENSOR_NEEDS_SPEC', file, `is raw data and its dtype is unknown (no ${npyTwinPath(file)} beside it)`, {
      hint: 'pass --dtype and --shape (e.g. --dtype float32 --shape 1,1000), or --log with the run_joint log that describes it',
    });
  }
  return openBin(file, dtype, shape ?? flatShape(file, size, dtype));
}

type Settable = { set(values: ArrayLike<unknown>, offset: number): void };

/** The whole tensor as one array (float16 → Float32Array). For tensors that fit in memory. */
export async function readAll(src: TensorSource): Promise<NumericArray> {
  const { dtype, length, path } = src.info;
  const out = allocArray(dtype, length);
  let at = 0;
  for await (const chunk of src.chunks(Math.max(1, length))) {
    if (at === 0 && chunk.length === length) return chunk;
    if (at + chunk.length > length) break;
    (out as unknown as Settable).set(chunk, at);
    at += chunk.length;
  }
  if (at !== length) {
    throw new BadFileError('TENSOR_FILE_CHANGED', path, `yielded a different number of elements than its ${length}`, {
      hint: 'the file changed while it was being read; read it again',
    });
  }
  return out;
}
