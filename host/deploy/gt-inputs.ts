/**
 * Which gt/input file feeds which model input, and whether it can. run_joint takes raw bytes,
 * so the `.bin` of each input is what goes to the board. A gt file's base name is the tensor
 * name with '/' → '_', which cannot be turned back; so names come from the model's listing
 * when the host knows it (a model run before, see host/state/model-io.ts), else the file
 * bases are used as names (right unless a name holds '/') and verify learns the real names
 * from the agent.
 *
 * The local checks find what would make run_joint fall back to random data: an input with
 * no file, and a file whose size is not the input's Size.
 */
import * as path from 'node:path';
import { statRegularFile } from '../../shared/fs/regular-file';
import { findGtFile, type GtFile, type GtFolder } from '../../shared/parsers/gt-folder';
import type { RunJointTensor } from '../../shared/parsers/run-joint-log';
import { batchBytes } from '../../shared/run/classify';

export interface PlannedInput {
  /** Model input name (or the file base while names are unknown). */
  name: string;
  /** The raw `.bin` file sent to the board. */
  file: string;
  size: number;
}

/**
 * A gt input the board would not get as meant; the evidence of an input-error. For
 * GT_NO_INPUTS and GT_INPUT_NO_BIN (a gt folder that cannot be used at all) `reason` follows
 * the file name; for the others it is a sentence of its own.
 */
export interface InputProblem {
  code: 'GT_INPUT_MISSING' | 'GT_INPUT_NO_BIN' | 'GT_INPUT_SIZE' | 'GT_NO_INPUTS';
  /** The model input concerned (or the file base). */
  input: string;
  file: string | null;
  reason: string;
}

export interface InputPlan {
  inputs: PlannedInput[];
  /** Whether `name`s are the model's own (from its listing). */
  namesKnown: boolean;
  problems: InputProblem[];
}

/** Model input names (and tensors when known) to map gt files to. */
export interface InputNames {
  names: string[];
  /** The listing's blocks, by name, to check sizes; absent when only names are known. */
  tensors?: RunJointTensor[];
  maxBatchSize?: number | null;
}

export async function planInputs(gt: GtFolder, model: InputNames | null): Promise<InputPlan> {
  if (gt.inputs.length === 0) {
    return { inputs: [], namesKnown: model !== null, problems: [{ code: 'GT_NO_INPUTS', input: '', file: path.join(gt.dir, 'input'), reason: 'holds no .bin or .npy input files' }] };
  }
  const problems: InputProblem[] = [];
  const inputs: PlannedInput[] = [];
  const pairs: { name: string; gtFile: GtFile | undefined; tensor?: RunJointTensor }[] = model
    ? model.names.map((name, i) => ({
        name,
        // The older layout (and single-input gt folders named otherwise) hold one file for one input.
        gtFile: findGtFile(gt.inputs, name) ?? (model.names.length === 1 && gt.inputs.length === 1 ? gt.inputs[0] : undefined),
        ...(model.tensors?.[i] && { tensor: model.tensors[i] }),
      }))
    : gt.inputs.map((f) => ({ name: f.fileBase, gtFile: f }));
  for (const { name, gtFile, tensor } of pairs) {
    if (!gtFile) {
      problems.push({ code: 'GT_INPUT_MISSING', input: name, file: null, reason: `${gt.dir}/input has no file for model input '${name}' (expected ${name.replace(/\//g, '_')}.bin)` });
      continue;
    }
    if (!gtFile.bin) {
      problems.push({ code: 'GT_INPUT_NO_BIN', input: name, file: gtFile.npy ?? null, reason: `has no raw ${gtFile.fileBase}.bin beside it; run_joint reads raw bytes` });
      continue;
    }
    const size = (await statRegularFile(gtFile.bin)).size;
    inputs.push({ name, file: gtFile.bin, size });
    const expected = tensor ? inputBytes(tensor) : null;
    if (expected !== null && !acceptableInputBytes(tensor!, model?.maxBatchSize ?? null).includes(size)) {
      problems.push({
        code: 'GT_INPUT_SIZE',
        input: name,
        file: gtFile.bin,
        reason: `${gtFile.bin} is ${size} bytes, model input '${name}' (${tensor!.dtype} ${JSON.stringify(tensor!.shape)}) needs ${expected}: run_joint would use random data`,
      });
    }
  }
  return { inputs, namesKnown: model !== null, problems };
}

/**
 * Bytes run_joint reads for an input: the `Size` of its listing ("an input file whose size
 * differs from the input tensor's size" runs on random data). Null when the listing has no Size.
 */
export function inputBytes(tensor: RunJointTensor): number | null {
  return tensor.size;
}

/**
 * Sizes a gt input may have without being refused on the host: the listed Size, and also the
 * output dump rule's `Size / shape[0] * max batch` (which differs only when shape[0] is not the
 * max batch). The reference states only the first for inputs; for the other the host lets
 * run_joint decide (a refusal comes back from the board as `data size wrong`, still an input-error).
 */
function acceptableInputBytes(tensor: RunJointTensor, maxBatchSize: number | null): number[] {
  if (tensor.size === null) return [];
  return [tensor.size, batchBytes(tensor, maxBatchSize && maxBatchSize > 0 ? maxBatchSize : 1)];
}
