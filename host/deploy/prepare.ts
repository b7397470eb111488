/**
 * The local half of deploy and verify: check the model and gt folder, map gt inputs to the
 * model's inputs, and hash what goes to the board (HashCache: a file unchanged since it was
 * last hashed costs a stat). Nothing here touches the network.
 */
import * as path from 'node:path';
import { allInOrder } from '../../shared/all-in-order';
import { BadFileError, InputError, type AxError } from '../../shared/errors';
import { scanGtFolder, type GtFolder } from '../../shared/parsers/gt-folder';
import type { HashCache } from './hash-cache';
import type { ModelIo, ModelIoStore } from '../state/model-io';
import type { FileRecord } from '../state/axctl-state';
import { planInputs, type InputPlan, type InputProblem, type PlannedInput } from './gt-inputs';
import type { Progress } from './progress';

export interface HashedInput extends PlannedInput {
  hash: string;
}

export interface Prepared {
  model: FileRecord;
  gt: GtFolder;
  /** The model's listing, when the host has seen this model run before. */
  io: ModelIo | null;
  plan: InputPlan;
  /** The plan's inputs with their hashes. */
  inputs: HashedInput[];
}

export interface PrepareContext {
  hashes: HashCache;
  ioStore: ModelIoStore;
  progress: Progress;
}

export async function prepare(modelPath: string, gtPath: string, ctx: PrepareContext): Promise<Prepared> {
  ctx.progress.note(`hashing ${path.basename(modelPath)}`);
  // Side by side (each is a few file-system calls, a verify waits for both); a bad gt folder is
  // still the error reported first, as when they went one after the other.
  const [gt, digest] = await allInOrder([scanGtFolder(gtPath), ctx.hashes.digest(modelPath)]);
  if (digest.size === 0) throw new BadFileError('MODEL_EMPTY', modelPath, 'is empty', { hint: 'name the .joint file pulsar build wrote' });
  const model: FileRecord = { path: digest.path, hash: digest.hash, size: digest.size };
  const io = await ctx.ioStore.get(model.hash);
  const plan = await planInputs(gt, io ? { names: io.inputs.map((t) => t.name), tensors: io.inputs, maxBatchSize: io.maxBatchSize } : null);
  const unusable = plan.problems.find((p) => p.code === 'GT_NO_INPUTS' || p.code === 'GT_INPUT_NO_BIN');
  if (unusable) throw new BadFileError(unusable.code, unusable.file ?? gt.dir, unusable.reason, { hint: 'name the gt folder `pulsar run --output_gt` wrote' });
  return { model, gt, io, plan, inputs: await hashPlannedInputs(plan, ctx.hashes) };
}

/** The plan's input files with their hashes (from the cache where unchanged). */
export async function hashPlannedInputs(plan: InputPlan, hashes: HashCache): Promise<HashedInput[]> {
  const inputs: HashedInput[] = [];
  for (const input of plan.inputs) {
    const d = await hashes.digest(input.file);
    inputs.push({ ...input, hash: d.hash, size: d.size });
  }
  await hashes.save();
  return inputs;
}

/** The problems of a plan as one error for deploy: the board would not get these inputs. */
export function inputProblemsError(problems: InputProblem[]): AxError {
  const first = problems[0]!;
  const more = problems.length > 1 ? ` (and ${problems.length - 1} more: ${problems.slice(1).map((p) => p.input).join(', ')})` : '';
  return new InputError(first.code, `${first.reason}${more}`, {
    hint: 'the gt folder does not fit this model: run `pulsar run` again with this model, or deploy the model the gt was made for',
  });
}
