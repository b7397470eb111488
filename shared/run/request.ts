/**
 * A run as its requester states it: the same on the host (AgentClient, agentless SSH) and in
 * the agent's run service, and checked by both with checkRunRequest below.
 */
import { UsageError } from '../errors';
import { checkBlobHash, checkTensorName } from '../protocol/names';
import { checkExtraArgs } from './args';

export interface RunRequest {
  modelHash: string;
  /** Every model input exactly once, by the name run_joint prints for it. */
  inputs: { name: string; hash: string }[];
  /** Timed inferences (default 1). */
  repeat?: number;
  /** Untimed inferences before them (default 0). */
  warmup?: number;
  /** run_joint's wall-clock limit on the board (default: the agent's, Limits.defaultRunTimeoutMs). */
  timeoutMs?: number;
  /** Extra run_joint options from the allow-list (shared/run/args.ts), e.g. ['--mode', '1_1']. */
  extraArgs?: string[];
}

/** Bounds and the default a run request is checked against (the agent's can be configured). */
export interface RunLimits {
  /** Used when a request gives no time limit (or 0, which the wire cannot tell from none). */
  defaultTimeoutMs: number;
  /** Upper bound of repeat and of warmup. */
  maxRepeat: number;
  /** Upper bound of a request's timeoutMs. */
  maxTimeoutMs: number;
}

export const RUN_LIMITS: RunLimits = { defaultTimeoutMs: 10 * 60 * 1000, maxRepeat: 100_000, maxTimeoutMs: 24 * 60 * 60 * 1000 };

/** A request that passed checkRunRequest, with its defaults filled in. */
export interface RunPlan {
  modelHash: string;
  inputs: { name: string; hash: string }[];
  repeat: number;
  warmup: number;
  timeoutMs: number;
  extra: string[];
  /** `--override_batch_size`, when the extra options set it. */
  overrideBatch: number | null;
}

/**
 * Checks a run request before anything happens on the board, the same way in the agent's run
 * service and in agentless SSH (docs/parts/agent-core.md, "Runs"): every model input once by a
 * tensor name that cannot act as a path, blob names that are sha256s, repeat 1…maxRepeat
 * (default 1), warmup 0…maxRepeat, a time limit of 1 ms…maxTimeoutMs, extra run_joint options
 * from the allow-list only. As on the wire (proto3 has no "unset"), repeat 0 and timeoutMs 0
 * mean the default. Throws UsageError BAD_REQUEST, BAD_HASH, BAD_TENSOR_NAME, INPUT_DUPLICATE,
 * BAD_REPEAT, BAD_WARMUP, BAD_TIMEOUT, OPTION_* (args.ts).
 */
export function checkRunRequest(req: RunRequest, limits: RunLimits = RUN_LIMITS): RunPlan {
  if (typeof req !== 'object' || req === null || !Array.isArray(req.inputs)) {
    throw new UsageError('BAD_REQUEST', 'a run request needs modelHash and an inputs list');
  }
  const modelHash = checkBlobHash(req.modelHash, 'model hash');
  const names = new Set<string>();
  const inputs = req.inputs.map((input, i) => {
    if (typeof input?.name !== 'string') throw new UsageError('BAD_REQUEST', `input #${i + 1} of the run request has no name`);
    checkTensorName(input.name);
    if (names.has(input.name)) throw new UsageError('INPUT_DUPLICATE', `input '${input.name}' is given twice`, { hint: 'give every model input once' });
    names.add(input.name);
    return { name: input.name, hash: checkBlobHash(input.hash, `hash of input '${input.name}'`) };
  });
  const extra = checkExtraArgs(req.extraArgs ?? []);
  const overrideAt = extra.indexOf('--override_batch_size');
  return {
    modelHash,
    inputs,
    repeat: checkWhole('BAD_REPEAT', 'repeat', req.repeat || 1, 1, limits.maxRepeat),
    warmup: checkWhole('BAD_WARMUP', 'warmup', req.warmup ?? 0, 0, limits.maxRepeat),
    timeoutMs: checkWhole('BAD_TIMEOUT', 'timeoutMs', req.timeoutMs || limits.defaultTimeoutMs, 1, limits.maxTimeoutMs),
    extra,
    overrideBatch: overrideAt >= 0 ? Number(extra[overrideAt + 1]) : null,
  };
}

/** `value` if it is a whole number from min to max, else UsageError `code`. */
export function checkWhole(code: string, name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new UsageError(code, `${name} must be a whole number from ${min} to ${max}, got ${String(value)}`);
  }
  return value;
}
