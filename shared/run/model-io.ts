/**
 * A model's inputs and outputs, in run_joint's order. `--data` takes files in input order, not
 * by name, so whoever runs run_joint must know that order before it can feed a request's named
 * inputs. run_joint prints the listing itself; a probe run (`run_joint MODEL --repeat 1`, no
 * --data) gets it: run_joint then feeds random data, which is fine for a probe. The pure part
 * lives here (what to run, what its output means, how inputs are ordered); where the probe runs
 * and where its answer is kept is the caller's business (agent/run/model-io.ts keeps it in the
 * store, agentless SSH in the board's cache folder).
 */
import { RunFailedError, UsageError } from '../errors';
import { parseRunJointLog, type RunJointTensor } from '../parsers/run-joint-log';
import type { RunOutcome } from './outcome';

export interface ModelIo {
  /** In run_joint's order (index i is input[i]). */
  inputs: RunJointTensor[];
  outputs: RunJointTensor[];
  /** `Max Batch Size`: the batch run_joint dumps outputs for unless overridden. */
  maxBatchSize: number | null;
  dynamicBatch: boolean | null;
}

/** A probe that did not yield a listing; `outcome` holds what run_joint printed. */
export class ModelProbeError extends RunFailedError {
  constructor(code: 'MODEL_PROBE_FAILED' | 'RUN_CANCELLED' | 'RUN_TIMEOUT', message: string, readonly outcome: RunOutcome) {
    super(code, message, { hint: code === 'MODEL_PROBE_FAILED' ? 'check that the model is a joint file built for this board' : undefined });
  }
}

/** run_joint's arguments for a probe of the model at `modelPath`. */
export function probeArgs(modelPath: string): string[] {
  return [modelPath, '--repeat', '1'];
}

/**
 * The listing a probe run printed; throws ModelProbeError when it printed none. `timeoutMs`: the
 * probe's limit, which a stopped probe is said not to have finished within.
 */
export function modelIoFromProbe(outcome: RunOutcome, timeoutMs: number): ModelIo {
  if (outcome.cancelled) throw new ModelProbeError('RUN_CANCELLED', 'the run was cancelled while reading the model\'s inputs and outputs', outcome);
  if (outcome.timedOut) throw new ModelProbeError('RUN_TIMEOUT', `run_joint did not finish listing the model's inputs and outputs within ${timeoutMs} ms`, outcome);
  const log = parseRunJointLog(outcome.stdout);
  const incomplete = [...log.inputs, ...log.outputs].find((t) => t.size === null || t.shape.length === 0);
  const listed = log.inputs.length > 0 && log.outputs.length > 0 && !incomplete && inOrder(log.inputs) && inOrder(log.outputs);
  if (!listed) {
    const why = log.assertions[0] ?? log.errors[0] ?? lastLine(outcome.stderr) ?? `exit ${outcome.exitCode ?? outcome.signal}`;
    throw new ModelProbeError('MODEL_PROBE_FAILED', `run_joint did not list the model's inputs and outputs: ${why}`, outcome);
  }
  return { inputs: log.inputs, outputs: log.outputs, maxBatchSize: log.maxBatchSize, dynamicBatch: log.dynamicBatch };
}

/** True when `value` has the shape of a ModelIo (e.g. read back from a cache file). */
export function looksLikeModelIo(value: unknown): value is ModelIo {
  const io = value as Partial<ModelIo> | null;
  return typeof io === 'object' && io !== null && Array.isArray(io.inputs) && Array.isArray(io.outputs);
}

/**
 * A request's named inputs in the model's input order; every model input exactly once.
 * Throws UsageError INPUT_UNKNOWN / INPUT_MISSING naming the model's inputs.
 */
export function orderInputs<T extends { name: string }>(inputs: T[], io: ModelIo): T[] {
  const byName = new Map(inputs.map((input) => [input.name, input]));
  const modelNames = io.inputs.map((t) => t.name);
  const unknown = inputs.filter((input) => !modelNames.includes(input.name)).map((input) => input.name);
  const missing = modelNames.filter((name) => !byName.has(name));
  const listing = `the model's inputs, in order: ${modelNames.join(', ')}`;
  if (unknown.length > 0) {
    throw new UsageError('INPUT_UNKNOWN', `the model has no input named ${unknown.map((n) => `'${n}'`).join(', ')}${missing.length ? `; missing ${missing.map((n) => `'${n}'`).join(', ')}` : ''}`, { hint: listing });
  }
  if (missing.length > 0) {
    throw new UsageError('INPUT_MISSING', `no data given for model input ${missing.map((n) => `'${n}'`).join(', ')}`, { hint: listing });
  }
  return io.inputs.map((t) => byName.get(t.name)!);
}

function inOrder(tensors: RunJointTensor[]): boolean {
  return tensors.every((t, i) => t.index === i);
}

function lastLine(text: string): string | undefined {
  const lines = text.split('\n').map((l) => l.trim()).filter(Boolean);
  return lines[lines.length - 1];
}
