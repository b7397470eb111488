/**
 * Opening the two files of a pair. A `.npy` describes itself; a raw `.bin` gets its dtype and
 * shape, in this order, from --dtype/--shape, the run_joint log's block of the same tensor,
 * its `.npy` twin, or — last — the other side of the pair (a board dump has the dtype and
 * shape of the gt/joint tensor it is compared with).
 */
import { promises as fs } from 'node:fs';
import { BadFileError, isAxError } from '../../shared/errors';
import { readTextFile } from '../../shared/fs/regular-file';
import { tensorFileName } from '../../shared/parsers/gt-folder';
import { looksLikeRunJointLog, parseRunJointLog, type RunJointLog, type RunJointTensor } from '../../shared/parsers/run-joint-log';
import { DTYPE_BYTES, runJointTensorSpec } from '../../shared/tensor/dtype';
import { npyTwinPath, openTensor } from '../../shared/tensor/open';
import { dequantize } from '../../shared/tensor/quant';
import { formatShape } from '../../shared/tensor/shape';
import type { DType, TensorInfo, TensorSource } from '../../shared/tensor/types';
import type { TensorFile } from './pairing';

/** What is known about a file before it is opened. */
export interface TensorSpec {
  dtype?: DType;
  shape?: number[];
  /** Quantization value (Q=n) from the log or --q. */
  q?: number;
}

export async function loadRunJointLog(file: string): Promise<RunJointLog> {
  const text = await readTextFile(file, { what: 'a run_joint log' });
  if (!looksLikeRunJointLog(text)) {
    throw new BadFileError('COMPARE_LOG_NOT_RUN_JOINT', file, 'is not a run_joint log', { hint: 'pass the output run_joint printed on the board' });
  }
  const log = parseRunJointLog(text);
  if (log.outputs.length === 0) {
    throw new BadFileError('COMPARE_LOG_NO_OUTPUTS', file, 'has no Output[i] blocks to take dtypes and shapes from', {
      hint: 'pass the whole log of the run, from "run joint version" on',
    });
  }
  return log;
}

/**
 * The log's block for a file name: the tensor whose name, with '/' → '_', is `name`
 * (outputs first, then inputs). For a single pair of files whose names match nothing, a log
 * with exactly one output describes that output.
 */
export function findLogTensor(log: RunJointLog, name: string, singlePair: boolean): RunJointTensor | undefined {
  const byName = [...log.outputs, ...log.inputs].find((t) => tensorFileName(t.name) === name);
  if (byName) return byName;
  return singlePair && log.outputs.length === 1 ? log.outputs[0] : undefined;
}

/** dtype, shape and Q of a log block; an unknown dtype name is a bad log. */
export function specFromLog(logFile: string, tensor: RunJointTensor): TensorSpec {
  if (tensor.dtype === null || tensor.shape.length === 0) return tensor.q !== null ? { q: tensor.q } : {};
  const spec = runJointTensorSpec(tensor.dtype, tensor.shape, tensor.size ?? undefined);
  if (!spec) {
    throw new BadFileError('COMPARE_LOG_DTYPE', logFile, `gives output ${tensor.name} the dtype '${tensor.dtype}', which axctl cannot read`, {
      hint: 'pass --dtype (e.g. --dtype uint8) to read the file as raw elements',
    });
  }
  return { dtype: spec.dtype, shape: spec.shape, ...(tensor.q !== null && { q: tensor.q }) };
}

export function isNpy(file: string): boolean {
  return /\.npy$/i.test(file);
}

async function exists(file: string): Promise<boolean> {
  return fs.stat(file).then(
    () => true,
    () => false,
  );
}

/** Whether the file knows its own dtype (a .npy, or a .bin with a twin or a given dtype). */
export async function describesItself(file: TensorFile, spec: TensorSpec): Promise<boolean> {
  return isNpy(file.path) || spec.dtype !== undefined || (await exists(npyTwinPath(file.path)));
}

/**
 * Opens one side. `other` is the other side's info, used for a raw file nothing else
 * describes; a size that does not fit it is reported as such (exit 2).
 */
export async function openSide(file: TensorFile, spec: TensorSpec, other?: TensorInfo): Promise<TensorSource> {
  if (isNpy(file.path)) return openTensor(file.path);
  const borrowing = other !== undefined && !(await describesItself(file, spec));
  const dtype = spec.dtype ?? (borrowing ? other.dtype : undefined);
  const shape = spec.shape ?? (borrowing ? [...other.shape] : await shapeOfSameSize(file, spec, other));
  try {
    return await openTensor(file.path, { ...(dtype && { dtype }), ...(shape && { shape }) });
  } catch (err) {
    if (borrowing && isAxError(err) && err.code === 'BIN_SIZE_MISMATCH') {
      const size = (await fs.stat(file.path)).size;
      throw new BadFileError(
        'COMPARE_BIN_SIZE',
        file.path,
        `is ${size} bytes, but ${other.path} (${other.dtype} ${formatShape(other.shape)}) says it should be ${other.length * DTYPE_BYTES[other.dtype]}`,
        { hint: 'the dump is cut short or of another dtype: pass --dtype/--shape, or --log with the run_joint log of the run that wrote it' },
      );
    }
    throw err;
  }
}

/**
 * With only --dtype given for a raw file (no --shape, no .npy twin), the other side's shape
 * when the file holds exactly as many elements of that dtype: `--dtype int8` must not make a
 * board dump flat where, without it, it would have taken the gt tensor's shape.
 */
async function shapeOfSameSize(file: TensorFile, spec: TensorSpec, other: TensorInfo | undefined): Promise<number[] | undefined> {
  if (!other || !spec.dtype || spec.shape || (await exists(npyTwinPath(file.path)))) return undefined;
  const size = await fs.stat(file.path).then((st) => st.size, () => -1);
  return size === other.length * DTYPE_BYTES[spec.dtype] ? [...other.shape] : undefined;
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
